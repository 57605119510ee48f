"""Training reward models with the Single, MultiTask and MORE schemes: configuration, the trainer
and atomic checkpoints."""

"""mooptim: multi-objective optimization for PyTorch training."""

__all__: list[str] = []

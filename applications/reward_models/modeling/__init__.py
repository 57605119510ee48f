"""Reward models: offline backbones, loading and saving with a scalar head, pooling, and scoring."""

"""Reward models trained on several preference sources with MORE (multi-objective reward
learning)."""

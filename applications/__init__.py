"""Applications built on mooptim."""

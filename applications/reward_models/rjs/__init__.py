"""Reject-sampling (best-of-n then SFT) alignment."""

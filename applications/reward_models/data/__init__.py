"""Preference data: canonical pairs, sources, the simulator and sampling."""

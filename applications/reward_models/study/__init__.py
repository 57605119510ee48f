"""Calibration study: MultiTask vs MORE with noise floors, bootstrap CIs and temperature scaling."""

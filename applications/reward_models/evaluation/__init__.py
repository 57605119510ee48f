"""Evaluation of saved reward models: metrics, the evaluator, reports and plots."""

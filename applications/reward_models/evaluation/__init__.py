"""Evaluation of saved reward models: metrics, the one evaluator and metrics.json schema,
reports and plots.

``read_metrics`` / ``write_metrics`` / ``metrics_document`` (:mod:`.schema`) are re-exported
here: every ``metrics.json`` goes through them.
"""

from applications.reward_models.evaluation.schema import (
    SCHEMA_VERSION,
    MetricsSchemaError,
    metrics_document,
    model_ece,
    read_metrics,
    write_metrics,
)

__all__ = [
    "SCHEMA_VERSION",
    "MetricsSchemaError",
    "metrics_document",
    "model_ece",
    "read_metrics",
    "write_metrics",
]

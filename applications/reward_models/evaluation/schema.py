"""The one ``metrics.json`` schema: build, write (atomic, strict JSON) and read it back.

Training (per scheme and per run), the evaluate CLI, ``reproduce`` and RJS all write and read
this layout (documented key by key in ``docs/reward-models/evaluation.md``)::

    {"schema_version": 1,
     "settings": {"split": {"data_seed", "calibration_fraction", "test": {source: rule}}, ...},
     "sources":  {source: {"n_pairs", ...}},
     "models":   {model: {"sources": {source: SOURCE METRICS}, "pooled", "average",
                          "drops", "seconds", "path", "trained_on", ...}},
     "drops":    {"total", "by_source"},          # rows dropped while loading the test data
     "nonfinite": {"models.A.sources.x.ece": why, ...}}

JSON has no NaN or infinity: every non-finite number is written as ``null`` and its key path is
listed under ``"nonfinite"`` with the reason, so a ``null`` is never ambiguous.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from applications.reward_models.files import write_json_atomic

__all__ = [
    "SCHEMA_VERSION",
    "MetricsSchemaError",
    "json_safe",
    "metrics_document",
    "model_ece",
    "read_metrics",
    "write_metrics",
]

SCHEMA_VERSION = 1


class MetricsSchemaError(ValueError):
    """A ``metrics.json`` that is not of this code's schema (old layout, unknown version)."""


def metrics_document(
    models: Mapping[str, Mapping[str, Any]],
    *,
    settings: Mapping[str, Any] | None = None,
    sources: Mapping[str, Mapping[str, Any]] | None = None,
    drops: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``metrics.json`` document for model entries (``evaluator.evaluate_model`` entries).

    ``sources`` defaults to ``{source: {"n_pairs": n}}`` taken from the first model's entries.
    """
    if sources is None:
        first = next(iter(models.values()), {})
        sources = {s: {"n_pairs": row.get("n")} for s, row in first.get("sources", {}).items()}
    return {
        "schema_version": SCHEMA_VERSION,
        "settings": dict(settings or {}),
        "sources": {k: dict(v) for k, v in sources.items()},
        "models": {k: dict(v) for k, v in models.items()},
        "drops": dict(drops or {"total": 0, "by_source": {}}),
    }


def _why(value: float) -> str:
    return "NaN" if math.isnan(value) else ("+inf" if value > 0 else "-inf")


def json_safe(obj: Any, flags: dict[str, str] | None = None, at: str = "") -> Any:
    """``obj`` with every non-finite float replaced by ``None``; ``flags[key.path] = reason``."""
    flags = flags if flags is not None else {}
    if isinstance(obj, float) and not math.isfinite(obj):
        flags[at] = f"{_why(obj)} written as null"
        return None
    if isinstance(obj, Mapping):
        return {k: json_safe(v, flags, f"{at}.{k}" if at else str(k)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v, flags, f"{at}[{i}]") for i, v in enumerate(obj)]
    return obj


def write_metrics(path: str | os.PathLike[str], document: Mapping[str, Any]) -> Path:
    """Write ``document`` atomically as strict JSON (non-finite numbers → ``null``, flagged).

    Raises:
        MetricsSchemaError: ``document`` has no ``schema_version`` of this code.
    """
    if document.get("schema_version") != SCHEMA_VERSION:
        raise MetricsSchemaError(
            f"refusing to write a metrics.json without schema_version {SCHEMA_VERSION} "
            "(build it with evaluation.schema.metrics_document)"
        )
    flags: dict[str, str] = dict(document.get("nonfinite", {}))
    safe = json_safe({k: v for k, v in document.items() if k != "nonfinite"}, flags)
    safe["nonfinite"] = flags
    return write_json_atomic(path, safe, indent=1, allow_nan=False)


def _check(document: Any, where: str) -> None:
    if not isinstance(document, dict) or "schema_version" not in document:
        raise MetricsSchemaError(
            f"{where}: no schema_version, an old or foreign metrics.json layout; re-run the "
            f"evaluation (or training) to write schema {SCHEMA_VERSION}"
        )
    version = document["schema_version"]
    if version != SCHEMA_VERSION:
        raise MetricsSchemaError(
            f"{where}: schema_version {version!r} is not supported (this code reads "
            f"{SCHEMA_VERSION})"
        )
    models = document.get("models")
    if not isinstance(models, dict) or not all(
        isinstance(m, dict) and isinstance(m.get("sources"), dict) for m in models.values()
    ):
        raise MetricsSchemaError(f"{where}: 'models' must map names to entries with 'sources'")


def read_metrics(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A ``metrics.json`` of this schema, validated.

    Raises:
        ValueError: malformed JSON (file and line); MetricsSchemaError (a ValueError): an old
            layout, an unknown ``schema_version`` or a missing ``models`` section.
    """
    text = Path(path).read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}:{err.lineno}: malformed metrics.json ({err.msg})") from err
    _check(document, str(path))
    return document


def model_ece(document: Mapping[str, Any], model: str | None = None) -> tuple[float, str]:
    """A model's ECE: ``models[model].average.ece`` (unweighted mean over its test sources).

    ``model`` may be omitted when the document holds a single model.

    Raises:
        MetricsSchemaError: no such model (or several and none named), or its ECE is ``null``.
    """
    models = document["models"]
    if model is None or model not in models:
        if len(models) != 1:
            raise MetricsSchemaError(
                f"metrics.json holds models {sorted(models)}; name one (got {model!r})"
            )
        model = next(iter(models))
    ece = (models[model].get("average") or {}).get("ece")
    if ece is None:
        why = document.get("nonfinite", {}).get(f"models.{model}.average.ece", "no test source")
        raise MetricsSchemaError(f"model {model!r} has no ECE in metrics.json ({why})")
    return float(ece), f"models.{model}.average.ece"

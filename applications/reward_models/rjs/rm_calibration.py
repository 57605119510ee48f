"""The RM's ECE for the RJS report, through the one evaluator and the one ``metrics.json`` schema.

The ECE is read from the RM's training ``metrics.json`` when present (``<scheme>/metrics.json``
next to ``<scheme>/final``, or inside the checkpoint directory; schema of
:mod:`applications.reward_models.evaluation.schema`, ``models[<scheme>].average.ece`` = the
unweighted mean over test sources of the per-source ECE, symmetrized points, 10 equal-width
bins). Otherwise it is computed on held-out pairs with the same evaluator
(:func:`evaluation.scorer.evaluate_model`). A ``metrics.json`` of an old layout is an error, not
a guess.

The RJS table's ECE is the paper's: the mean over the Helpful and Harmless test sets of the RM's
ECE (:func:`role_ece`, :func:`read_rm_role_ece`); which test sources play those roles is the
pipeline's ``--ece_sources`` (on the simulator, its ``shared`` source for both).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from applications.reward_models.evaluation.schema import (
    metrics_document,
    model_ece,
    read_metrics,
)

__all__ = [
    "compute_rm_ece",
    "read_rm_ece",
    "read_rm_role_ece",
    "rm_metrics",
    "role_ece",
    "source_eces",
]


def _metrics_entry(rm_dir: str | Path) -> tuple[Path, dict[str, Any], str] | None:
    """``(file, document, model name)`` of the first ``metrics.json`` found for ``rm_dir``."""
    rm_dir = Path(rm_dir)
    name = rm_dir.parent.name if rm_dir.name == "final" else rm_dir.name
    for candidate in (rm_dir / "metrics.json", rm_dir.parent / "metrics.json"):
        if candidate.is_file():
            document = read_metrics(candidate)
            if name not in document["models"] and len(document["models"]) == 1:
                name = next(iter(document["models"]))
            return candidate, document, name
    return None


def read_rm_ece(rm_dir: str | Path) -> tuple[float, str] | None:
    """ECE from ``<rm_dir>/metrics.json`` or ``<rm_dir>/../metrics.json`` (first found).

    The model entry is the one named after the run folder (``more`` for ``.../more/final``), or
    the only one in the file.

    Returns:
        ``(ece, "<file>: models.<name>.average.ece")``, or ``None`` when no file exists or the
        model has no test ECE (no test source).

    Raises:
        ValueError: malformed JSON; MetricsSchemaError: an old / unknown layout, or a file of
            several models none of which is this run.
    """
    found = _metrics_entry(rm_dir)
    if found is None:
        return None
    path, document, name = found
    entry = document["models"].get(name)
    if entry is not None and (entry.get("average") or {}).get("ece") is None:
        return None
    ece, key = model_ece(document, name)
    return ece, f"{path}: {key}"


def role_ece(
    per_source: Mapping[str, float | None], roles: Mapping[str, str]
) -> tuple[float, dict[str, dict[str, Any]]] | None:
    """The paper's RJS-table ECE: the unweighted mean over ``roles`` (``role → test source``,
    e.g. ``helpful → hh_helpful``) of the per-source ECE.

    Returns:
        ``(mean, {role: {"source", "ece"}})``, or ``None`` when a role's source has no ECE.

    Raises:
        ValueError: ``roles`` is empty.
    """
    if not roles:
        raise ValueError("no test source to average the ECE over")
    values = {role: per_source.get(source) for role, source in roles.items()}
    if any(v is None for v in values.values()):
        return None
    detail = {role: {"source": roles[role], "ece": float(v)} for role, v in values.items()}  # type: ignore[arg-type]
    return sum(d["ece"] for d in detail.values()) / len(detail), detail


def source_eces(document: Mapping[str, Any], name: str) -> dict[str, float | None]:
    """``{source: ECE}`` of model ``name`` in a ``metrics.json`` document (``{}`` if absent)."""
    entry = document["models"].get(name) or {}
    return {s: row.get("ece") for s, row in (entry.get("sources") or {}).items()}


def read_rm_role_ece(
    rm_dir: str | Path, roles: Mapping[str, str]
) -> tuple[float, str, dict[str, dict[str, Any]]] | None:
    """:func:`role_ece` from the RM's training ``metrics.json`` (found as by
    :func:`read_rm_ece`): ``(mean, "<file>: models.<name>.sources", per role)``, or ``None``
    when there is no file or it lacks a role's source."""
    found = _metrics_entry(rm_dir)
    if found is None:
        return None
    path, document, name = found
    result = role_ece(source_eces(document, name), roles)
    if result is None:
        return None
    return result[0], f"{path}: models.{name}.sources", result[1]


def rm_metrics(
    model: Any,
    tokenizer: Any,
    pairs_by_source: Mapping[str, Sequence[Any]],
    *,
    name: str = "rm",
    max_length: int = 512,
    batch_size: int = 16,
    bins: Sequence[int] = (5, 10, 20),
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``metrics.json`` document of one RM on held-out pairs (the one evaluator)."""
    from applications.reward_models.evaluation.scorer import evaluate_model

    result = evaluate_model(
        model, tokenizer, pairs_by_source, max_length=max_length, batch_size=batch_size, bins=bins
    )
    return metrics_document({name: result.entry}, settings=settings)


def compute_rm_ece(
    model: Any,
    tokenizer: Any,
    pairs_by_source: dict[str, Sequence[Any]],
    n_bins: int = 10,
    max_length: int = 512,
) -> tuple[float, dict[str, float], int]:
    """ECE of an RM on test pairs, per source and as the unweighted mean over sources (the
    ``average.ece`` of :func:`rm_metrics`, the value :func:`read_rm_ece` reads).

    Pairs whose chosen or rejected response cannot be encoded within ``max_length`` are skipped
    and counted.

    Returns:
        ``(mean ECE, {source: ECE}, number of pairs skipped)``.

    Raises:
        ValueError: no pair of a source can be scored, or no pair at all.
    """
    document = rm_metrics(model, tokenizer, pairs_by_source, max_length=max_length, bins=(n_bins,))
    entry = document["models"]["rm"]
    if not entry["sources"]:
        raise ValueError("no test pair could be scored for the ECE")
    ece, _ = model_ece(document, "rm")
    per_source = {s: row["ece"] for s, row in entry["sources"].items()}
    return ece, per_source, int(entry["drops"]["total"])

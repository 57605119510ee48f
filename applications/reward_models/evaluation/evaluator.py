"""Evaluate saved reward models on preference test sets: metrics.json, Markdown tables, PNG plots.

Usage::

    python -m applications.reward_models.evaluate \\
        --models MultiTask=out/multitask/final MORE=out/more/final \\
        --sources shared verbose concise lists noisy \\
        --output_dir eval/

``--models`` takes ``NAME=PATH`` (or a bare path, named after its folder); ``PATH`` is a
``save_pretrained`` reward-model folder, a training run folder holding ``final/``, a hub id, or a
backbone alias (``minilm``, ``smollm2``: an untrained head). ``--sources`` takes ``NAME``,
``NAME:KIND`` or ``NAME:KIND:PATH`` — ``KIND`` is ``simulator`` (default; ``NAME`` is a simulator
source), a real-data loader (``hh_helpful``, ``hh_harmless``, ``oasst1``, ``webgpt``,
``summarize``; ``PATH`` a local file/folder or hub name), or ``pairs`` (a local file of
canonical ``PreferencePair`` rows: ``prompt``, ``chosen``, ``rejected``, optional ``source``,
``margin``, ``true_prob``).

Test pairs come from :func:`data.splits.load_test_pairs` with the data seed
``--simulator_seed``: the same pairs a training run with that ``simulator_seed`` held out. A
``PATH`` that is one file is read whole as the test file (``SourceSpec.test_path``,
:func:`data.splits.as_test_source`); to score the held-out part of a training file, give the
source's ``holdout_fraction`` as in training (a ``--config`` mapping, the training CLI's
:class:`~..data.source_spec.SourceSpec`).

Outputs in ``--output_dir``: ``metrics.json`` (the one schema of :mod:`.schema`: every number
of :func:`scorer.source_metrics` per model × source, pooled and averaged values, drop counts
and settings with the split rule), ``report.md``
(the paper's Table 3 layout, a calibration table and the reward-difference table), and PNGs:
``reliability.png`` (+ one per source), ``reward_diffs.png``, ``margins.png``,
``accuracy_matrix.png``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import torch

from applications.reward_models.data.schema import DropReport, PreferencePair
from applications.reward_models.data.source_spec import SourceSpec
from applications.reward_models.data.splits import (
    as_test_source,
    configured_specs,
    load_test_pairs,
    split_rule,
)
from applications.reward_models.evaluation import plots, report
from applications.reward_models.evaluation.labels import model_map, parse_model_arg
from applications.reward_models.evaluation.schema import metrics_document, write_metrics
from applications.reward_models.evaluation.scorer import evaluate_model

__all__ = [
    "evaluate",
    "evaluate_models",
    "load_checkpoint",
    "load_eval_pairs",
    "main",
    "parse_model_arg",
    "write_outputs",
]

ModelLoader = Callable[[], tuple[torch.nn.Module, Any]]


def _resolve_checkpoint(path: str) -> str:
    """A loadable name: a checkpoint folder (or a run folder's ``final/``), an alias or hub id."""
    from applications.reward_models.modeling.backbones import resolve_model_name

    expanded = os.path.expanduser(path)
    if not os.path.exists(expanded):
        resolve_model_name(path)  # raises for a missing local path; aliases / hub ids pass
        return path
    if os.path.isdir(expanded) and not os.path.isfile(os.path.join(expanded, "config.json")):
        final = os.path.join(expanded, "final")
        if os.path.isfile(os.path.join(final, "config.json")):
            return final
        raise ValueError(
            f"model path {path!r} is not a reward-model checkpoint (no config.json, no final/)"
        )
    return expanded


def load_checkpoint(path: str, *, trust_remote_code: bool = False) -> tuple[torch.nn.Module, Any]:
    """Load a saved reward model (or a training run folder's ``final/``) and its tokenizer.

    ``trust_remote_code`` lets a hub checkpoint run its own code (off by default).

    Raises:
        ValueError: the path does not exist or holds no checkpoint.
    """
    from applications.reward_models.modeling.reward_model import load_reward_model

    return load_reward_model(_resolve_checkpoint(path), trust_remote_code=trust_remote_code)


def load_eval_pairs(
    sources: Sequence[SourceSpec],
    n_per_source: int | None = 100,
    simulator_seed: int = 0,
    drops: DropReport | None = None,
) -> dict[str, list[PreferencePair]]:
    """Test pairs per source name by the one split rule (:func:`data.splits.load_test_pairs`)
    with data seed ``simulator_seed``: simulator sources generate ``n_per_source`` test pairs
    (500 with ``None``; 100 by default, as training); the others keep a seeded subset of at
    most ``n_per_source`` (all with ``None``). Rows the loaders drop are counted in ``drops``.

    Raises:
        ValueError: duplicated names, unknown simulator source, bad path, or an empty source.
    """
    for s in sources:
        if s.kind == "pairs" and s.path is None and s.test_path is None:
            raise ValueError(
                f"source {s.name!r}: kind 'pairs' needs a file, e.g. {s.name}:pairs:test.jsonl"
            )
        for path in (s.path, s.test_path):
            if s.kind == "pairs" and path is not None and not os.path.exists(path):
                raise ValueError(f"source {s.name!r}: file {path!r} does not exist")
    if not sources:
        raise ValueError("no sources to evaluate on")
    return load_test_pairs(
        [as_test_source(s) for s in sources],
        data_seed=simulator_seed,
        test_pairs=n_per_source,
        drops=drops,
    )


def evaluate_models(
    models: Mapping[str, str | ModelLoader],
    test: Mapping[str, Sequence[PreferencePair]],
    *,
    batch_size: int = 64,
    max_length: int = 192,
    bins: Sequence[int] = (5, 10, 20),
    progress: bool = True,
    trained_on: Mapping[str, str] | None = None,
    trust_remote_code: bool = False,
) -> tuple[dict[str, Any], dict[str, dict[str, torch.Tensor]]]:
    """Score every model on every test set with :func:`scorer.evaluate_model`.

    Models are loaded one at a time (``path`` via :func:`load_checkpoint`, or a callable
    returning ``(model, tokenizer)``) and released after scoring.

    Returns:
        ``(document, diffs)``: the ``metrics.json`` document (:func:`schema.metrics_document`;
        callers add ``settings``) and ``{model: {source: Δ [N]}}``.
    """
    if not models:
        raise ValueError("no models to evaluate")
    entries: dict[str, Any] = {}
    diffs: dict[str, dict[str, torch.Tensor]] = {}
    for mname, spec in models.items():
        start = time.perf_counter()
        if callable(spec):
            model, tok = spec()
        else:
            model, tok = load_checkpoint(spec, trust_remote_code=trust_remote_code)
        result = evaluate_model(
            model,
            tok,
            test,
            max_length=max_length,
            batch_size=batch_size,
            bins=bins,
            progress=progress,
        )
        entries[mname] = {
            "path": spec if isinstance(spec, str) else None,
            "trained_on": (trained_on or {}).get(mname),
            **result.entry,
            "seconds": time.perf_counter() - start,
        }
        diffs[mname] = result.diffs
        del model
    sources = {name: {"n_pairs": len(pairs)} for name, pairs in test.items()}
    return metrics_document(entries, sources=sources), diffs


def write_outputs(
    results: Mapping[str, Any],
    diffs: Mapping[str, Mapping[str, torch.Tensor]],
    output_dir: str,
    *,
    make_plots: bool = True,
    title: str | None = None,
) -> dict[str, str]:
    """Write ``metrics.json`` (atomic, the one schema), ``report.md`` and the PNG plots;
    returns ``{artifact: path}``."""
    os.makedirs(output_dir, exist_ok=True)
    paths = {"metrics": str(write_metrics(os.path.join(output_dir, "metrics.json"), results))}
    paths["report"] = os.path.join(output_dir, "report.md")
    with open(paths["report"], "w", encoding="utf-8") as f:
        f.write(report.evaluation_report(results, title))
    if make_plots:
        paths.update(plots.evaluation_plots(results, diffs, output_dir))
    return paths


def evaluate(
    models: Mapping[str, str | ModelLoader],
    sources: Sequence[SourceSpec],
    output_dir: str,
    *,
    n_per_source: int | None = 100,
    simulator_seed: int = 0,
    batch_size: int = 64,
    max_length: int = 192,
    bins: Sequence[int] = (5, 10, 20),
    trained_on: Mapping[str, str] | None = None,
    make_plots: bool = True,
    progress: bool = True,
    trust_remote_code: bool = False,
) -> dict[str, Any]:
    """Load the test sets (data seed ``simulator_seed``), evaluate every model, write the
    outputs; returns the ``metrics.json`` document."""
    drops = DropReport()
    test = load_eval_pairs(sources, n_per_source, simulator_seed, drops)
    results, diffs = evaluate_models(
        models,
        test,
        batch_size=batch_size,
        max_length=max_length,
        bins=bins,
        progress=progress,
        trained_on=trained_on,
        trust_remote_code=trust_remote_code,
    )
    for s in sources:
        results["sources"][s.name].update(asdict(s))
    results["drops"] = drops.to_dict()
    specs = [as_test_source(s) for s in sources]
    results["settings"] = {
        "split": split_rule(specs, simulator_seed, 0.0),
        "n_per_source": n_per_source,
        "batch_size": batch_size,
        "max_length": max_length,
        "bins": list(bins),
    }
    write_outputs(results, diffs, output_dir, make_plots=make_plots)
    return results


def run_config(config: Any) -> int:
    """Run the evaluation CLI for a parsed :class:`.config.EvalConfig`; returns the exit status
    (2, with one line ``error: ...``, on a bad model, source or file)."""
    try:
        models = model_map(config.models)
        for path in models.values():
            _resolve_checkpoint(path)
        sources = configured_specs(config)
        results = evaluate(
            models,
            sources,
            config.output_dir,
            n_per_source=config.test_pairs_per_source or None,
            simulator_seed=config.simulator_seed,
            batch_size=config.eval_batch_size,
            max_length=config.max_length,
            bins=config.bins,
            trained_on=config.trained_on,
            make_plots=config.plots,
            progress=config.progress,
            trust_remote_code=config.trust_remote_code,
        )
    except (ValueError, ImportError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(report.accuracy_table([results]))
    print(f"outputs written to {config.output_dir}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (options: :class:`.config.EvalConfig`); returns the exit status."""
    from applications.reward_models.cli import run_cli
    from applications.reward_models.evaluation.config import parse_args

    return run_cli(lambda: parse_args(argv), run_config)


if __name__ == "__main__":
    raise SystemExit(main())

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

Outputs in ``--output_dir``: ``metrics.json`` (every number of :func:`metrics.summarize` per
model × source, plus pooled and averaged values, drop counts and settings), ``report.md``
(the paper's Table 3 layout, a calibration table and the reward-difference table), and PNGs:
``reliability.png`` (+ one per source), ``reward_diffs.png``, ``margins.png``,
``accuracy_matrix.png``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

from applications.reward_models.data.schema import DropReport, PreferencePair
from applications.reward_models.evaluation import metrics, plots, report

__all__ = [
    "EvalSource",
    "evaluate",
    "evaluate_models",
    "load_checkpoint",
    "load_eval_pairs",
    "main",
    "parse_model_arg",
    "parse_source_arg",
    "write_outputs",
]

REAL_KINDS = ("hh_helpful", "hh_harmless", "oasst1", "webgpt", "summarize")
KINDS = ("simulator", "pairs", *REAL_KINDS)

ModelLoader = Callable[[], tuple[torch.nn.Module, Any]]


@dataclass(frozen=True)
class EvalSource:
    """A test set: ``name`` (table column), ``kind`` (see module doc), ``path``, ``split``."""

    name: str
    kind: str = "simulator"
    path: str | None = None
    split: str = "test"


def parse_source_arg(text: str) -> EvalSource:
    """``NAME``, ``NAME:KIND`` or ``NAME:KIND:PATH`` → :class:`EvalSource`.

    Raises:
        ValueError: empty name, unknown kind, or a ``pairs`` source without a path.
    """
    parts = [p.strip() for p in text.split(":", 2)]
    name = parts[0]
    kind = parts[1] if len(parts) > 1 and parts[1] else "simulator"
    path = parts[2] if len(parts) > 2 and parts[2] else None
    if not name:
        raise ValueError(f"source {text!r}: empty name")
    if kind not in KINDS:
        raise ValueError(f"source {text!r}: unknown kind {kind!r}; expected one of {KINDS}")
    if kind == "pairs" and path is None:
        raise ValueError(
            f"source {text!r}: kind 'pairs' needs a file, e.g. {name}:pairs:test.jsonl"
        )
    return EvalSource(name=name, kind=kind, path=path)


def parse_model_arg(text: str) -> tuple[str, str]:
    """``NAME=PATH`` → ``(NAME, PATH)``; a bare ``PATH`` is named after its last folder."""
    if "=" in text:
        name, path = (s.strip() for s in text.split("=", 1))
    else:
        path = text.strip()
        parts = [p for p in os.path.normpath(path).split(os.sep) if p]
        name = (
            parts[-2] if len(parts) > 1 and parts[-1] == "final" else (parts[-1] if parts else "")
        )
    if not name or not path:
        raise ValueError(f"model {text!r}: expected NAME=PATH")
    return name, path


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


def load_checkpoint(path: str) -> tuple[torch.nn.Module, Any]:
    """Load a saved reward model (or a training run folder's ``final/``) and its tokenizer.

    Raises:
        ValueError: the path does not exist or holds no checkpoint.
    """
    from applications.reward_models.modeling.reward_model import load_reward_model

    return load_reward_model(_resolve_checkpoint(path))


def _read_pairs_file(source: EvalSource) -> list[PreferencePair]:
    from applications.reward_models.data.io import read_local_rows

    assert source.path is not None
    if not os.path.exists(source.path):
        raise ValueError(f"source {source.name!r}: file {source.path!r} does not exist")
    out = []
    for i, row in enumerate(read_local_rows(source.path, split=source.split), start=1):
        try:
            row = {"source": source.name, **row}
            out.append(PreferencePair.from_dict(row))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{source.path}: row {i}: not a preference pair ({err})") from None
    return out


def _load_real(
    source: EvalSource, n: int | None, seed: int, drops: DropReport
) -> list[PreferencePair]:
    from applications.reward_models.data.sources import SourceSpec, load_pairs

    spec = SourceSpec(
        name=source.name,
        kind=source.kind,
        path=source.path,
        split=source.split,
        max_pairs=n,
        seed=seed,
    )
    return list(load_pairs(spec, drops))


def load_eval_pairs(
    sources: Sequence[EvalSource],
    n_per_source: int | None = 500,
    simulator_seed: int = 0,
    drops: DropReport | None = None,
) -> dict[str, list[PreferencePair]]:
    """Test pairs per source name: simulator, ``n_per_source`` pairs of its test split (500 with
    ``None``); real loaders, a seeded random subset of at most ``n_per_source`` pairs (all with
    ``None``; rows the loader drops are counted in ``drops``); ``pairs`` files, the first
    ``n_per_source`` rows.

    Raises:
        ValueError: duplicated names, unknown simulator source, bad path, or an empty source.
    """
    from applications.reward_models.data.simulator import PreferenceSimulator

    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicated source names in {names}")
    if not sources:
        raise ValueError("no sources to evaluate on")
    drops = drops if drops is not None else DropReport()
    sim_names = [s.name for s in sources if s.kind == "simulator"]
    sim = PreferenceSimulator(simulator_seed, sim_names) if sim_names else None
    out: dict[str, list[PreferencePair]] = {}
    for source in sources:
        if source.kind == "simulator":
            assert sim is not None
            pairs = sim.pairs(source.name, n_per_source or 500, split=source.split)
        elif source.kind == "pairs":
            pairs = _read_pairs_file(source)
        else:
            pairs = _load_real(source, n_per_source, simulator_seed, drops)
        if n_per_source is not None and source.kind == "pairs":
            pairs = pairs[:n_per_source]
        if not pairs:
            raise ValueError(f"source {source.name!r} has no test pairs")
        out[source.name] = pairs
    return out


def evaluate_models(
    models: Mapping[str, str | ModelLoader],
    test: Mapping[str, Sequence[PreferencePair]],
    *,
    batch_size: int = 32,
    max_length: int = 512,
    bins: Sequence[int] = (5, 10, 20),
    progress: bool = True,
    trained_on: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, torch.Tensor]]]:
    """Score every model on every test set and compute :func:`metrics.summarize` for each.

    Models are loaded one at a time (``path`` via :func:`load_checkpoint`, or a callable
    returning ``(model, tokenizer)``) and released after scoring. Over-length pairs (for that
    model's tokenizer) are dropped and counted under ``models[name]["drops"]``.

    Returns:
        ``(results, diffs)``: the ``metrics.json`` dict and ``{model: {source: Δ [N]}}``.
    """
    from applications.reward_models.data.collate import filter_overlength
    from applications.reward_models.modeling.scoring import score_pairs

    if not models:
        raise ValueError("no models to evaluate")
    results: dict[str, Any] = {"models": {}, "sources": {}}
    for name, pairs in test.items():
        results["sources"][name] = {"n_pairs": len(pairs)}
    diffs: dict[str, dict[str, torch.Tensor]] = {}
    for mname, spec in models.items():
        start = time.perf_counter()
        model, tok = spec() if callable(spec) else load_checkpoint(spec)
        drops = DropReport()
        entry: dict[str, Any] = {"path": spec if isinstance(spec, str) else None, "sources": {}}
        if trained_on and mname in trained_on:
            entry["trained_on"] = trained_on[mname]
        diffs[mname] = {}
        for sname, pairs in test.items():
            kept = filter_overlength(list(pairs), tok, max_length, drops)
            if not kept:
                raise ValueError(f"model {mname!r}: every pair of {sname!r} exceeds max_length")
            r_c, r_r = score_pairs(
                model, tok, kept, batch_size=batch_size, max_length=max_length, progress=progress
            )
            d = (r_c - r_r).double()
            truth = [p.true_prob for p in kept]
            tp = torch.tensor(truth, dtype=torch.float64) if None not in truth else None
            entry["sources"][sname] = metrics.summarize(d, tp, bins=bins)
            diffs[mname][sname] = d
        pooled = torch.cat(list(diffs[mname].values()))
        entry["pooled"] = metrics.summarize(pooled, bins=bins)
        per = entry["sources"].values()
        entry["average"] = {
            k: sum(s[k] for s in per) / len(per) for k in ("accuracy", "ece", "brier", "log_loss")
        }
        entry["drops"] = drops.to_dict()
        entry["seconds"] = time.perf_counter() - start
        results["models"][mname] = entry
        del model
    return results, diffs


def write_outputs(
    results: Mapping[str, Any],
    diffs: Mapping[str, Mapping[str, torch.Tensor]],
    output_dir: str,
    *,
    make_plots: bool = True,
    title: str | None = None,
) -> dict[str, str]:
    """Write ``metrics.json``, ``report.md`` and the PNG plots; returns ``{artifact: path}``."""
    os.makedirs(output_dir, exist_ok=True)
    paths: dict[str, str] = {}
    paths["metrics"] = os.path.join(output_dir, "metrics.json")
    with open(paths["metrics"], "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, allow_nan=False)
    lines = [f"# {title or 'Reward-model evaluation'}\n"]
    lines += [
        "## Accuracy (%) per test source and ECE (%, M = 10)\n",
        report.accuracy_table([results]),
    ]
    lines += ["## Calibration\n", report.calibration_table([results])]
    lines += [
        "## Reward differences Δ = r_w − r_l (all sources)\n",
        report.reward_diff_table([results]),
    ]
    paths["report"] = os.path.join(output_dir, "report.md")
    with open(paths["report"], "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    if make_plots:
        paths.update(make_evaluation_plots(results, diffs, output_dir))
    return paths


def make_evaluation_plots(
    results: Mapping[str, Any], diffs: Mapping[str, Mapping[str, torch.Tensor]], output_dir: str
) -> dict[str, str]:
    """The evaluation PNGs (see module doc); returns ``{artifact: path}``."""
    models = results["models"]
    sources = list(results["sources"])
    out = {}
    pooled = {m: models[m]["pooled"]["calibration"]["10"] for m in models}
    out["reliability"] = plots.reliability_diagrams(
        pooled, os.path.join(output_dir, "reliability.png"), "all test sources"
    )
    for s in sources:
        cal = {m: models[m]["sources"][s]["calibration"]["10"] for m in models}
        out[f"reliability_{s}"] = plots.reliability_diagrams(
            cal, os.path.join(output_dir, f"reliability_{_safe(s)}.png"), f"test source: {s}"
        )
    all_d = {m: torch.cat(list(diffs[m].values())) for m in diffs}
    out["reward_diffs"] = plots.reward_diff_boxplots(
        all_d, os.path.join(output_dir, "reward_diffs.png")
    )
    out["margins"] = plots.margin_histograms(all_d, os.path.join(output_dir, "margins.png"))
    trained = {m: models[m]["trained_on"] for m in models if "trained_on" in models[m]}
    rows = list(trained) if trained else list(models)
    labels = [f"{trained[m]} ({m})" if m in trained else m for m in rows]
    matrix = [[models[m]["sources"][s]["accuracy"] for s in sources] for m in rows]
    out["accuracy_matrix"] = plots.accuracy_matrix(
        matrix,
        labels,
        sources,
        os.path.join(output_dir, "accuracy_matrix.png"),
        row_title="reward model trained on" if trained else "reward model",
    )
    return out


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def evaluate(
    models: Mapping[str, str | ModelLoader],
    sources: Sequence[EvalSource],
    output_dir: str,
    *,
    n_per_source: int | None = 500,
    simulator_seed: int = 0,
    batch_size: int = 32,
    max_length: int = 512,
    bins: Sequence[int] = (5, 10, 20),
    trained_on: Mapping[str, str] | None = None,
    make_plots: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Load the test sets, evaluate every model, write the outputs; returns the results dict."""
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
    )
    for s in sources:
        results["sources"][s.name].update(asdict(s))
    results["load_drops"] = drops.to_dict()
    results["settings"] = {
        "n_per_source": n_per_source,
        "simulator_seed": simulator_seed,
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
        models = dict(parse_model_arg(m) for m in config.models)
        for path in models.values():
            _resolve_checkpoint(path)
        if config.sources:
            sources = [parse_source_arg(s) for s in config.sources]
        else:
            from applications.reward_models.data.simulator import PreferenceSimulator

            names = PreferenceSimulator(config.simulator_seed).source_names
            sources = [EvalSource(n) for n in names]
        results = evaluate(
            models,
            sources,
            config.output_dir,
            n_per_source=config.n_per_source or None,
            simulator_seed=config.simulator_seed,
            batch_size=config.eval_batch_size,
            max_length=config.max_length,
            bins=config.bins,
            trained_on=config.trained_on,
            make_plots=config.plots,
            progress=config.progress,
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

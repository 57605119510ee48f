"""Reproduce the MORE paper's comparison at small scale: train, evaluate, tabulate, plot.

Usage::

    python -m applications.reward_models.reproduce --output_dir outputs/reproduce
    python -m applications.reward_models.reproduce --seeds 0 1 2            # mean ± std
    python -m applications.reward_models.reproduce --sweep sources          # paper Fig. 6
    python -m applications.reward_models.reproduce --sweep size --sizes 250 500 1000 2000
    python -m applications.reward_models.reproduce --sweep backbone --backbones minilm smollm2

Main comparison (per seed, on the same sources and data): **Raw** (the backbone with an
untrained, seeded reward head), **Single-<source>** (one model per source, trained on that
source alone), **MultiTask** (uniform mixture of all sources) and **MORE** (MGDA min-norm
weights per source). Every model is evaluated on every source's test pairs
(:mod:`.evaluate`); the outputs are ``seed<k>/eval/`` (metrics.json, report.md, plots) per seed
and ``report.md`` (the paper's Table 3 layout etc., mean ± std over seeds) at the top.

Sweeps (``--sweep``, MultiTask vs MORE, each writes ``sweep_<name>.md`` + ``sweep_<name>.png``):

* ``sources`` — K = 2 … len(sources) mixed sources, adding one at a time in the order given
  (the first source is the shared-preference one); metric: ECE on the first source (Fig. 6);
* ``size`` — training pairs per source (``--sizes``); metrics: mean accuracy and ECE;
* ``backbone`` — ``--backbones`` (e.g. ``minilm`` 22M encoder vs ``smollm2`` 135M decoder).

Training goes through :func:`applications.reward_models.training.run.run` in-process; any
training option can be overridden with ``--set key=value`` (converted by the option's type,
dotted keys for nested options: ``--set more.ema_alpha=0.9``). Options: :class:`ReproduceSettings`
(``--config file.yaml`` too, as for every entry point). Seeds vary the training seed (head
initialization, batch order); the data (``simulator_seed``) stays fixed so that seeds measure
training noise.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from applications.reward_models.cli import key_value, one_of, option, parse, positive, run_cli
from applications.reward_models.data.source_spec import SourceSpec
from applications.reward_models.data.split_config import SplitConfig
from applications.reward_models.evaluation import report
from applications.reward_models.evaluation.schema import json_safe
from applications.reward_models.sections import ModelConfig, OptimConfig, ScoringConfig

__all__ = ["ReproduceSettings", "main", "parse_args", "run_comparison", "run_sweep"]

DEFAULT_SOURCES = ("shared", "verbose", "concise", "lists", "noisy")


SCHEMES = ("raw", "single", "multitask", "more")
SWEEPS = ("none", "sources", "size", "backbone")
PROG = "python -m applications.reward_models.reproduce"
DESCRIPTION = (
    "Train Raw / Single / MultiTask / MORE reward models on the same data, evaluate all, write "
    "the paper-style report and plots (and optional sweeps)."
)


@dataclass(kw_only=True)
class ReproduceSettings(OptimConfig, ScoringConfig, ModelConfig, SplitConfig):
    """What to train and evaluate (see the module doc and each option's help).

    The data, model, scoring and optimization sections are the training CLI's (same options,
    same defaults, passed to every training run) except ``max_steps``: 50 instead of 100, so that
    the eight models train on a CPU (``--max_steps 100`` gives the training CLI's runs;
    ``--pairs_per_source 16`` the paper's batch).
    """

    max_steps: int = option(
        50, help="training steps per model (train's default: 100)", check=positive
    )
    output_dir: str = option("outputs/reproduce", help="root of all outputs")
    seeds: list[int] = option(factory=lambda: [0], help="training seeds; one comparison each")
    sources: list[str] = option(
        factory=lambda: list(DEFAULT_SOURCES),
        help="simulator sources (the first one is the shared-preference source)",
    )
    schemes: list[str] = option(
        factory=lambda: list(SCHEMES),
        help="subset of raw, single, multitask, more",
        check=one_of(lambda: SCHEMES),
    )
    overrides: dict[str, Any] = option(
        factory=dict,
        parse=key_value,
        aliases=("--set",),
        metavar="KEY=VALUE",
        help="extra training options, e.g. more.ema_alpha=0.9 (any train option)",
    )
    resume: bool = option(False, help="reuse finished runs instead of retraining")
    progress: bool = option(True, help="show progress bars")
    sweep: str = option(
        "none",
        help="also run a sweep: none, sources, size or backbone",
        check=one_of(lambda: SWEEPS),
    )
    sizes: list[int] = option(
        factory=lambda: [250, 500, 1000, 2000],
        help="training pairs per source of the size sweep",
        check=positive,
    )
    backbones: list[str] = option(
        factory=lambda: ["minilm", "smollm2"], help="backbones of the backbone sweep"
    )
    skip_comparison: bool = option(False, help="only run the sweep")


LABELS = {"multitask": "MultiTask", "more": "MORE", "raw": "Raw"}
_SECTIONS = (SplitConfig, ModelConfig, ScoringConfig, OptimConfig)
"""The training CLI's sections a reproduction passes to every training run."""


def _train_config(s: ReproduceSettings, **changes: Any) -> Any:
    """A validated TrainConfig for these settings (no test split: we evaluate ourselves)."""
    from applications.reward_models.training.config import from_dict

    sources = changes.pop("sources", s.sources)
    shared = [f.name for cls in _SECTIONS for f in dataclasses.fields(cls)]
    data: dict[str, Any] = {name: getattr(s, name) for name in shared}
    data.update(
        sources=[{"name": n, "test_split": None} for n in sources],
        test_pairs_per_source=0,
        progress_bar=s.progress,
    )
    return from_dict({**data, **s.overrides, **changes})


def _finished(run_dir: str) -> bool:
    return os.path.isfile(os.path.join(run_dir, "final", "config.json"))


def _train(config: Any, schemes: Sequence[str], resume: bool) -> dict[str, str]:
    """Train ``schemes`` (one ``train.run`` call each, or one for multitask+more); returns
    ``{scheme: run_dir}``."""
    from applications.reward_models.training.run import run

    dirs = {sc: os.path.join(config.output_dir, sc) for sc in schemes}
    todo = [sc for sc in schemes if not (resume and _finished(dirs[sc]))]
    # Resuming continues a partial run in output_dir; retraining replaces it (train refuses a
    # fresh run into an earlier run's folder). At most one run() call below when retraining.
    config.resume, config.overwrite_output_dir = resume, not resume
    if set(todo) == {"multitask", "more"}:
        config.scheme = "all"
        run(config)
    else:
        for sc in todo:
            config.scheme = sc
            run(config)
    return dirs


def _raw_loader(model: str, seed: int) -> Callable[[], tuple[Any, Any]]:
    def load() -> tuple[Any, Any]:
        import torch

        from applications.reward_models.modeling.reward_model import load_reward_model

        torch.manual_seed(seed)  # the fresh head's initialization
        return load_reward_model(model)

    return load


def _split_specs(sources: Sequence[str]) -> list[SourceSpec]:
    return [SourceSpec(n) for n in sources]


def _test_pairs(s: ReproduceSettings, sources: Sequence[str]) -> dict[str, list]:
    """The test pairs of the one split rule (data seed ``simulator_seed``, as in training)."""
    from applications.reward_models.data.splits import load_test_pairs

    return load_test_pairs(
        _split_specs(sources), data_seed=s.simulator_seed, test_pairs=s.test_pairs_per_source
    )


def _settings(s: ReproduceSettings, sources: Sequence[str], **extra: Any) -> dict[str, Any]:
    """``metrics.json`` settings: the split rule (data seed) and the run's sizes."""
    from applications.reward_models.data.splits import split_rule

    return {
        "split": split_rule(_split_specs(sources), s.simulator_seed, 0.0),
        "model": s.model,
        "sources": list(sources),
        "test_pairs_per_source": s.test_pairs_per_source,
        "max_length": s.max_length,
        **extra,
    }


def _log(msg: str) -> None:
    print(f"[reproduce {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run_seed(s: ReproduceSettings, seed: int) -> dict[str, Any]:
    """Train and evaluate every scheme of ``s`` for one seed; returns the evaluation results."""
    bad = [x for x in s.schemes if x not in SCHEMES]
    if bad:
        raise ValueError(f"unknown schemes {bad}; expected a subset of {SCHEMES}")
    root = os.path.join(s.output_dir, f"seed{seed}")
    models: dict[str, Any] = {}
    trained_on: dict[str, str] = {}
    if "raw" in s.schemes:
        models["Raw"] = _raw_loader(s.model, seed)
    if "single" in s.schemes:
        for src in s.sources:
            _log(f"seed {seed}: training Single on {src}")
            cfg = _train_config(
                s, seed=seed, single_source=src, output_dir=os.path.join(root, f"single_{src}")
            )
            run_dir = _train(cfg, ["single"], s.resume)["single"]
            models[f"Single-{src}"] = os.path.join(run_dir, "final")
            trained_on[f"Single-{src}"] = src
    mixed = [x for x in ("multitask", "more") if x in s.schemes]
    if mixed:
        _log(f"seed {seed}: training {', '.join(LABELS[m] for m in mixed)}")
        cfg = _train_config(s, seed=seed, output_dir=os.path.join(root, "mixed"))
        for sc, run_dir in _train(cfg, mixed, s.resume).items():
            models[LABELS[sc]] = os.path.join(run_dir, "final")
    _log(f"seed {seed}: evaluating {len(models)} models")
    from applications.reward_models.evaluation.evaluator import evaluate_models, write_outputs

    results, diffs = evaluate_models(
        models,
        _test_pairs(s, s.sources),
        batch_size=s.eval_batch_size,
        max_length=s.max_length,
        progress=s.progress,
        trained_on=trained_on,
    )
    results["settings"] = _settings(s, s.sources, seed=seed)
    write_outputs(results, diffs, os.path.join(root, "eval"), title=f"seed {seed}")
    return results


def run_comparison(s: ReproduceSettings) -> str:
    """The main comparison over all seeds; writes and returns the path of ``report.md``."""
    all_results = [run_seed(s, seed) for seed in s.seeds]
    seeds = ", ".join(map(str, s.seeds))
    text = [
        "# MORE reproduction (small scale)\n",
        f"Backbone `{s.model}`, simulator sources {', '.join(s.sources)}, {s.max_steps} steps of "
        f"{len(s.sources)} × {s.pairs_per_source} pairs, {s.train_pairs_per_source} training / "
        f"{s.test_pairs_per_source} test pairs per source, seeds {seeds}"
        + (" (mean ± std)" if len(s.seeds) > 1 else "")
        + ".\n",
        "## Accuracy (%) and ECE (%, M = 10) — the paper's Table 3 layout\n",
        report.accuracy_table(all_results),
        "## Calibration\n",
        report.calibration_table(all_results),
        "## Reward differences (the paper's Table 1)\n",
        report.reward_diff_table(all_results),
        f"Plots (seed {s.seeds[-1]}): `seed{s.seeds[-1]}/eval/*.png`.\n",
    ]
    path = os.path.join(s.output_dir, "report.md")
    os.makedirs(s.output_dir, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(text))
    with open(os.path.join(s.output_dir, "results.json"), "w", encoding="utf-8") as f:
        json.dump([json_safe(r) for r in all_results], f, indent=1, allow_nan=False)
    return path


def _evaluate_runs(
    s: ReproduceSettings, dirs: dict[str, str], sources: Sequence[str]
) -> dict[str, Any]:
    """The ``metrics.json`` document of the trained ``{scheme: run_dir}`` on ``sources``."""
    from applications.reward_models.evaluation.evaluator import evaluate_models

    results, _ = evaluate_models(
        {LABELS[sc]: os.path.join(d, "final") for sc, d in dirs.items()},
        _test_pairs(s, sources),
        batch_size=s.eval_batch_size,
        max_length=s.max_length,
        progress=s.progress,
    )
    results["settings"] = _settings(s, sources)
    return results


def _sweep_points(s: ReproduceSettings, kind: str, values: Sequence[Any] | None) -> list[Any]:
    """The x values of sweep ``kind``; raises ValueError for an unknown sweep or no values."""
    if kind == "sources":
        if len(s.sources) < 2:
            raise ValueError("the sources sweep needs at least 2 sources")
        return list(values or range(2, len(s.sources) + 1))
    if kind in ("size", "backbone"):
        if not values:
            raise ValueError(f"the {kind} sweep needs values (--sizes / --backbones)")
        return list(values)
    raise ValueError(f"unknown sweep {kind!r}; expected sources, size or backbone")


def run_sweep(s: ReproduceSettings, kind: str, values: Sequence[Any] | None = None) -> str:
    """One sweep (``sources``, ``size`` or ``backbone``) of MultiTask vs MORE over the seeds.

    Returns the path of ``sweep_<kind>.md`` (table) next to ``sweep_<kind>.png`` (line plot).
    """
    xs = _sweep_points(s, kind, values)
    schemes = [x for x in ("multitask", "more") if x in s.schemes] or ["multitask", "more"]
    target = s.sources[0]
    keys = {"ece": f"ECE on {target}", "acc": f"accuracy on {target}", "avg_ece": "mean ECE"}
    series: dict[str, dict[str, list[list[float]]]] = {
        k: {LABELS[sc]: [[] for _ in xs] for sc in schemes} for k in keys
    }
    for i, x in enumerate(xs):
        sources = s.sources[:x] if kind == "sources" else s.sources
        change: dict[str, Any] = {"sources": sources}
        if kind == "size":
            change["train_pairs_per_source"] = int(x)
        if kind == "backbone":
            change["model"] = str(x)
        for seed in s.seeds:
            _log(f"sweep {kind}={x} seed {seed}")
            out = os.path.join(s.output_dir, f"sweep_{kind}", f"{x}", f"seed{seed}")
            cfg = _train_config(s, seed=seed, output_dir=out, **change)
            results = _evaluate_runs(s, _train(cfg, schemes, s.resume), sources)
            for sc in schemes:
                entry = results["models"][LABELS[sc]]
                row = entry["sources"][target]
                series["ece"][LABELS[sc]][i].append(row["ece"])
                series["acc"][LABELS[sc]][i].append(row["accuracy"])
                series["avg_ece"][LABELS[sc]][i].append(entry["average"]["ece"])
    x_name = {"sources": "K (mixed sources)", "size": "training pairs per source"}.get(
        kind, "backbone"
    )
    text = [f"# Sweep: {x_name}\n", f"Seeds {', '.join(map(str, s.seeds))}; mean ± std.\n"]
    for k, label in keys.items():
        text += [f"## {label}\n", report.sweep_table(x_name, xs, series[k])]
    base = os.path.join(s.output_dir, f"sweep_{kind}")
    os.makedirs(s.output_dir, exist_ok=True)
    with open(base + ".md", "w", encoding="utf-8") as f:
        f.write("\n".join(text))
    from applications.reward_models.evaluation import plots

    plots.sweep_plot(
        x_name,
        xs,
        series["ece"],
        base + ".png",
        keys["ece"],
        log_x=kind == "size",
    )
    with open(base + ".json", "w", encoding="utf-8") as f:
        json.dump(json_safe({"x": xs, "series": series}), f, indent=1, allow_nan=False)
    return base + ".md"


def parse_args(argv: Sequence[str] | None = None) -> ReproduceSettings:
    """``argv`` (default ``sys.argv[1:]``) → checked :class:`ReproduceSettings`.

    Raises:
        ConfigError: see :func:`applications.reward_models.cli.parse`.
    """
    return parse(ReproduceSettings, argv, PROG, DESCRIPTION)


def run_settings(s: ReproduceSettings) -> int:
    """Run the comparison and/or the sweep of ``s``; prints the reports; returns 0."""
    _train_config(s, seed=0, output_dir=s.output_dir)  # fail fast on a bad configuration
    start = time.perf_counter()
    if not s.skip_comparison:
        path = run_comparison(s)
        with open(path, encoding="utf-8") as f:
            print(f.read())
    if s.sweep != "none":
        values = {"sources": None, "size": s.sizes, "backbone": s.backbones}[s.sweep]
        path = run_sweep(s, s.sweep, values)
        with open(path, encoding="utf-8") as f:
            print(f.read())
    _log(f"done in {time.perf_counter() - start:.0f} s; outputs in {s.output_dir}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status (2, one line ``error: ...``, on bad options)."""

    def run(s: ReproduceSettings) -> int:
        try:
            return run_settings(s)
        except (ValueError, TypeError, ImportError, OSError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2

    return run_cli(lambda: parse_args(argv), run)


if __name__ == "__main__":
    raise SystemExit(main())

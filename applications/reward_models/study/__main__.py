"""``python -m applications.reward_models.study``: train, measure, write study.json and study.md.

For every seed, every variant (:mod:`.variants`: the schemes and the ablations) trains on the
same data (:mod:`.splits`) with the same pairs per step; ``backbone=frozen`` (default) trains
reward heads on features encoded once (:mod:`.features`, :mod:`.head`), ``finetune`` the last
blocks with the full trainer (:mod:`.training`). The reward differences go through
:mod:`.analysis`; :mod:`.report` renders the Markdown.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from applications.reward_models.cli import run_cli
from applications.reward_models.files import write_text_atomic
from applications.reward_models.study.analysis import compare, comparison_pairs, results
from applications.reward_models.study.config import StudyConfig, parse_args
from applications.reward_models.study.head import HeadRun
from applications.reward_models.study.report import markdown_report
from applications.reward_models.study.scored import Scored, weight_summary
from applications.reward_models.study.splits import StudySplits, load_study_splits
from applications.reward_models.study.variants import Variant, comparisons, study_variants

__all__ = ["SCHEMA_VERSION", "main", "run", "summarize"]

SCHEMA_VERSION = 1


def summarize(
    config: StudyConfig,
    scores: Mapping[str, Sequence[Mapping[str, Scored]]],
    *,
    pairs: Sequence[tuple[str, str]] | None = None,
    runs: Mapping[str, Sequence[HeadRun]] | None = None,
) -> dict[str, Any]:
    """The ``study.json`` dict from reward differences (no training: testable on its own).

    ``pairs``: the comparisons (default: ``more`` − each other scheme); ``runs``: the trained
    runs, whose curves and λ statistics become ``curves`` and ``weights``.
    """
    first = next(iter(scores.values()))
    sources = list(first[0])
    pairs = comparison_pairs(list(scores)) if pairs is None else pairs
    study: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "config": dataclasses.asdict(config),
        "seeds": list(range(len(first))),
        "schemes": list(scores),
        "sources": sources,
        "results": results(scores, config.n_bins, config.n_boot, config.n_sim, config.progress),
        "comparisons": {
            f"{a}-{b}": compare(scores, a, b, config.n_bins, config.n_boot) for a, b in pairs
        },
    }
    if runs is not None:
        study["curves"] = {v: {str(s): r.curve for s, r in enumerate(rs)} for v, rs in runs.items()}
        study["weights"] = {
            v: {
                str(s): weight_summary(r.weights, r.grad_shares, sources)
                for s, r in enumerate(rs)
                if len(r.weights)
            }
            for v, rs in runs.items()
        }
    return study


def _check_fits(data: StudySplits, tokenizer: object, max_length: int) -> None:
    """Raise if a simulator pair would be dropped as over-length (the study keeps every pair)."""
    from applications.reward_models.data.collate import filter_overlength
    from applications.reward_models.data.schema import DropReport

    drops = DropReport()
    for split in (data.train, data.calibration, data.test):
        for pairs in split.values():
            filter_overlength(pairs, tokenizer, max_length, drops)
    if drops.counts:
        raise ValueError(f"pairs longer than max_length={max_length}: {drops.summary()}")


def _resampled(config: StudyConfig, data: StudySplits) -> StudyConfig:
    """Every scheme sees the same distribution: sources of unequal size are all resampled to
    the largest (unless ``resample_to`` is set)."""
    sizes = {len(p) for p in data.train.values()}
    if config.resample_to is None and len(sizes) > 1:
        return dataclasses.replace(config, resample_to=max(sizes))
    return config


def _train_all(config: StudyConfig, variants: list[Variant], data: StudySplits):
    from tqdm.auto import tqdm

    from applications.reward_models.study.head import train_head
    from applications.reward_models.study.variants import train_config
    from applications.reward_models.training.schemes import resolve_scheme

    runs: dict[str, list[HeadRun]] = {v.name: [] for v in variants}
    table = None
    if config.backbone == "frozen":
        table = _features(config, data)
    curve = {n: p[: config.curve_pairs] for n, p in data.test.items()}
    total = config.seeds * len(variants) * config.max_steps
    with tqdm(total=total, desc="training", unit="step", disable=not config.progress) as bar:
        for seed in range(config.seeds):
            for v in variants:
                bar.set_postfix(model=f"{v.name} seed {seed}")
                if table is None:
                    from applications.reward_models.study.training import train_and_score

                    runs[v.name].append(train_and_score(config, v, seed, data))
                    bar.update(config.max_steps)
                    continue
                settings = train_config(config, v, seed, data.names)
                scheme = resolve_scheme(v.scheme, settings)
                runs[v.name].append(
                    train_head(settings, scheme, table, data, curve, config.eval_every, bar)
                )
    return runs


def _features(config: StudyConfig, data: StudySplits):
    from applications.reward_models.study.features import encode_pairs

    everything = [
        p
        for split in (data.train, data.calibration, data.test)
        for ps in split.values()
        for p in ps
    ]
    cache = config.feature_cache or os.path.join(config.output_dir, "features.pt")
    table = encode_pairs(
        everything,
        config.model,
        max_length=config.max_length,
        batch_size=config.eval_batch_size,
        cache=cache,
        progress=config.progress,
    )
    return table.standardized([p for ps in data.train.values() for p in ps])


def run(config: StudyConfig) -> dict[str, Any]:
    """Train every variant for every seed; write and return ``study.json`` (and ``study.md``)."""
    from transformers.utils import logging as hf_logging

    from applications.reward_models.modeling.reward_model import load_tokenizer

    hf_logging.set_verbosity_error()
    start = time.perf_counter()
    tokenizer = load_tokenizer(config.model)
    data = load_study_splits(config, tokenizer)
    if not config.sources:
        _check_fits(data, tokenizer, config.max_length)
    config = _resampled(config, data)
    variants = study_variants(config, data.names)
    runs = _train_all(config, variants, data)
    trained = time.perf_counter()
    scores = {name: [r.scored for r in rs] for name, rs in runs.items()}
    study = summarize(config, scores, pairs=comparisons(variants), runs=runs)
    study["calibration_pairs_removed"] = data.removed
    study["drops"] = data.drops
    study["seconds"] = {
        "training": trained - start,
        "analysis": time.perf_counter() - trained,
    }
    _write(config, study)
    return study


def _write(config: StudyConfig, study: dict[str, Any]) -> None:
    from applications.reward_models.study.plots import study_plots

    os.makedirs(config.output_dir, exist_ok=True)
    write_text_atomic(os.path.join(config.output_dir, "study.json"), json.dumps(study, indent=2))
    plots = study_plots(study, os.path.join(config.output_dir, "plots"))
    report = markdown_report(study, [os.path.relpath(p, config.output_dir) for p in plots])
    write_text_atomic(os.path.join(config.output_dir, "study.md"), report)


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run, print the report; exit code 2 on bad arguments."""

    def execute(config: StudyConfig) -> int:
        print(markdown_report(run(config)))
        return 0

    return run_cli(lambda: parse_args(argv), execute)


if __name__ == "__main__":
    raise SystemExit(main())

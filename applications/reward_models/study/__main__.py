"""``python -m applications.reward_models.study``: train, measure, write study.json and study.md.

Every variant (:mod:`.variants`) trains with every training seed on every data seed, at the same
pairs per step (:mod:`.pipeline`, :mod:`.regime`); the test scores go through the crossed paired
bootstrap (:mod:`.crossed`) and the verdicts (:mod:`.verdicts`, :mod:`.summary`); the validity
gate is printed with every result; :mod:`.report` renders the Markdown.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any

from applications.reward_models.cli import run_cli
from applications.reward_models.study.config import StudyConfig, parse_args

__all__ = ["SCHEMA_VERSION", "analyze", "main", "run"]

SCHEMA_VERSION = 2


def analyze(config: StudyConfig, trained, notes: list[str]) -> dict[str, Any]:
    """The ``study.json`` dict of ``trained`` (:class:`~.pipeline.Trained`)."""
    import numpy as np

    from applications.reward_models.study import summary
    from applications.reward_models.study.crossed import crossed_bootstrap
    from applications.reward_models.study.pipeline import panel_of
    from applications.reward_models.study.variants import PRIMARY, comparisons

    panel = panel_of(trained)
    names = trained.variants
    reps = crossed_bootstrap(panel, config.n_bins, config.n_boot, seed=0)
    floors = summary.noise_floors(panel, config.n_bins, config.n_sim)
    study: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "config": dataclasses.asdict(config),
        "variants": names,
        "notes": notes,
        "sources": trained.splits[0].names,
        "sizes": [
            {
                "train": {n: len(p) for n, p in s.train.items()},
                "calibration": {n: len(p) for n, p in s.calibration.items()},
                "test": {n: len(p) for n, p in s.test.items()},
            }
            for s in trained.splits
        ],
        "calibration_pairs_removed": [s.removed for s in trained.splits],
        "drops": trained.splits[0].drops,
        "metrics": summary.metric_intervals(reps, names, 1 - config.alpha),
        "noise_floor": floors,
        "temperature": {v: float(np.mean(panel.temperatures_of(v))) for v in names},
        "comparisons": summary.comparisons(
            reps, names, comparisons(names), PRIMARY, alpha=config.alpha, margin=config.margin
        ),
        "logs": summary.logs(trained.runs, trained.splits[0].names, config.eval_every),
        "curves": summary.curves(trained.runs),
    }
    if "multitask" in names:
        study["gate"] = summary.gate(
            float(reps.estimate["ece"][names.index("multitask")]), floors["multitask"],
            panel.temperatures_of("multitask"), config.gate_temperature, config.gate_floor_ratio,
        )  # fmt: skip
    return study


def run(config: StudyConfig) -> dict[str, Any]:
    """Train every variant for every seed; write and return ``study.json`` (and ``study.md``)."""
    from transformers.utils import logging as hf_logging

    from applications.reward_models.files import write_text_atomic
    from applications.reward_models.modeling.reward_model import load_tokenizer
    from applications.reward_models.study.pipeline import train_all
    from applications.reward_models.study.report import markdown_report
    from applications.reward_models.study.variants import available

    hf_logging.set_verbosity_error()
    start = time.perf_counter()
    notes: list[str] = []

    def say(line: str) -> None:
        print(line)
        notes.append(line)

    variants = available(config.variants, config.pairs_per_source, say)
    trained = train_all(config, variants, load_tokenizer(config.model))
    done = time.perf_counter()
    study = analyze(config, trained, notes)
    study["seconds"] = {
        "encoding": trained.encoding_seconds,
        "training": done - start - trained.encoding_seconds,
        "analysis": time.perf_counter() - done,
    }
    os.makedirs(config.output_dir, exist_ok=True)
    write_text_atomic(os.path.join(config.output_dir, "study.json"), json.dumps(study, indent=2))
    write_text_atomic(os.path.join(config.output_dir, "study.md"), markdown_report(study))
    from applications.reward_models.study.plots import study_plots

    study_plots(study, os.path.join(config.output_dir, "plots"))
    return study


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run, print the report; exit code 2 on bad arguments."""

    def execute(config: StudyConfig) -> int:
        from applications.reward_models.study.report import markdown_report

        print(markdown_report(run(config)))
        return 0

    return run_cli(lambda: parse_args(argv), execute)


if __name__ == "__main__":
    raise SystemExit(main())

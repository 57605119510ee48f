"""``python -m applications.reward_models.study``: train, measure, write study.json and study.md.

For every seed, every scheme trains on the same data (:mod:`.splits`); the trained models'
reward differences go through :mod:`.analysis`; :mod:`.report` renders the Markdown.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Any

from applications.reward_models.study.analysis import compare, comparison_pairs, results
from applications.reward_models.study.config import StudyConfig, parse_args
from applications.reward_models.study.report import markdown_report
from applications.reward_models.study.splits import build_splits
from applications.reward_models.study.training import Scored, train_and_score

__all__ = ["SCHEMA_VERSION", "main", "run", "summarize"]

SCHEMA_VERSION = 1


def summarize(config: StudyConfig, scores: dict[str, list[dict[str, Scored]]]) -> dict[str, Any]:
    """The ``study.json`` dict from reward differences (no training: testable on its own)."""
    first = next(iter(scores.values()))
    return {
        "schema_version": SCHEMA_VERSION,
        "config": dataclasses.asdict(config),
        "seeds": list(range(len(first))),
        "schemes": list(scores),
        "sources": list(first[0]),
        "results": results(scores, config.n_bins, config.n_boot, config.n_sim),
        "comparisons": {
            f"{a}-{b}": compare(scores, a, b, config.n_bins, config.n_boot)
            for a, b in comparison_pairs(list(scores))
        },
    }


def _write(path: str, text: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)  # atomic: a reader never sees half a file


def run(config: StudyConfig) -> dict[str, Any]:
    """Train every scheme for every seed, write ``study.json`` and ``study.md``, return the dict."""
    data = build_splits(
        config.simulator,
        config.simulator_seed,
        config.train_pairs,
        config.calibration_pairs,
        config.test_pairs,
    )
    scores: dict[str, list[dict[str, Scored]]] = {s: [] for s in config.schemes}
    for seed in range(config.seeds):
        for scheme in config.schemes:
            scores[scheme].append(train_and_score(config, scheme, seed, data))
    study = summarize(config, scores)
    study["calibration_pairs_removed"] = data.removed
    os.makedirs(config.output_dir, exist_ok=True)
    _write(os.path.join(config.output_dir, "study.json"), json.dumps(study, indent=2))
    _write(os.path.join(config.output_dir, "study.md"), markdown_report(study))
    return study


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run, print the report; exit code 2 on bad arguments."""
    try:
        config = parse_args(argv)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    study = run(config)
    print(markdown_report(study))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

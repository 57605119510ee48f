"""Draw the illustration plots of docs/reward-models/evaluation.md (synthetic reward models).

Three synthetic reward models score the simulator's test pairs with a known true preference
probability t: a calibrated one reports the true log-odds Δ = log(t / (1 − t)), an
over-confident one 4 Δ, an under-confident one Δ / 4. All three rank every pair alike (same
accuracy) and differ only in calibration.

    PYTHONPATH=. python docs/assets/plots/make_illustrations.py docs/assets/plots
"""

from __future__ import annotations

import os
import sys

import torch

from applications.reward_models.data.simulator import PreferenceSimulator
from applications.reward_models.evaluation import metrics, plots

SOURCES = ("shared", "verbose", "concise")
SCALES = {"calibrated (1×)": 1.0, "over-confident (4×)": 4.0, "under-confident (¼×)": 0.25}


def main(out: str, n: int = 400) -> None:
    sim = PreferenceSimulator(seed=0)
    logit = {}
    for s in SOURCES:
        t = torch.tensor([p.true_prob for p in sim.pairs(s, n, split="test")], dtype=torch.float64)
        logit[s] = torch.log(t / (1 - t))
    diffs = {m: {s: k * logit[s] for s in SOURCES} for m, k in SCALES.items()}
    pooled = {m: torch.cat(list(d.values())) for m, d in diffs.items()}
    cal = {m: metrics.calibration_errors(d["shared"]).to_dict() for m, d in diffs.items()}
    plots.reliability_diagrams(cal, os.path.join(out, "reliability.png"), "test source: shared")
    plots.reward_diff_boxplots(pooled, os.path.join(out, "reward_diffs.png"))
    plots.margin_histograms(pooled, os.path.join(out, "margins.png"))
    acc = [[metrics.preference_accuracy(diffs[m][s]).accuracy for s in SOURCES] for m in SCALES]
    plots.accuracy_matrix(
        acc, list(SCALES), list(SOURCES), os.path.join(out, "accuracy_matrix.png"), "reward model"
    )
    for m in SCALES:
        print(f"{m}: ECE on shared {cal[m]['ece']:.3f}, accuracy {acc[list(SCALES).index(m)]}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")

"""The domain simulator produces the over-rewarding regime; the classic one does not.

A linear MultiTask probe (seconds) stands in for the transformer: on the domain simulator its
gold-ECE, mean |Δ| and over-confidence rise with training; on the classic simulator (today's
default) the same probe stays near-calibrated or under-confident, so this test fails there.
"""

from __future__ import annotations

import pytest

from applications.reward_models.data.simulator import SIMULATOR_PRESETS
from applications.reward_models.study.probe import multitask_curve

STEPS = (0, 50, 800)


def _curve(preset: str):
    sim = SIMULATOR_PRESETS[preset](0)
    train = sim.pairs_by_source(300, "train")
    test = [p for pairs in sim.pairs_by_source(100, "test").values() for p in pairs]
    return {p.step: p for p in multitask_curve(train, test, STEPS, lr=0.05, seed=0)}


@pytest.fixture(scope="module")
def curves():
    return {preset: _curve(preset) for preset in ("classic", "domains")}


def test_multitask_becomes_overconfident_on_the_domain_simulator(curves) -> None:
    c = curves["domains"]
    assert c[0].gold_ece < 1e-12 and c[0].mean_abs_diff == 0.0  # Δ = 0: p = ½, both orderings
    assert c[800].gold_ece > c[50].gold_ece + 0.02
    assert c[800].mean_abs_diff > c[50].mean_abs_diff + 0.5
    assert c[800].overconfidence > 0.05 and c[800].overconfidence > c[50].overconfidence


def test_the_classic_simulator_has_no_overrewarding(curves) -> None:
    c, d = curves["classic"], curves["domains"]
    assert c[800].overconfidence < 0.03
    assert c[800].gold_ece < d[800].gold_ece - 0.03


def test_probe_is_deterministic_and_validates() -> None:
    sim = SIMULATOR_PRESETS["domains"](1, sources=["shared", "clinic"])
    train, test = sim.pairs_by_source(20), sim.pairs("clinic", 10, "test")
    assert multitask_curve(train, test, [3], seed=2) == multitask_curve(train, test, [3], seed=2)
    with pytest.raises(ValueError, match="checkpoints"):
        multitask_curve(train, test, [])
    with pytest.raises(ValueError, match="training pairs"):
        multitask_curve({}, test, [1])

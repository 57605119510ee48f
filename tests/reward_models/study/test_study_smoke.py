"""The smoke preset (``configs/study/smoke.yaml``) runs from scratch with MiniLM: every variant,
two data seeds, the crossed bootstrap, the gate and the report (its numbers mean nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from applications.reward_models.study.__main__ import main

SMOKE = Path(__file__).parents[3] / "applications/reward_models/configs/study/smoke.yaml"


@pytest.mark.slow
def test_the_smoke_preset_runs_from_scratch(tmp_path) -> None:
    out = tmp_path / "smoke"
    assert main(["--config", str(SMOKE), "--output_dir", str(out)]) == 0
    study = json.loads((out / "study.json").read_text())
    assert study["config"]["data_seeds"] == 2 and len(study["sizes"]) == 2
    assert "gate" in study and study["comparisons"]["ece"]
    assert (out / "features.pt").is_file()  # a cache of its own: from scratch

"""The study on local real sources: HH-RLHF files in their original schema, one split rule."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from applications.reward_models.study.__main__ import main


def _hh_rows(subset: str, split: str, n: int) -> list[dict]:
    rows = []
    for i in range(n):
        prompt = f"\n\nHuman: {subset} {split} question number {i} about cooking?"
        rows.append(
            {
                "chosen": f"{prompt}\n\nAssistant: A careful helpful answer {i}.",
                "rejected": f"{prompt}\n\nAssistant: No.",
            }
        )
    rows.append({"chosen": None, "rejected": "broken row"})  # dropped and counted
    return rows


def _write(root: Path, subset: str) -> None:
    for split, n in (("train", 30), ("test", 16)):
        path = root / subset / f"{split}.jsonl.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.writelines(json.dumps(row) + "\n" for row in _hh_rows(subset, split, n))


def test_real_sources_go_through_the_same_command(tmp_path) -> None:
    from applications.reward_models.testing import save_tiny_reward_model

    root = tmp_path / "hh"
    _write(root, "helpful-base")
    _write(root, "harmless-base")
    model = save_tiny_reward_model(str(tmp_path / "tiny"))
    out = tmp_path / "study"
    argv = ["--sources", f"helpful:hh_helpful:{root}", f"harmless:hh_harmless:{root}",
            "--seeds", "2", "--data_seeds", "1", "--max_steps", "3", "--model", model,
            "--held_out_pairs", "16", "--curve_pairs", "2", "--pairs_per_source", "2",
            "--variants", "multitask,balanced_uniform,more", "--hidden", "8,8", "--n_boot", "20",
            "--n_sim", "20", "--progress", "false", "--output_dir", str(out)]  # fmt: skip
    assert main(argv) == 0
    study = json.loads((out / "study.json").read_text())
    assert study["sources"] == ["helpful", "harmless"]
    sizes = study["sizes"][0]
    assert sizes["test"]["helpful"] + sizes["calibration"]["helpful"] == 16
    assert sizes["calibration"]["helpful"] > 0 and sizes["test"]["helpful"] > 0
    assert "gold_ece" not in study["metrics"]  # real data: no gold probability
    # the broken row of each file is counted, not silently dropped
    assert sum(study["drops"]["by_source"]["helpful"].values()) >= 1
    assert "harmless" in (out / "study.md").read_text()

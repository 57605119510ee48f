"""The files of the issue-22 cases of ``scripts/bad_inputs.py`` (reliability round two)."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

ROW = {"chosen": "Human: hi Assistant: hello", "rejected": "Human: hi Assistant: go away"}
ALIAS_BOMB = "".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
        *(
            f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
            for p, n in zip("abcde", "bcdef", strict=True)
        ),
        "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
    ]
)


class _WritesMarker:
    """Unpickling this calls ``open(path, "w")``: what a crafted checkpoint would do."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _checkpoint(run: Path, state: object) -> Path:
    import torch

    from applications.reward_models.training.checkpoint_integrity import write_manifest

    path = run / "multitask" / "checkpoint-0000002"
    path.mkdir(parents=True)
    (path / "model.safetensors").write_bytes(bytes(range(256)) * 16)
    torch.save(state, path / "trainer_state.pt")
    torch.save({"torch": torch.get_rng_state()}, path / "rng_state_0.pt")
    write_manifest(str(path))
    return path


def _source_config(root: Path, name: str, data: Path, **extra: object) -> None:
    source = {"name": "s", "kind": "hh_harmless", "path": str(data), "holdout_fraction": 0.5}
    root.joinpath(f"{name}.yaml").write_text(json.dumps({"sources": [{**source, **extra}]}))


def _data_files(root: Path) -> None:
    rows = "".join(json.dumps(ROW) + "\n" for _ in range(400)).encode()
    good = root / "rows.jsonl"
    good.write_bytes(rows)
    packed = gzip.compress(rows)
    (root / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    (root / "fake.jsonl.gz").write_bytes(rows)
    (root / "deep.jsonl").write_text('{"chosen": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    os.mkfifo(root / "pipe.jsonl")
    for name, data in (
        ("gz_truncated", "cut.jsonl.gz"),
        ("gz_fake", "fake.jsonl.gz"),
        ("deep_json", "deep.jsonl"),
        ("fifo_data", "pipe.jsonl"),
    ):
        _source_config(root, name, root / data)
    for name, word in (("cap_typo", "yse"), ("cap_yes", "yes")):
        _source_config(root, name, good, cap_train=word)
    (root / "rows" / "locked").mkdir(parents=True)
    (root / "rows" / "train.jsonl").write_bytes(rows)
    (root / "rows" / "locked" / "train-2.jsonl").write_bytes(rows)


def make_round_two(root: Path) -> None:
    """Write every file the round-two cases point at into ``root``."""
    earlier = root / "earlier"
    (earlier / "more").mkdir(parents=True)
    (earlier / "config.yaml").write_text("seed: 0\n")
    (earlier / "more" / "metrics.json").write_text('{"models": {}}\n')
    _checkpoint(root / "evil", {"step": 2, "x": _WritesMarker(str(root / "pwned.txt"))})
    flipped = _checkpoint(root / "flipped", {"step": 2})
    weights = bytearray((flipped / "model.safetensors").read_bytes())
    weights[100] ^= 0x01
    (flipped / "model.safetensors").write_bytes(bytes(weights))
    truncated = _checkpoint(root / "truncated", {"step": 2}) / "trainer_state.pt"
    truncated.write_bytes(truncated.read_bytes()[:40])
    (root / "dup.yaml").write_text("max_steps: 1\nseed: 0\nmax_steps: 1000000\n")
    (root / "bomb.yaml").write_text(ALIAS_BOMB)
    (root / "deep.yaml").write_text("learning_rate: " + "[" * 100_000 + "]" * 100_000 + "\n")
    os.mkfifo(root / "fifo.yaml")
    (root / "a_file").write_text("not a folder\n")
    _data_files(root)

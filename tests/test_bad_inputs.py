"""Every bad input of scripts/bad_inputs.py ends as it must: refused with one line naming what is
wrong (or, for the inputs that must be handled, handled), fast, without a traceback."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bad_inputs.py"
_spec = importlib.util.spec_from_file_location("bad_inputs", _SCRIPT)
assert _spec is not None and _spec.loader is not None
bad_inputs = importlib.util.module_from_spec(_spec)
sys.modules["bad_inputs"] = bad_inputs  # dataclasses look their module up
_spec.loader.exec_module(bad_inputs)

_CASES = bad_inputs.cases(Path("scratch"))  # for the ids; each test makes its own files


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(_CASES)), ids=[c.what for c in _CASES])
def test_bad_input_ends_as_it_must(tmp_path: Path, index: int) -> None:
    bad_inputs.make_files(tmp_path)
    case = bad_inputs.cases(tmp_path)[index]
    outcome = bad_inputs.run_case(case)
    assert not outcome.created, f"{case.what}: the crafted file ran code"
    assert not outcome.traceback, f"{case.what}: traceback leaked: {outcome.message}"
    if case.expect == "refused":
        assert outcome.returncode != 0, f"{case.what}: accepted"
    else:
        assert outcome.returncode == 0, f"{case.what}: refused: {outcome.message}"
    assert case.mentions in outcome.message, f"{case.what}: message {outcome.message!r}"
    assert bad_inputs.verdict(outcome) == case.expect
    assert outcome.seconds < 60


def test_every_issue_22_case_is_listed() -> None:
    whats = " | ".join(c.what for c in _CASES)
    for needle in (
        "earlier run", "crafted checkpoint", "another run holds", "redirected to another host",
        "answer of 2 MB", "trickling", "--rms name ../../x", "bit-flipped", "truncated checkpoint",
        "label twice", "duplicate key", "alias bomb", "scale 1e-310", "scale 1e-320",
        "scale 5e-324", "tol=inf", "input_tol=nan", "max_iter=True", "truncated .jsonl.gz",
        "plain text named .jsonl.gz", "deeply nested JSON", "FIFO", "unreadable sub-folder",
        "disk full", "cap_train: yes", "--seed -1", "output_dir is an existing file",
        "without --judge_url",
    ):  # fmt: skip
        assert needle in whats, needle

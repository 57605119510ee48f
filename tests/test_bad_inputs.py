"""Every bad input of scripts/bad_inputs.py fails fast, with one line naming what is wrong."""

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
def test_bad_input_fails_cleanly(tmp_path: Path, index: int) -> None:
    bad_inputs.make_files(tmp_path)
    case = bad_inputs.cases(tmp_path)[index]
    outcome = bad_inputs.run_case(case)
    assert outcome.returncode != 0, f"{case.what}: accepted"
    assert not outcome.traceback, f"{case.what}: traceback leaked: {outcome.message}"
    assert case.mentions in outcome.message, f"{case.what}: message {outcome.message!r}"
    assert outcome.seconds < 60

"""The one metrics.json schema: version, strict JSON with flagged non-finite values, reader."""

from __future__ import annotations

import json
import math
import os

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from applications.reward_models.evaluation.schema import (
    SCHEMA_VERSION,
    MetricsSchemaError,
    json_safe,
    metrics_document,
    model_ece,
    read_metrics,
    write_metrics,
)
from applications.reward_models.evaluation.scorer import source_metrics


def _strict(text: str) -> object:
    def refuse(constant: str) -> object:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _entry(ece: float | None, **rows: dict) -> dict:
    return {"sources": rows, "average": {"ece": ece}}


def test_every_document_carries_the_schema_version(tmp_path):
    path = write_metrics(tmp_path / "m.json", metrics_document({"rm": _entry(0.1)}))
    doc = read_metrics(path)
    assert doc["schema_version"] == SCHEMA_VERSION == 1
    assert set(doc) == {"schema_version", "settings", "sources", "models", "drops", "nonfinite"}
    with pytest.raises(MetricsSchemaError, match="schema_version"):
        write_metrics(tmp_path / "x.json", {"models": {}})


def test_nonfinite_values_become_null_with_the_reason(tmp_path):
    # Old code: json.dump(..., allow_nan=True) wrote the token NaN, which is not JSON.
    doc = metrics_document({"rm": {**_entry(math.nan), "seconds": math.inf}})
    path = write_metrics(tmp_path / "m.json", doc)
    written = _strict(path.read_text())
    assert written["models"]["rm"]["average"]["ece"] is None
    assert written["nonfinite"] == {
        "models.rm.average.ece": "NaN written as null",
        "models.rm.seconds": "+inf written as null",
    }
    with pytest.raises(MetricsSchemaError, match="no ECE"):
        model_ece(written)


def test_a_diverged_model_gets_null_metrics_and_a_why():
    row = source_metrics(torch.tensor([1.0, float("nan"), float("inf")]))
    assert row["n"] == 3 and row["ece"] is None and row["accuracy"] is None
    assert row["nonfinite"]["count"] == 2 and "NaN or infinite" in row["nonfinite"]["why"]
    ok = source_metrics(torch.tensor([1.0, -2.0]), torch.tensor([0.7, 0.4]))
    assert ok["mean_abs_margin"] == pytest.approx(1.5) and ok["truth"]["n"] == 2
    assert set(ok["calibration"]) == {"5", "10", "20"} and "nonfinite" not in ok


@settings(max_examples=40, deadline=None)
@given(
    st.recursive(
        st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.none() | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=12,
    )
)
def test_json_safe_output_is_strict_json(value):
    flags: dict[str, str] = {}
    safe = json_safe({"x": value}, flags)
    _strict(json.dumps(safe, allow_nan=False))
    assert all(reason.endswith("written as null") for reason in flags.values())


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({"scheme": "more", "test": {"a": {"ece": 0.1}}}, "no schema_version"),
        ({"multitask": {"seconds": 1, "test": {}}}, "no schema_version"),
        ({"schema_version": 99, "models": {}}, "schema_version 99 is not supported"),
        ({"schema_version": 1, "models": {"a": {"ece": 1}}}, "'models' must map"),
        ([1, 2], "no schema_version"),
    ],
)
def test_old_and_unknown_layouts_are_rejected_not_guessed(tmp_path, layout, message):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(layout))
    with pytest.raises(MetricsSchemaError, match=message):
        read_metrics(path)
    path.write_text('{"schema_version": 1,\n "models": ')
    with pytest.raises(ValueError, match=r"metrics.json:2: malformed"):
        read_metrics(path)


def test_model_ece_picks_the_named_or_only_model():
    one = metrics_document({"more": _entry(0.2)})
    assert model_ece(one) == (0.2, "models.more.average.ece")
    assert model_ece(one, "other")[0] == 0.2
    two = metrics_document({"a": _entry(0.1), "b": _entry(0.3)})
    assert model_ece(two, "b")[0] == 0.3
    with pytest.raises(MetricsSchemaError, match="name one"):
        model_ece(two)


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    write_metrics(path, metrics_document({"rm": _entry(0.1)}))

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)  # dies after the temporary file is written
    with pytest.raises(OSError, match="disk full"):
        write_metrics(path, metrics_document({"rm": _entry(0.5)}))
    assert read_metrics(path)["models"]["rm"]["average"]["ece"] == 0.1
    assert os.listdir(tmp_path) == ["metrics.json"]

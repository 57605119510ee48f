"""PreferencePair validation and DropReport bookkeeping."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from applications.reward_models.data import DropReport, PreferencePair, validate_pair_texts


def test_pair_is_frozen_and_round_trips() -> None:
    pair = PreferencePair("p", "c", "r", "src", margin=1.5, true_prob=0.7)
    with pytest.raises(AttributeError):
        pair.prompt = "x"  # type: ignore[misc]
    assert PreferencePair.from_dict(json.loads(json.dumps(pair.to_dict()))) == pair


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"prompt": 1}, TypeError),
        ({"chosen": None}, TypeError),
        ({"source": ""}, ValueError),
        ({"margin": "1"}, TypeError),
        ({"margin": True}, TypeError),
        ({"margin": float("nan")}, ValueError),
        ({"true_prob": 1.5}, ValueError),
        ({"true_prob": -0.1}, ValueError),
    ],
)
def test_pair_validates_types(kwargs: dict, error: type[Exception]) -> None:
    base = {"prompt": "p", "chosen": "c", "rejected": "r", "source": "s"}
    with pytest.raises(error):
        PreferencePair(**{**base, **kwargs})


def test_validate_pair_texts() -> None:
    assert validate_pair_texts("a", "b") is None
    assert validate_pair_texts("  ", "b") == "empty_response"
    assert validate_pair_texts("a", "") == "empty_response"
    assert validate_pair_texts(" same ", "same") == "identical_responses"


def test_drop_report_counts_merges_and_serialises() -> None:
    a = DropReport()
    a.add("hh", "tie")
    a.add("hh", "tie", 2)
    a.add("webgpt", "empty_response")
    a.add("webgpt", "tie", 0)
    b = DropReport()
    b.add("hh", "overlength", 4)
    a.merge(b)
    assert a.total == 8
    assert a.counts[("hh", "tie")] == 3
    assert a.for_source("hh") == {"overlength": 4, "tie": 3}
    d = a.to_dict()
    assert d == {
        "total": 8,
        "by_source": {"hh": {"overlength": 4, "tie": 3}, "webgpt": {"empty_response": 1}},
    }
    assert DropReport.from_dict(json.loads(json.dumps(d))) == a
    text = a.summary()
    assert "dropped 8 rows" in text and "hh: 7" in text and "tie=3" in text
    assert DropReport().summary() == "no rows dropped"


def test_pair_to_dict_is_the_canonical_schema() -> None:
    pair = PreferencePair("p", "c", "r", "hh", margin=0.5)
    assert list(pair.to_dict().items()) == [
        ("prompt", "p"),
        ("chosen", "c"),
        ("rejected", "r"),
        ("source", "hh"),
        ("margin", 0.5),
        ("true_prob", None),
    ]


def test_drop_report_rejects_bad_input() -> None:
    r = DropReport()
    with pytest.raises(ValueError):
        r.add("s", "x", -1)
    with pytest.raises(TypeError):
        r.add("s", "x", 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        r.merge({})  # type: ignore[arg-type]


@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xyz"), st.integers(0, 5))))
def test_drop_report_merge_is_additive(events: list[tuple[str, str, int]]) -> None:
    whole, left, right = DropReport(), DropReport(), DropReport()
    for i, (s, r, n) in enumerate(events):
        whole.add(s, r, n)
        (left if i % 2 else right).add(s, r, n)
    assert DropReport.combined([left, right]) == whole
    assert whole.total == sum(n for _, _, n in events)

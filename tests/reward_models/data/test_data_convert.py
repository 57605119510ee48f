"""The helpers every dataset loader shares (data/_convert.py): valid pairs, the split read."""

from __future__ import annotations

from applications.reward_models.data import _convert
from applications.reward_models.data.schema import DropReport


def test_valid_pairs_keeps_order_margins_and_counts_drops() -> None:
    drops = DropReport()
    candidates = [
        ("p1", " a ", "b", 1.5),
        ("p2", "same", "same", None),
        ("p3", "c", "  ", None),
        ("p4", "d", "e", None),
    ]
    pairs = _convert.valid_pairs(iter(candidates), "src", drops)
    assert [(p.prompt, p.chosen, p.rejected, p.margin) for p in pairs] == [
        ("p1", "a", "b", 1.5),
        ("p4", "d", "e", None),
    ]
    assert all(p.source == "src" for p in pairs)
    assert drops.for_source("src") == {"identical_responses": 1, "empty_response": 1}


def test_read_split_reads_validation_for_test_and_names_it_in_the_hint(monkeypatch) -> None:
    calls = []

    def read_rows(path, **kwargs):
        calls.append((path, kwargs))
        return [{"row": 1}]

    monkeypatch.setattr(_convert, "read_rows", read_rows)
    hint = ("mine", "oasst1", "oasst1/{split}.jsonl.gz")
    assert _convert.read_split("hub/x", "test", hub_name="hub/x", hint=hint, required=("a",))
    _convert.read_split("hub/x", "train", hub_name="hub/x", hint=hint)
    (_, test), (_, train) = calls
    assert test["split"] == "validation" and train["split"] == "train"
    assert "oasst1/validation.jsonl.gz" in test["local_hint"] and "mine" in test["local_hint"]
    assert test["required"] == ("a",) and test["hub_name"] == "hub/x"

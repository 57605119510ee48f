"""The shared truncation policy and pair collation, with real offline tokenizers."""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from applications.reward_models.data import (
    DropReport,
    PairCollator,
    PreferencePair,
    encode_prompt_response,
    filter_overlength,
    format_text,
)
from applications.reward_models.data.collate import pad_token_ids
from applications.reward_models.testing import minilm_tokenizer, smollm2_tokenizer


@pytest.fixture(scope="module")
def minilm():
    return minilm_tokenizer()


@pytest.fixture(scope="module")
def smollm():
    # a copy: the tests change padding_side, and smollm2_tokenizer() is shared in the process
    return copy.deepcopy(smollm2_tokenizer())


def test_format_text_separator() -> None:
    assert format_text("\n\nHuman: hi\n\nAssistant:", " yo ") == "\n\nHuman: hi\n\nAssistant: yo"
    assert format_text("How do I cook?", "Slowly.") == "How do I cook?\n\nSlowly."
    assert format_text("", "x") == "x"


def test_short_pair_equals_plain_tokenization(minilm) -> None:
    prompt, response = "\n\nHuman: How do I cook rice?\n\nAssistant:", "Rinse it first."
    ids = encode_prompt_response(minilm, prompt, response, 128)
    assert ids == minilm(format_text(prompt, response))["input_ids"]


def test_truncation_keeps_the_end_and_the_whole_response(minilm) -> None:
    prompt = " ".join(f"word{i}" for i in range(200)) + " final question?"
    response = "the answer is short"
    ids = encode_prompt_response(minilm, prompt, response, 32)
    assert len(ids) == 32 and ids[0] == minilm.cls_token_id and ids[-1] == minilm.sep_token_id
    text = minilm.decode(ids, skip_special_tokens=True)
    assert text.endswith("final question? the answer is short")
    assert "word0 " not in text
    # response + specials exactly at the limit: the prompt vanishes, the response survives
    n_resp = len(minilm("\n\n" + response, add_special_tokens=False)["input_ids"])
    assert (
        minilm.decode(encode_prompt_response(minilm, prompt, response, n_resp + 2)[1:-1])
        == response
    )
    assert encode_prompt_response(minilm, prompt, response, n_resp + 1) is None


def test_filter_overlength_counts_drops(minilm) -> None:
    long = " ".join(["word"] * 100)
    pairs = [
        PreferencePair("q", "short", "also short", "a"),
        PreferencePair("q", long, "short", "a"),
        PreferencePair("q", "short", long, "b"),
    ]
    drops = DropReport()
    kept = filter_overlength(pairs, minilm, 40, drops)
    assert kept == pairs[:1]
    assert drops.counts == {("a", "overlength"): 1, ("b", "overlength"): 1}
    with pytest.raises(ValueError, match="filter_overlength"):
        PairCollator(minilm, 40)(pairs)


def _check_batch(tok, pairs, max_length, side):
    tok.padding_side = side
    batch = PairCollator(tok, max_length)(pairs)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    b = len(pairs)
    assert ids.shape[0] == 2 * b and batch["source_ids"] == [p.source for p in pairs]
    lengths = mask.sum(1)
    assert ids.shape[1] == int(lengths.max()) < max_length  # dynamic padding, not to max_length
    for row in range(2 * b):
        pair = pairs[row % b]
        response = pair.chosen if row < b else pair.rejected
        expected = encode_prompt_response(tok, pair.prompt, response, max_length)
        valid = ids[row][mask[row].bool()].tolist()
        assert valid == expected
        n = len(expected)
        if side == "left":
            assert mask[row, -n:].all() and not mask[row, :-n].any()
        else:
            assert mask[row, :n].all() and not mask[row, n:].any()
        assert (ids[row][~mask[row].bool()] == tok.pad_token_id).all()
    return batch


@pytest.mark.parametrize("side", ["left", "right"])
def test_pair_collator_minilm(minilm, side) -> None:
    pairs = [
        PreferencePair("\n\nHuman: hi\n\nAssistant:", "Hello there, how can I help?", "No.", "x"),
        PreferencePair("Question?", "A fairly long answer " * 5, "short", "y"),
    ]
    old = minilm.padding_side
    try:
        batch = _check_batch(minilm, pairs, 128, side)
    finally:
        minilm.padding_side = old
    assert batch["input_ids"].dtype == torch.long


@pytest.mark.slow
@pytest.mark.parametrize("side", ["left", "right"])
def test_pair_collator_smollm2(smollm, side) -> None:
    pairs = [
        PreferencePair("\n\nHuman: hi\n\nAssistant:", "Hello there, how can I help?", "No.", "x"),
        PreferencePair("How do I cook rice?", "Rinse it, then simmer. " * 4, "Burn it.", "y"),
    ]
    _check_batch(smollm, pairs, 64, side)
    long_prompt = "blah " * 300 + "What now?"
    ids = encode_prompt_response(smollm, long_prompt, "Rest.", 16)
    assert len(ids) == 16 and smollm.decode(ids).endswith("What now?\n\nRest.")


def test_collator_requires_pad_token() -> None:
    class NoPad:
        pad_token_id = None
        padding_side = "right"

    with pytest.raises(ValueError, match="pad token"):
        PairCollator(NoPad(), 16)


@pytest.mark.parametrize("left", [False, True])
def test_pad_token_ids_places_rows_and_checks_width(left: bool) -> None:
    ids, mask = pad_token_ids([[5, 6, 7], [8]], 0, left=left, width=4)
    if left:
        assert ids.tolist() == [[0, 5, 6, 7], [0, 0, 0, 8]]
    else:
        assert ids.tolist() == [[5, 6, 7, 0], [8, 0, 0, 0]]
    assert mask.tolist() == (ids != 0).long().tolist()
    labels, _ = pad_token_ids([[-100, 3], [4]], -100, left=False)
    assert labels.tolist() == [[-100, 3], [4, -100]]
    with pytest.raises(ValueError, match="width 2"):
        pad_token_ids([[1, 2, 3]], 0, left=False, width=2)


class WordTokenizer:
    """A whitespace tokenizer with BERT-like specials: fast enough for property tests."""

    pad_token_id = 0
    cls_token_id, sep_token_id = 1, 2

    def __init__(self, padding_side: str = "right") -> None:
        self.padding_side = padding_side
        self.vocab: dict[str, int] = {}

    def _ids(self, text: str) -> list[int]:
        return [self.vocab.setdefault(w, len(self.vocab) + 3) for w in text.split()]

    def __call__(self, text, add_special_tokens=True, verbose=True):
        def one(t: str) -> list[int]:
            ids = self._ids(t)
            return [self.cls_token_id, *ids, self.sep_token_id] if add_special_tokens else ids

        return {"input_ids": [one(t) for t in text] if isinstance(text, list) else one(text)}


words = st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "g"]), max_size=30).map(" ".join)


@given(words, words, st.integers(1, 40))
def test_truncation_policy_properties(prompt: str, response: str, max_length: int) -> None:
    tok = WordTokenizer()
    ids = encode_prompt_response(tok, prompt, response, max_length)
    p_ids, r_ids = tok._ids(prompt), tok._ids(response)
    if len(r_ids) + 2 > max_length:
        assert ids is None
        return
    assert ids is not None and len(ids) <= max_length
    assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    assert ids[len(ids) - 1 - len(r_ids) : -1] == r_ids  # the response survives whole
    kept = ids[1 : len(ids) - 1 - len(r_ids)]
    assert kept == p_ids[len(p_ids) - len(kept) :]  # the END of the prompt is kept
    assert len(kept) == min(len(p_ids), max_length - 2 - len(r_ids))  # as much as fits


@given(
    st.lists(st.tuples(words, words, words), min_size=1, max_size=6),
    st.sampled_from(["left", "right"]),
)
def test_collator_rows_are_the_encoded_pairs(rows, side) -> None:
    pairs = [PreferencePair(p, c + " x", r + " y", f"s{i % 2}") for i, (p, c, r) in enumerate(rows)]
    _check_batch(WordTokenizer(side), pairs, 80, side)

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from rjs_helpers import simple_encode, tiny_rm

from applications.reward_models.files import read_jsonl
from applications.reward_models.modeling.scoring import score_texts
from applications.reward_models.rjs.score import load_scores, score_samples
from applications.reward_models.rjs.select import best_of_n, select_best, write_selection

maybe_scores = st.lists(st.one_of(st.none(), st.integers(-5, 5).map(float)), min_size=1, max_size=8)


@given(maybe_scores)
def test_best_of_n_is_first_argmax_and_skips_missing(scores):
    j = best_of_n(scores)
    valid = [s for s in scores if s is not None]
    if not valid:
        assert j is None
        return
    assert scores[j] == max(valid)
    assert all(s is None or s < scores[j] for s in scores[:j])  # first index among ties


def test_best_of_n_tie_goes_to_first_and_nan_raises():
    assert best_of_n([1.0, 3.0, 3.0, -1.0]) == 1
    assert best_of_n([None, 2.0, 2.0]) == 1
    with pytest.raises(ValueError, match="NaN"):
        best_of_n([1.0, math.nan])


def _samples(n_prompts, n):
    return {
        pid: {
            "prompt_id": pid,
            "prompt": f"p{pid}",
            "samples": [
                {"index": j, "response": f"r{pid}-{j}", "finished": j != 2} for j in range(n)
            ],
        }
        for pid in range(n_prompts)
    }


def test_select_best_statistics_and_drops(tmp_path):
    samples = _samples(3, 3)
    scores = {0: [1.0, 4.0, 4.0], 1: [None, -2.0, 0.0], 2: [None, None, None]}
    selected, stats = select_best(samples, scores)
    assert [(r["prompt_id"], r["sample_index"], r["response"]) for r in selected] == [
        (0, 1, "r0-1"),
        (1, 2, "r1-2"),
    ]
    assert [r["finished"] for r in selected] == [True, False]  # carried over for SFT's EOS
    assert stats.prompts == 2 and stats.prompts_dropped_unscored == 1
    assert stats.samples_unscored == 4 and stats.ties_at_max == 1
    assert stats.mean_reward == pytest.approx((1 + 4 + 4 - 2 + 0) / 5)
    assert stats.mean_best_reward == pytest.approx(2.0)
    assert stats.best_minus_mean == pytest.approx(2.0 - 7 / 5)
    assert stats.max_reward == 4.0
    write_selection(selected, stats, tmp_path / "sel" / "rm.jsonl")
    assert len(read_jsonl(tmp_path / "sel" / "rm.jsonl").records) == 2
    assert (tmp_path / "sel" / "rm.stats.json").is_file()


def test_select_best_rejects_inconsistent_inputs():
    samples = _samples(2, 2)
    with pytest.raises(ValueError, match="not scored"):
        select_best(samples, {0: [1.0, 2.0]})
    with pytest.raises(ValueError, match="3 scores for 2 samples"):
        select_best(samples, {0: [1.0, 2.0, 3.0], 1: [0.0, 0.0]})


def test_score_texts_batching_padding_and_unencodable():
    model, tok = tiny_rm()
    prompts = ["short", "a much longer prompt with many many words in it", "mid length one", "p"]
    responses = ["ok", "fine answer", "x " * 40, "yes"]
    batched = score_texts(
        model, tok, prompts, responses, batch_size=4, max_length=30, encode=simple_encode
    )
    assert batched[2] is None  # 40+ tokens do not fit in 30
    single = [
        score_texts(model, tok, [p], [r], batch_size=1, max_length=30, encode=simple_encode)[0]
        for p, r in zip(prompts, responses, strict=True)
    ]
    for a, b in zip(batched, single, strict=True):
        assert (a is None and b is None) or a == pytest.approx(b, abs=1e-5)
    with torch.inference_mode():  # ids only, like training batches (no token_type_ids)
        ids = torch.tensor([simple_encode(tok, prompts[0], responses[0], 30)])
        direct = model(input_ids=ids).logits[0, 0].item()
    assert batched[0] == pytest.approx(direct, abs=1e-5)


def test_score_texts_uses_training_encoder_by_default():
    from applications.reward_models.data.collate import encode_prompt_response

    model, tok = tiny_rm()
    got = score_texts(model, tok, ["a prompt"], ["a response"], max_length=64)
    ids = encode_prompt_response(tok, "a prompt", "a response", 64)
    with torch.inference_mode():
        ref = model(input_ids=torch.tensor([ids])).logits[0, 0].item()
    assert got[0] == pytest.approx(ref, abs=1e-5)


def test_score_samples_resumes(tmp_path):
    samples = _samples(5, 2)
    calls = []

    def fake(prompts, responses):
        calls.append(len(prompts))
        return [float(len(r)) if not r.endswith("3-1") else None for r in responses]

    path = tmp_path / "scores.jsonl"
    first = score_samples({k: samples[k] for k in (0, 1)}, path, fake, prompts_per_chunk=1)
    assert first.prompts_scored == 2 and calls == [2, 2]
    with path.open("a") as fh:
        fh.write('{"prompt_id": 2, "sco')
    stats = score_samples(samples, path, fake, prompts_per_chunk=2)
    assert stats.truncated_lines_dropped == 1
    assert stats.prompts_skipped == 2 and stats.prompts_scored == 3
    assert stats.responses_unencodable == 1 and stats.responses_scored == 5
    scores = load_scores(path)
    assert sorted(scores) == [0, 1, 2, 3, 4]
    assert scores[3] == [4.0, None]

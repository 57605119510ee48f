from __future__ import annotations

import pytest
from rjs_helpers import tiny_policy

from applications.reward_models.files import read_jsonl
from applications.reward_models.rjs.generation import Generation, GenerationConfig
from applications.reward_models.rjs.sample import (
    load_samples,
    policy_sampler,
    prompt_token_length,
    sample_prompts,
)

PROMPTS = [f"prompt number {i} " + "x" * (i % 5) for i in range(10)]


def fake_generate(texts, seeds):
    """A deterministic 'policy': the response is a function of the prompt and the row seed."""
    return [
        Generation(f"{t[:9]}|{s % 1000}", 3, s % 2 == 0) for t, s in zip(texts, seeds, strict=True)
    ]


class Crash(RuntimeError):
    pass


def crashing_after(batches):
    calls = {"n": 0}

    def run(texts, seeds):
        if calls["n"] == batches:
            raise Crash
        calls["n"] += 1
        return fake_generate(texts, seeds)

    return run


def by_id(path):
    return {pid: rec["samples"] for pid, rec in load_samples(path).items()}


def test_samples_have_n_per_prompt_and_are_seeded(tmp_path):
    stats = sample_prompts(PROMPTS, tmp_path / "s.jsonl", fake_generate, n=3, rows_per_batch=6)
    got = load_samples(tmp_path / "s.jsonl")
    assert sorted(got) == list(range(10))
    assert all(len(r["samples"]) == 3 for r in got.values())
    assert [s["index"] for s in got[4]["samples"]] == [0, 1, 2]
    assert got[4]["prompt"] == PROMPTS[4]
    # 3 distinct row seeds per prompt
    assert len({s["response"] for s in got[4]["samples"]}) == 3
    assert stats.prompts_sampled == 10 and stats.prompts_skipped == 0
    assert stats.unfinished_responses == sum(
        not s["finished"] for r in got.values() for s in r["samples"]
    )
    assert (tmp_path / "s.meta.json").is_file()


def test_interrupted_run_resumes_to_the_same_result(tmp_path):
    full = tmp_path / "full.jsonl"
    sample_prompts(PROMPTS, full, fake_generate, n=2, rows_per_batch=4)
    part = tmp_path / "part.jsonl"
    with pytest.raises(Crash):
        sample_prompts(PROMPTS, part, crashing_after(2), n=2, rows_per_batch=4)
    assert len(load_samples(part)) == 4  # two batches of two prompts made it to disk
    with part.open("a") as fh:
        fh.write('{"prompt_id": 9, "prom')  # the crash also left a torn line
    stats = sample_prompts(PROMPTS, part, fake_generate, n=2, rows_per_batch=4)
    assert stats.truncated_lines_dropped == 1
    assert stats.prompts_skipped == 4 and stats.prompts_sampled == 6
    assert by_id(part) == by_id(full)
    again = sample_prompts(PROMPTS, part, fake_generate, n=2, rows_per_batch=4)
    assert again.prompts_sampled == 0 and again.prompts_skipped == 10
    assert len(read_jsonl(part).records) == 10


def test_resume_with_other_settings_or_prompts_is_refused(tmp_path):
    path = tmp_path / "s.jsonl"
    sample_prompts(PROMPTS[:3], path, fake_generate, n=2)
    with pytest.raises(ValueError, match="were made with"):
        sample_prompts(PROMPTS[:3], path, fake_generate, n=3)
    with pytest.raises(ValueError, match="different prompt"):
        sample_prompts(["other", *PROMPTS[1:3]], path, fake_generate, n=2)


def test_wrong_generation_count_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="generations"):
        sample_prompts(PROMPTS[:2], tmp_path / "s.jsonl", lambda t, s: [], n=2)


def test_sampling_with_a_tiny_policy(tmp_path):
    model, tok = tiny_policy()
    cfg = GenerationConfig(max_new_tokens=4, batch_size=8)
    gen = policy_sampler(model, tok, cfg)
    a = tmp_path / "a.jsonl"
    sample_prompts(PROMPTS[:5], a, gen, n=2, rows_per_batch=8, length_fn=prompt_token_length(tok))
    # Same prompts, other batching: same responses (row seeds do not depend on the batch).
    b = tmp_path / "b.jsonl"
    sample_prompts(PROMPTS[:5], b, gen, n=2, rows_per_batch=2)
    assert by_id(a) == by_id(b)
    assert all(s["num_tokens"] <= 4 for r in load_samples(a).values() for s in r["samples"])

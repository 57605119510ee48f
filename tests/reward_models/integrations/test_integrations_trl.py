"""MORE inside TRL: data conversion, balanced sampling, and one step equal to the project's MORE.

Every test name contains ``trl`` (CI selects them with ``-k trl``).
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest

pytest.importorskip("trl")

import torch
from accelerate.data_loader import BatchSamplerShard
from safetensors.torch import load_file

from applications.reward_models.data.collate import encode_many, format_text
from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.data.simulator import PreferenceSimulator
from applications.reward_models.data.source_spec import SourceSpec
from applications.reward_models.data.splits import load_source_data
from applications.reward_models.integrations.trl import (
    MoreRewardConfig,
    MoreRewardTrainer,
    SourceBalancedSampler,
    pairs_to_dataset,
)
from applications.reward_models.modeling.reward_model import (
    load_reward_model,
    load_tokenizer,
)
from applications.reward_models.sections import MoreConfig
from applications.reward_models.testing import save_tiny_reward_model
from applications.reward_models.training.config import TrainConfig
from applications.reward_models.training.trainer import train_scheme
from tests.reward_models.study._regime_helpers import study_lambda

SOURCES = ["shared", "lists", "concise"]
MAX_LENGTH = 128


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    return save_tiny_reward_model(str(tmp_path_factory.mktemp("tiny") / "bert"), "bert")


def _args(output_dir: str, **overrides) -> MoreRewardConfig:
    values = {
        "output_dir": output_dir,
        "per_device_train_batch_size": 6,
        "max_steps": 1,
        "learning_rate": 1e-2,
        "lr_scheduler_type": "linear",
        "warmup_steps": 0,
        "weight_decay": 0.0,
        "adam_epsilon": 1e-3,
        "max_grad_norm": 1.0,
        "optim": "adamw_torch",
        "bf16": False,
        "gradient_checkpointing": False,
        "report_to": "none",
        "save_strategy": "no",
        "logging_steps": 1,
        "seed": 0,
        "use_cpu": True,
        "disable_tqdm": True,
    }
    values.update(overrides)
    return MoreRewardConfig(**values)


def _pair(source: str, i: int = 0, margin: float | None = None) -> PreferencePair:
    return PreferencePair(f"Question {i}:", f"good answer {i}", f"bad {i}", source, margin)


# -- data ---------------------------------------------------------------------------------------


def test_trl_pairs_to_dataset_keeps_the_project_format(tiny_model):
    tokenizer = load_tokenizer(tiny_model)
    pairs = PreferenceSimulator(0, SOURCES).pairs_by_source(3)
    ds = pairs_to_dataset(pairs, tokenizer, MAX_LENGTH)
    flat = [p for group in pairs.values() for p in group]
    assert ds["source"] == [p.source for p in flat]
    for row, p in zip(ds, flat, strict=True):
        assert row["prompt"] + row["chosen"] == format_text(p.prompt, p.chosen)
        assert row["prompt"] + row["rejected"] == format_text(p.prompt, p.rejected)
    prompts = [p.prompt for p in flat]
    assert ds["chosen_ids"] == encode_many(tokenizer, prompts, [p.chosen for p in flat], 128)
    assert ds["rejected_ids"] == encode_many(tokenizer, prompts, [p.rejected for p in flat], 128)
    assert "margin" not in ds.column_names


def test_trl_pairs_to_dataset_rejects_bad_input(tiny_model):
    tokenizer = load_tokenizer(tiny_model)
    with pytest.raises(ValueError, match="no pairs"):
        pairs_to_dataset([])
    with pytest.raises(ValueError, match="max_length is required"):
        pairs_to_dataset([_pair("a")], tokenizer)
    with pytest.raises(ValueError, match=r"pair 0 of source 'a'.*does not fit"):
        pairs_to_dataset([_pair("a")], tokenizer, max_length=3)
    with pytest.raises(ValueError, match="pair 1 of source 'b' has no margin"):
        pairs_to_dataset([_pair("a", margin=1.0), _pair("b")], with_margin=True)
    ds = pairs_to_dataset([_pair("a", margin=1.5)], with_margin=True)
    assert ds["margin"] == [1.5]


# -- sampling -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("sizes", "m"), [((5, 2, 9), 2), ((1, 4), 3), ((6, 6, 6, 6), 1)])
def test_trl_sampler_chunks_are_balanced_and_epochs_replay(sizes, m):
    names = [f"s{i}" for i in range(len(sizes))]
    sources = [n for n, size in zip(names, sizes, strict=True) for _ in range(size)]
    sources = sources[::2] + sources[1::2]  # sources interleaved in the dataset
    sampler = SourceBalancedSampler(sources, m, seed=3)
    order = list(sampler)
    k = len(names)
    assert len(order) == len(sampler) == (max(sizes) // m) * k * m
    for start in range(0, len(order), k * m):
        chunk = [sources[i] for i in order[start : start + k * m]]
        assert Counter(chunk) == dict.fromkeys(names, m)
    second = list(sampler)
    assert second != order or max(sizes) == 1  # a new epoch draws a new order
    sampler.set_epoch(0)
    assert list(sampler) == order
    sampler.set_epoch(1)
    assert list(sampler) == second


def test_trl_sampler_is_balanced_on_every_rank_under_accelerate_sharding():
    sources = ["a"] * 7 + ["b"] * 3 + ["c"] * 5
    sampler = SourceBalancedSampler(sources, 2, seed=0)
    batches = torch.utils.data.BatchSampler(sampler, sampler.batch_size, drop_last=False)
    for rank in range(2):
        shard = BatchSamplerShard(batches, num_processes=2, process_index=rank)
        seen = list(shard)
        assert seen
        for batch in seen:
            assert Counter(sources[i] for i in batch) == {"a": 2, "b": 2, "c": 2}


def test_trl_sampler_rejects_an_unknown_source():
    with pytest.raises(ValueError, match="row 1: source 'x' is not one of"):
        SourceBalancedSampler(["a", "x"], 1, names=["a"])


# -- the trainer --------------------------------------------------------------------------------


def test_trl_trainer_checks_its_input(tmp_path, tiny_model):
    model, tokenizer = load_reward_model(tiny_model)
    ds = pairs_to_dataset([_pair(s, i) for s in SOURCES for i in range(2)], tokenizer, MAX_LENGTH)
    with pytest.raises(ValueError, match="not a multiple of the number of sources K=3"):
        MoreRewardTrainer(
            model, _args(str(tmp_path), per_device_train_batch_size=4), train_dataset=ds
        )
    with pytest.raises(ValueError, match="no 'source' column"):
        MoreRewardTrainer(model, _args(str(tmp_path)), train_dataset=ds.remove_columns("source"))
    with pytest.raises(ValueError, match=r"sources \['concise'\] not in"):
        MoreRewardTrainer(
            model, _args(str(tmp_path)), train_dataset=ds, sources=["shared", "lists"]
        )
    with pytest.raises(ValueError, match=r"more\.subspace"):
        MoreRewardTrainer(
            model,
            _args(str(tmp_path), more_subspace="heads"),
            train_dataset=ds,
            processing_class=tokenizer,
        )


def _project_more_step(tiny_model: str, output_dir: str, **more):
    config = TrainConfig(
        more=MoreConfig(**more),
        model=tiny_model,
        output_dir=output_dir,
        sources=[SourceSpec(s) for s in SOURCES],
        train_pairs_per_source=8,
        test_pairs_per_source=2,
        pairs_per_source=2,
        max_steps=1,
        learning_rate=1e-2,
        warmup_ratio=0.0,
        adam_epsilon=1e-3,
        max_grad_norm=1.0,
        trainable_blocks=None,
        max_length=MAX_LENGTH,
        scheme="more",
        progress_bar=False,
    ).validate()
    data = load_source_data(config, load_tokenizer(tiny_model))
    result = train_scheme(config, "more", data)
    weights = load_file(os.path.join(result.run_dir, "final", "model.safetensors"))
    return data, result.log[0]["lambda"], weights


def _trl_step(trainer_cls, tiny_model, data, output_dir, **more):
    model, tokenizer = load_reward_model(tiny_model)
    ds = pairs_to_dataset(data.train, tokenizer, MAX_LENGTH)
    args = _args(output_dir, **{f"more_{k}": v for k, v in more.items()})
    trainer = trainer_cls(model, args, train_dataset=ds, processing_class=tokenizer)
    trainer.train()
    return trainer.state.log_history[0], {
        k: v.detach().clone() for k, v in model.state_dict().items()
    }


def test_trl_one_step_equals_the_projects_more_step(tmp_path, tiny_model):
    """Same batch (same sampler seed), same λ and the same AdamW update.

    Tolerance: λ to 1e-6 absolute; the parameter update θ₁ − θ₀ to rtol 1e-4 / atol 1e-8 (float32
    on the CPU; the update is ~1e-3). Adam's ε = 1e-3 (not 1e-8) makes the first update depend on
    the gradient's magnitude, not just its sign, so a different λ changes it. The plain TRL step
    (uniform weighting of the pairs) is checked to differ by far more than the tolerance.
    """
    from trl import RewardTrainer

    data, lam_project, after_project = _project_more_step(tiny_model, str(tmp_path / "project"))
    before = load_file(os.path.join(tiny_model, "model.safetensors"))
    row, after_trl = _trl_step(MoreRewardTrainer, tiny_model, data, str(tmp_path / "trl"))
    lam_trl = {s: row[f"lambda/{s}"] for s in SOURCES}
    assert list(lam_project) == SOURCES
    for s in SOURCES:
        assert lam_trl[s] == pytest.approx(lam_project[s], abs=1e-6)
    assert max(lam_trl.values()) - min(lam_trl.values()) > 0.01  # λ is not the uniform weighting
    assert set(after_trl) == set(after_project)
    moved = 0
    for name, theta0 in before.items():
        update_trl = after_trl[name] - theta0
        update_project = after_project[name] - theta0
        torch.testing.assert_close(update_trl, update_project, rtol=1e-4, atol=1e-8)
        moved += int(update_project.abs().max() > 1e-7)
    assert moved > 10  # the whole model trained, not only the head

    _, after_plain = _trl_step(RewardTrainer, tiny_model, data, str(tmp_path / "plain"))
    head = "classifier.weight"
    gap = (after_plain[head] - after_project[head]).abs().max()
    assert gap > 100 * (1e-8 + 1e-4 * (after_project[head] - before[head]).abs().max())


def test_trl_and_the_trainer_honour_lambda_pairs_and_the_weighting(tmp_path, tiny_model):
    """On both paths λ changes with ``lambda_pairs`` and with the weighting, and stays equal
    between them (TRL used to ignore ``lambda_pairs``: λ identical with 1 and with None); so it
    does on the study's loop (its own model and data; every other field:
    tests/reward_models/study/test_study_regime.py)."""
    variants = {"default": {}, "one_pair": {"lambda_pairs": 1}, "mean": {"weighting": "mean"}}
    lam = {}
    for name, more in variants.items():
        data, project, _ = _project_more_step(tiny_model, str(tmp_path / name / "p"), **more)
        row, _ = _trl_step(MoreRewardTrainer, tiny_model, data, str(tmp_path / name / "t"), **more)
        trl = [row[f"lambda/{s}"] for s in SOURCES]
        assert trl == pytest.approx([project[s] for s in SOURCES], abs=1e-6), name
        lam[name] = trl
    assert lam["mean"] == pytest.approx([1 / 3] * 3, abs=1e-6)
    for name in ("one_pair", "mean"):
        gap = max(abs(a - b) for a, b in zip(lam[name], lam["default"], strict=True))
        assert gap > 1e-3, (name, lam)
    study = {name: study_lambda(**more) for name, more in variants.items()}
    assert np.allclose(study["mean"], 1 / study["mean"].shape[1])
    for name in ("one_pair", "mean"):
        assert np.abs(study[name] - study["default"]).max() > 1e-3, name


def test_trl_checkpoint_holds_the_weighting_and_resume_continues_exactly(tmp_path, tiny_model):
    _, tokenizer = load_reward_model(tiny_model)
    pairs = PreferenceSimulator(0, SOURCES).pairs_by_source(6)
    ds = pairs_to_dataset(pairs, tokenizer, MAX_LENGTH)

    def run(output_dir, resume=None, **overrides):
        model, _ = load_reward_model(tiny_model)
        args = _args(output_dir, max_steps=3, save_strategy="steps", save_steps=2, **overrides)
        trainer = MoreRewardTrainer(model, args, train_dataset=ds, processing_class=tokenizer)
        trainer.train(resume_from_checkpoint=resume)
        return trainer

    full = run(str(tmp_path / "full"))
    checkpoint = tmp_path / "full" / "checkpoint-2"
    assert (checkpoint / "more_weighting.pt").is_file()
    record = torch.load(checkpoint / "more_weighting.pt", weights_only=True)
    assert record["state"]["step"] == 2
    assert record["config"] == {
        "weighting": {"name": "mgda", "method": "exact", "tol": None, "max_iter": None},
        "lambda_pairs": None,
    }
    resumed = run(str(tmp_path / "full"), resume=str(checkpoint))
    assert resumed.weighting.step == full.weighting.step == 3
    for (name, a), b in zip(
        full.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    last = [r for r in full.state.log_history if "lambda/shared" in r][-1]
    again = [r for r in resumed.state.log_history if "lambda/shared" in r][-1]
    assert last["lambda/shared"] == again["lambda/shared"]


def test_trl_text_dataset_is_tokenized_by_trl_and_trains(tmp_path, tiny_model):
    model, tokenizer = load_reward_model(tiny_model)
    pairs = PreferenceSimulator(0, SOURCES).pairs_by_source(4)
    ds = pairs_to_dataset(pairs)  # text only: TRL tokenizes prompt + chosen + eos
    assert "chosen_ids" not in ds.column_names
    args = _args(str(tmp_path), max_steps=2, eos_token="[SEP]")  # BERT has no EOS of its own
    trainer = MoreRewardTrainer(model, args, train_dataset=ds, processing_class=tokenizer)
    trainer.train()
    rows = [r for r in trainer.state.log_history if "lambda/shared" in r]
    assert len(rows) == 2
    for row in rows:
        assert sum(row[f"lambda/{s}"] for s in SOURCES) == pytest.approx(1.0, abs=1e-5)
        assert all(f"loss/{s}" in row for s in SOURCES)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_trl_worker(rank: int, world: int, port: int, model_dir: str, out: str) -> None:
    import json

    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world),
        OMP_NUM_THREADS="1",
    )
    torch.set_num_threads(1)
    model, tokenizer = load_reward_model(model_dir)
    ds = pairs_to_dataset(PreferenceSimulator(0, SOURCES).pairs_by_source(8), tokenizer, 128)
    trainer = MoreRewardTrainer(
        model, _args(out, max_steps=3), train_dataset=ds, processing_class=tokenizer
    )
    trainer.train()
    rows = [r for r in trainer.state.log_history if "lambda/shared" in r]
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump({"world": torch.distributed.get_world_size(), "rows": rows}, f)
    torch.distributed.destroy_process_group()


@pytest.mark.distributed
def test_trl_lambda_identical_on_two_ddp_ranks(tmp_path, tiny_model):
    import json

    import torch.multiprocessing as mp

    args = (2, _free_port(), tiny_model, str(tmp_path))
    mp.spawn(_ddp_trl_worker, args=args, nprocs=2, join=True)
    logs = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [log["world"] for log in logs] == [2, 2]
    rows = [log["rows"] for log in logs]
    assert len(rows[0]) == len(rows[1]) == 3
    lambdas = [[[row[f"lambda/{s}"] for s in SOURCES] for row in r] for r in rows]
    assert lambdas[0] == lambdas[1]  # bit-identical floats
    # each rank had its own balanced batch: the local per-source losses differ
    local = [[[row[f"loss/{s}"] for s in SOURCES] for row in r] for r in rows]
    assert local[0] != local[1]

"""MoreRewardConfig (TRL's convention): every MORE option set by TRL's parser reaches the one MORE
step exactly as the training CLI's ``--more.*`` does; per-source evaluation; the model card.

Every test name contains ``trl`` (CI selects them with ``-k trl``).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

pytest.importorskip("trl")

import torch
from trl import TrlParser

from applications.reward_models.data.simulator import PreferenceSimulator
from applications.reward_models.integrations.trl import MoreRewardConfig, MoreRewardTrainer
from applications.reward_models.integrations.trl_data import pairs_to_dataset
from applications.reward_models.modeling.reward_model import load_reward_model
from applications.reward_models.sections import MoreConfig
from applications.reward_models.testing import save_tiny_reward_model
from applications.reward_models.training.config import parse_args
from applications.reward_models.training.schemes import More

SOURCES = ["shared", "lists", "concise"]

# (base, changed) MoreConfig values per field: the change must show in the built step.
VARIANTS = {
    "weighting": ({}, {"weighting": "mean"}),
    "weighting_options": ({}, {"weighting_options": {"method": "frank_wolfe"}}),
    "subspace": ({}, {"subspace": "all"}),
    "last_n_blocks": ({"subspace": "last_blocks"}, {"subspace": "last_blocks", "last_n_blocks": 2}),
    "normalizer": ({}, {"normalizer": "none"}),
    "ema_alpha": ({}, {"ema_alpha": 0.5}),
    "strategy": ({"ema_alpha": None}, {"ema_alpha": None, "strategy": "gram"}),
    "scale_by_num_objectives": ({}, {"scale_by_num_objectives": True}),
    "lambda_pairs": ({}, {"lambda_pairs": 1}),
}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    return save_tiny_reward_model(str(tmp_path_factory.mktemp("tiny") / "bert"), "bert")


def _cli_value(value) -> list[str]:
    if isinstance(value, dict):
        return [f"{k}={v}" for k, v in value.items()]
    return ["null" if value is None else str(value)]


def _hf_value(value) -> str:
    return json.dumps(value) if isinstance(value, dict) else str(value)


def _signature(step) -> tuple:
    w = step.weighting
    return (
        w.weighting.config(),
        type(w.normalizer).__name__,
        w.ema_alpha,
        type(w.strategy).__name__,
        w.scale_by_num_objectives,
        step.lambda_pairs,
        [tuple(p.shape) for p in w.subspace.params],
    )


def _trainer_step(values: dict, model):
    argv = [a for k, v in values.items() for a in (f"--more.{k}", *_cli_value(v))]
    config = parse_args(argv)
    return config.more, More().weighting(config, model, len(SOURCES))


def _trl_step(values: dict, model, tokenizer, output_dir: str):
    argv = ["--output_dir", output_dir, "--per_device_train_batch_size", "6", "--use_cpu", "true"]
    argv += ["--bf16", "false"]
    argv += ["--report_to", "none"]
    argv += [a for k, v in values.items() for a in (f"--more_{k}", _hf_value(v))]
    (args,) = TrlParser([MoreRewardConfig]).parse_args_and_config(argv)
    ds = pairs_to_dataset(PreferenceSimulator(0, SOURCES).pairs_by_source(2), tokenizer, 128)
    trainer = MoreRewardTrainer(model, args, train_dataset=ds, processing_class=tokenizer)
    return trainer.more, trainer.more_step


def test_trl_variants_cover_every_more_option():
    assert set(VARIANTS) == {f.name for f in dataclasses.fields(MoreConfig)}


@pytest.mark.parametrize("field", sorted(VARIANTS))
def test_trl_and_the_cli_honour_every_more_option(tmp_path, tiny_model, field):
    model, tokenizer = load_reward_model(tiny_model)
    base, changed = VARIANTS[field]
    signatures = {}
    for name, values in (("base", base), ("changed", changed)):
        more_cli, step_cli = _trainer_step(values, model)
        more_trl, step_trl = _trl_step(values, model, tokenizer, str(tmp_path / name))
        assert more_cli == more_trl == MoreConfig(**values)
        assert _signature(step_cli) == _signature(step_trl)
        signatures[name] = _signature(step_cli)
    assert signatures["base"] != signatures["changed"]


def test_trl_weighting_options_refuse_a_repeated_key(tmp_path):
    # regression: json.loads kept the last value of a repeated key silently
    with pytest.raises(ValueError, match=r"key 'method' given twice \('exact' and 'frank_wolfe'\)"):
        MoreRewardConfig(
            output_dir=str(tmp_path),
            more_weighting_options='{"method": "exact", "method": "frank_wolfe"}',
        )


def test_trl_parser_config_file_sets_the_more_options_and_the_run_records_them(
    tmp_path, tiny_model
):
    path = tmp_path / "run.yaml"
    path.write_text(
        f"output_dir: {tmp_path / 'out'}\nper_device_train_batch_size: 6\nmax_steps: 1\n"
        "use_cpu: true\nreport_to: none\nsave_strategy: 'no'\ndisable_tqdm: true\n"
        "more_weighting: mean\nmore_lambda_pairs: 1\nmore_ema_alpha: 0.5\n"
    )
    (args,) = TrlParser([MoreRewardConfig]).parse_args_and_config(["--config", str(path)])
    assert args.more == MoreConfig(weighting="mean", lambda_pairs=1, ema_alpha=0.5)
    saved = json.loads(args.to_json_string())
    assert saved["more_weighting"] == "mean" and saved["more_lambda_pairs"] == 1
    model, tokenizer = load_reward_model(tiny_model)
    ds = pairs_to_dataset(PreferenceSimulator(0, SOURCES).pairs_by_source(4), tokenizer, 128)
    trainer = MoreRewardTrainer(model, args, train_dataset=ds, processing_class=tokenizer)
    trainer.train()
    trainer.create_model_card()
    card = (tmp_path / "out" / "README.md").read_text()
    assert "## MORE" in card and "| `more_weighting` | `mean` |" in card
    assert "| `more_lambda_pairs` | `1` |" in card


def _paper_ece(margins: np.ndarray, bins: int = 10) -> float:
    """Independent ECE: points (p, 1) and (1 − p, 0), equal-width bins, Σ|Σp − Σy| / 2N."""
    p = 1 / (1 + np.exp(-margins))
    points = np.concatenate([p, 1 - p])
    labels = np.concatenate([np.ones_like(p), np.zeros_like(p)])
    index = np.minimum((points * bins).astype(int), bins - 1)
    gaps = [abs(points[index == b].sum() - labels[index == b].sum()) for b in range(bins)]
    return float(sum(gaps) / len(points))


def test_trl_evaluate_reports_per_source_accuracy_and_ece(tmp_path):
    spread = save_tiny_reward_model(str(tmp_path / "spread"), "bert", initializer_range=0.5)
    model, tokenizer = load_reward_model(spread)
    sim = PreferenceSimulator(0, SOURCES)
    train = pairs_to_dataset(sim.pairs_by_source(2), tokenizer, 128)
    test_pairs = PreferenceSimulator(1, SOURCES).pairs_by_source(5)
    evaluation = pairs_to_dataset(test_pairs, tokenizer, 512)
    args = MoreRewardConfig(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=6,
        per_device_eval_batch_size=4,
        use_cpu=True,
        bf16=False,
        report_to="none",
        disable_tqdm=True,
    )
    trainer = MoreRewardTrainer(
        model, args, train_dataset=train, eval_dataset=evaluation, processing_class=tokenizer
    )
    metrics = trainer.evaluate()
    model.eval()
    for source in SOURCES:
        rows = evaluation.filter(lambda r, s=source: r["source"] == s)
        margins = []
        with torch.no_grad():
            for row in rows:
                chosen = model(input_ids=torch.tensor([row["chosen_ids"]])).logits.item()
                rejected = model(input_ids=torch.tensor([row["rejected_ids"]])).logits.item()
                margins.append(chosen - rejected)
        margins = np.asarray(margins)
        accuracy = float(np.mean((margins > 0) + 0.5 * (margins == 0)))
        assert metrics[f"eval_n/{source}"] == len(margins) == 5
        assert metrics[f"eval_accuracy/{source}"] == pytest.approx(accuracy)
        assert metrics[f"eval_ece/{source}"] == pytest.approx(_paper_ece(margins), abs=1e-5)


def test_trl_resume_refuses_a_checkpoint_of_another_weighting(tmp_path, tiny_model):
    _, tokenizer = load_reward_model(tiny_model)
    ds = pairs_to_dataset(PreferenceSimulator(0, SOURCES).pairs_by_source(4), tokenizer, 128)

    def trainer(weighting: str) -> MoreRewardTrainer:
        model, _ = load_reward_model(tiny_model)
        args = MoreRewardConfig(
            output_dir=str(tmp_path),
            per_device_train_batch_size=6,
            max_steps=2,
            save_strategy="steps",
            save_steps=1,
            use_cpu=True,
            bf16=False,
            report_to="none",
            disable_tqdm=True,
            more_weighting=weighting,
        )
        return MoreRewardTrainer(model, args, train_dataset=ds, processing_class=tokenizer)

    trainer("mgda").train()
    with pytest.raises(ValueError, match="not this run's"):
        trainer("mean").train(resume_from_checkpoint=str(tmp_path / "checkpoint-1"))

"""Reward models: pooling, padding invariance, save/reload, structural head lookup."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForSequenceClassification

from applications.reward_models.data.collate import pad_token_ids
from applications.reward_models.modeling.backbones import minilm_path, resolve_model_name
from applications.reward_models.modeling.mean_pooling import MeanPoolingRewardModel
from applications.reward_models.modeling.reward_model import (
    build_reward_model,
    compute_rewards,
    freeze_below,
    load_reward_model,
    pair_rewards,
    resolve_pooling,
    reward_head,
    transformer_blocks,
)
from applications.reward_models.testing import (
    save_tiny_reward_model,
    tiny_bert_config,
    tiny_llama_config,
)

PAD = 0


def _pad(seqs: list[list[int]], side: str) -> tuple[torch.Tensor, torch.Tensor]:
    return pad_token_ids(seqs, PAD, left=side == "left")


SEQS = [[101, 7, 8, 9, 10, 102], [101, 11, 12, 102], [101, 13, 102]]


def _unpadded(model: torch.nn.Module) -> torch.Tensor:
    out = []
    for s in SEQS:
        ids = torch.tensor([s])
        out.append(compute_rewards(model, ids, torch.ones_like(ids)))
    return torch.cat(out)


@pytest.mark.parametrize(
    ("config", "pooling", "sides"),
    [
        (tiny_bert_config(200), "cls", ["right"]),
        (tiny_bert_config(200), "mean", ["right"]),  # absolute positions: right padding only
        (tiny_llama_config(200, PAD), "last", ["right", "left"]),
        (tiny_llama_config(200, PAD), "mean", ["right", "left"]),
    ],
)
def test_save_reload_same_rewards_and_padding_invariance(tmp_path, config, pooling, sides):
    torch.manual_seed(0)
    model = build_reward_model(config, pooling).eval()
    model.config.pad_token_id = PAD
    assert model.config.num_labels == 1
    with torch.no_grad():
        reference = _unpadded(model)
        for side in sides:
            ids, mask = _pad(SEQS, side)
            torch.testing.assert_close(compute_rewards(model, ids, mask), reference)
    model.save_pretrained(tmp_path)
    # No remote code, mean pooling included: our classes are registered with transformers.
    reloaded = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    ids, mask = _pad(SEQS, sides[-1])
    with torch.no_grad():
        # attention kernels may differ between from_config and from_pretrained: rounding only
        torch.testing.assert_close(
            compute_rewards(reloaded, ids, mask),
            compute_rewards(model, ids, mask),
            atol=1e-6,
            rtol=1e-5,
        )
    assert type(reloaded) is type(model)  # the installed class, not a copy run as remote code


def test_reward_head_is_found_structurally():
    torch.manual_seed(0)
    bert = build_reward_model(tiny_bert_config(200), "cls")
    assert reward_head(bert) is bert.classifier
    llama = build_reward_model(tiny_llama_config(200), "last")
    assert reward_head(llama) is llama.score
    mean = build_reward_model(tiny_bert_config(200), "mean")
    assert isinstance(mean, MeanPoolingRewardModel) and reward_head(mean) is mean.score

    # a decoy Linear(·, 1) registered after the real head but not on the logits path
    bert.decoy = torch.nn.Linear(32, 1)
    assert reward_head(bert) is bert.classifier
    with pytest.raises(ValueError, match=r"out_features \=\= 1"):
        reward_head(torch.nn.Sequential(torch.nn.Linear(3, 2)))


def test_pooling_validation_and_blocks():
    assert resolve_pooling(tiny_bert_config(200), "auto") == "cls"
    assert resolve_pooling(tiny_llama_config(200), "auto") == "last"
    with pytest.raises(ValueError, match="needs a decoder"):
        resolve_pooling(tiny_bert_config(200), "last")
    with pytest.raises(ValueError, match="needs an encoder"):
        resolve_pooling(tiny_llama_config(200), "cls")
    with pytest.raises(ValueError, match="unknown pooling"):
        resolve_pooling(tiny_bert_config(200), "max")
    model = build_reward_model(tiny_bert_config(200, num_hidden_layers=3), "cls")
    assert transformer_blocks(model) is model.bert.encoder.layer
    freeze_below(model, 1)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert all(
        n.startswith(("bert.encoder.layer.2.", "bert.pooler", "classifier")) for n in trainable
    )
    assert (
        "classifier.weight" in trainable and "bert.encoder.layer.2.output.dense.weight" in trainable
    )


def test_name_resolution(tmp_path):
    assert resolve_model_name("minilm").path == minilm_path()
    assert resolve_model_name("org/model").path == "org/model"
    with pytest.raises(ValueError, match="does not exist"):
        resolve_model_name(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match=r"no config\.json"):
        resolve_model_name(str(tmp_path))


@pytest.mark.parametrize("kind", ["bert", "llama"])
def test_load_tiny_checkpoint_pair_forward(tmp_path, kind):
    path = save_tiny_reward_model(str(tmp_path / kind), kind)
    model, tokenizer = load_reward_model(path)
    assert model.config.pad_token_id == tokenizer.pad_token_id
    from applications.reward_models.data.collate import PairCollator
    from applications.reward_models.data.schema import PreferencePair

    pairs = [
        PreferencePair("How do I save?", "Keep a budget.", "No idea.", "a"),
        PreferencePair("Hi", "Hello! How can I help you today?", "Go away.", "b"),
    ]
    batch = PairCollator(tokenizer, 64)(pairs)
    with torch.no_grad():
        r_c, r_r = pair_rewards(model.eval(), batch)
        # one forward pass over 2B rows equals scoring each sequence on its own
        single = [
            compute_rewards(
                model, row[m.bool()][None], torch.ones(1, int(m.sum()), dtype=torch.long)
            )
            for row, m in zip(batch["input_ids"], batch["attention_mask"], strict=True)
        ]
    torch.testing.assert_close(torch.cat([r_c, r_r]), torch.cat(single), atol=1e-5, rtol=1e-5)


def test_minilm_loads_with_cls_head_and_reloads(tmp_path):
    model, tokenizer = load_reward_model("minilm")
    head = reward_head(model)
    assert head.out_features == 1 and head.in_features == 384
    assert not any(m.p for m in model.modules() if isinstance(m, torch.nn.Dropout))
    ids = tokenizer(["a helpful answer", "no"], padding=True, return_tensors="pt")
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    again = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        a = compute_rewards(model.eval(), ids["input_ids"], ids["attention_mask"])
        b = compute_rewards(again, ids["input_ids"], ids["attention_mask"])
    torch.testing.assert_close(a, b)


def test_gguf_clean_up_is_plain_and_equal(tmp_path):
    from transformers.quantizers.quantizer_gguf import GgufHfQuantizer
    from transformers.utils.quantization_config import GgufConfig

    from applications.reward_models.modeling.backbones import forget_gguf_quantization

    torch.manual_seed(0)
    model = build_reward_model(tiny_llama_config(200, PAD), "last").eval()
    # What from_pretrained(..., gguf_file=...) leaves behind on de-quantized float weights.
    model.config.quantization_config = GgufConfig()
    model.hf_quantizer = GgufHfQuantizer(GgufConfig())
    ids, mask = _pad(SEQS, "left")
    with torch.no_grad():
        expected = compute_rewards(model, ids, mask)
    with pytest.raises(ValueError, match="not serializable"):
        model.save_pretrained(tmp_path / "before")
    assert forget_gguf_quantization(model) is model
    assert getattr(model.config, "quantization_config", None) is None
    model.save_pretrained(tmp_path / "after")
    assert "quantization_config" not in (tmp_path / "after" / "config.json").read_text()
    reloaded = AutoModelForSequenceClassification.from_pretrained(tmp_path / "after").eval()
    with torch.no_grad():
        assert torch.equal(compute_rewards(reloaded, ids, mask), expected)


_EVIL = """
import os, pathlib
pathlib.Path(os.environ["MOOPTIM_REMOTE_CODE_MARKER"]).write_text("ran")
from transformers import BertConfig


class EvilConfig(BertConfig):
    model_type = "evil_model"
"""


def _checkpoint_with_own_code(directory) -> None:
    """A tiny checkpoint whose config.json points at Python code that leaves a marker when run."""
    import json

    path = save_tiny_reward_model(str(directory), "bert")
    config = json.loads((directory / "config.json").read_text())
    config["model_type"] = "evil_model"
    config["auto_map"] = {"AutoConfig": "evil.EvilConfig"}
    (directory / "config.json").write_text(json.dumps(config))
    (directory / "evil.py").write_text(_EVIL)
    assert path == str(directory)


def test_checkpoint_code_runs_only_when_trusted(tmp_path, monkeypatch):
    import subprocess
    import sys

    from applications.reward_models.modeling.backbones import RemoteCodeError

    ckpt, marker = tmp_path / "ckpt", tmp_path / "marker"
    _checkpoint_with_own_code(ckpt)
    monkeypatch.setenv("MOOPTIM_REMOTE_CODE_MARKER", str(marker))
    with pytest.raises(RemoteCodeError, match="--trust_remote_code") as info:
        load_reward_model(str(ckpt))
    assert str(ckpt) in str(info.value) and "load_reward_model" in str(info.value)
    from applications.reward_models.rjs.policy import load_policy

    with pytest.raises(RemoteCodeError, match="--trust_remote_code"):
        load_policy(str(ckpt))  # the RJS policy loader follows the same rule
    assert not marker.exists()  # the checkpoint's code was not run
    # Opting in runs it (in a child process: the module cache goes to tmp_path).
    code = (
        "from applications.reward_models.modeling.backbones import load_config;"
        f"load_config({str(ckpt)!r}, trust_remote_code=True)"
    )
    env = {**__import__("os").environ, "HF_MODULES_CACHE": str(tmp_path / "modules")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
    assert marker.read_text() == "ran"


def test_mean_pooling_checkpoint_loads_without_remote_code(tmp_path):
    import subprocess
    import sys

    path = save_tiny_reward_model(str(tmp_path / "mean"), "bert", pooling="mean")
    # A fresh process: only our loader is imported, trust_remote_code stays off.
    code = (
        "from applications.reward_models.modeling.reward_model import load_reward_model;"
        f"m, _ = load_reward_model({path!r});"
        "print(type(m).__module__, type(m).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.split() == [
        "applications.reward_models.modeling.mean_pooling",
        "MeanPoolingRewardModel",
    ]

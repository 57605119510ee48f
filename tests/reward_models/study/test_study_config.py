"""StudyConfig composes the shared sections: each option once, one default, the study's own
default only where it says why; finetune-only options refused on the frozen path."""

from __future__ import annotations

import dataclasses

import pytest

from applications.reward_models.cli import ConfigError
from applications.reward_models.data.source_spec import SourceSpec
from applications.reward_models.sections import ModelConfig, OptimConfig, ScoringConfig
from applications.reward_models.study.config import FINETUNE_ONLY, StudyConfig, parse_args
from applications.reward_models.study.training import trainer_config, trainer_scheme
from applications.reward_models.study.variants import VARIANTS
from applications.reward_models.training.config import TrainConfig

STUDY_DEFAULTS = {"max_steps": 800, "pairs_per_source": 16, "learning_rate": 1e-3}


def test_the_study_composes_the_shared_sections_with_one_default_each() -> None:
    study = {f.name: f for f in dataclasses.fields(StudyConfig)}
    for section in (ModelConfig, ScoringConfig, OptimConfig):
        assert issubclass(StudyConfig, section)
        for f in dataclasses.fields(section):
            assert f.name in study, f.name
            if f.name in STUDY_DEFAULTS:
                assert study[f.name].default == STUDY_DEFAULTS[f.name]
                assert "study:" in study[f.name].metadata["help"]  # says why
            else:
                assert study[f.name].default == f.default, f.name


def test_sources_are_source_specs_checked_as_train_checks_them() -> None:
    config = parse_args(["--sources", "a:webgpt", "verbose"])
    assert config.sources == [SourceSpec(name="a", kind="webgpt"), SourceSpec(name="verbose")]
    with pytest.raises(ConfigError, match="duplicated source names"):
        parse_args(["--sources", "verbose", "verbose"])


@pytest.mark.parametrize("name", FINETUNE_ONLY)
def test_finetune_only_options_are_refused_on_the_frozen_path(name: str) -> None:
    value = {"trainable_blocks": "3", "dropout": "true", "gradient_checkpointing": "true",
             "gradient_accumulation_steps": "2", "mixed_precision": "bf16",
             "lr_scheduler_type": "cosine"}[name]  # fmt: skip
    with pytest.raises(ConfigError, match=f"--{name} applies to --backbone finetune only"):
        parse_args([f"--{name}", value])
    parse_args(["--backbone", "finetune", f"--{name}", value])


def test_the_finetune_path_passes_the_shared_sections_and_the_variant_s_more_config() -> None:
    config = parse_args(["--backbone", "finetune", "--adam_beta2", "0.95", "--max_length", "64"])
    settings = trainer_config(config, VARIANTS["more_body"], 3, ["a", "b"], output_dir="x")
    assert isinstance(settings, TrainConfig) and settings.seed == 3
    assert settings.adam_beta2 == 0.95 and settings.max_length == 64
    assert settings.max_steps == 800 and settings.pairs_per_source == 16
    assert settings.more == VARIANTS["more_body"].more
    assert [s.name for s in settings.sources] == ["a", "b"]
    scheme, more = trainer_scheme(VARIANTS["more_official"])
    assert scheme == "more" and more.lambda_pairs == 1
    assert trainer_scheme(VARIANTS["multitask"])[0] == "multitask"
    assert trainer_scheme(VARIANTS["balanced_uniform"])[0] == "balanced_uniform"
    assert trainer_scheme(VARIANTS["upgrad"]) == ("more", VARIANTS["upgrad"].more)

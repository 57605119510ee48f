"""The study's variants: schemes, ablations and which pairs are compared."""

from __future__ import annotations

from applications.reward_models.study.config import ABLATION_NAMES, parse_args
from applications.reward_models.study.variants import (
    ABLATIONS,
    comparisons,
    study_variants,
    train_config,
)


def test_every_ablation_name_has_variants() -> None:
    assert set(ABLATIONS) == set(ABLATION_NAMES)


def test_variants_and_comparisons_hold_the_batch_fixed() -> None:
    config = parse_args(["--schemes", "multitask,more,single", "--ablations", "more_pairs,ema"])
    variants = study_variants(config, ["a", "b"])
    names = [v.name for v in variants]
    assert names == [
        "multitask",
        "more",
        "single[a]",
        "single[b]",
        "more[4x_pairs]",
        "multitask[4x_pairs]",
        "more[ema0.1]",
    ]
    assert comparisons(variants) == [
        ("more", "multitask"),  # single-source models are references, not compared
        ("more[4x_pairs]", "more"),
        ("more[4x_pairs]", "multitask[4x_pairs]"),
        ("more[ema0.1]", "more"),
        ("more[ema0.1]", "multitask"),
    ]


def test_train_config_applies_the_variant() -> None:
    config = parse_args(
        ["--pairs_per_source", "3", "--ablations", "more_pairs,one_pair,ema,no_normalization"]
    )
    by_name = {v.name: v for v in study_variants(config, ["a", "b"])}
    big = train_config(config, by_name["multitask[4x_pairs]"], 2, ["a", "b"])
    assert big.pairs_per_source == 12 and big.seed == 2 and big.more.lambda_pairs is None
    assert train_config(config, by_name["more[one_pair]"], 0, ["a"]).more.lambda_pairs == 1
    assert train_config(config, by_name["more[ema0.1]"], 0, ["a"]).more.ema_alpha == 0.1
    assert train_config(config, by_name["more[no_norm]"], 0, ["a"]).more.normalizer == "none"
    plain = train_config(config, by_name["more"], 0, ["a", "b"])
    assert plain.pairs_per_source == 3 and plain.more.ema_alpha == 0.99
    assert [s.name for s in plain.sources] == ["a", "b"]

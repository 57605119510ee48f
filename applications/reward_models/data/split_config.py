"""The split section every entry point composes: the data seed and the pairs per source.

:class:`EvalSplitConfig` (what the test pairs are: ``simulator_seed``, ``test_pairs_per_source``)
is composed by ``evaluate``; :class:`SplitConfig` adds ``train_pairs_per_source`` for training,
``reproduce`` and the study. One default each, so ``evaluate`` with no split flags scores the
very test pairs a default training run held out (the rule: :mod:`.splits`).
"""

from __future__ import annotations

from dataclasses import dataclass

from applications.reward_models.cli import at_least, option, positive

__all__ = ["EvalSplitConfig", "SplitConfig"]


@dataclass(kw_only=True)
class EvalSplitConfig:
    """The data seed and the test pairs per source."""

    simulator_seed: int = option(
        0, help="data seed: simulator pairs, held-out prompts, subsets (not the training seed)"
    )
    test_pairs_per_source: int = option(
        100, help="test pairs per source (0: every pair of real sources)", check=at_least(0)
    )


@dataclass(kw_only=True)
class SplitConfig(EvalSplitConfig):
    """:class:`EvalSplitConfig` plus the training pairs per source."""

    train_pairs_per_source: int = option(
        1000,
        help="simulator training pairs per source (real sources: cap_train's cap)",
        check=positive,
    )

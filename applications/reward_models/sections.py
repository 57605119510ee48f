"""The configuration sections every entry point composes, so each option exists once.

* :class:`MoreConfig` (MORE's weighting: method, hyperparameters, subspace, normalizer, EMA,
  ``lambda_pairs``).

Parsing these imports no torch: choice lists that live in torch modules are read lazily, when a
value is checked (:func:`~.cli.one_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from applications.reward_models.cli import ConfigError, in_range, one_of, option, positive
from applications.reward_models.training.choices import (
    STRATEGIES,
    SUBSPACES,
    normalizers,
    weighting_option,
    weightings,
)

__all__ = ["MoreConfig"]


@dataclass
class MoreConfig:
    """MORE's weighting options (defaults = the paper's launch configuration: MGDA's exact
    min-norm λ on the reward head's L2-normalised gradients, EMA 0.99)."""

    weighting: str = option(
        "mgda",
        help="how lambda is computed from the sources' gradients (mgda: the paper's min-norm)",
        check=one_of(weightings),
    )
    weighting_options: dict[str, Any] = option(
        factory=dict,
        parse=weighting_option,
        metavar="KEY=VALUE",
        help="hyperparameters of the weighting (mgda: method=exact|frank_wolfe|...; cagrad: c=0.4)",
    )
    subspace: str = option(
        "head",
        help="gradients for the weighting: head, last_blocks or all",
        check=one_of(lambda: SUBSPACES),
    )
    last_n_blocks: int = option(1, help="blocks used by subspace last_blocks", check=positive)
    normalizer: str = option(
        "l2",
        help="per-source gradient normalization before the solve (l2: paper)",
        check=one_of(normalizers),
    )
    ema_alpha: float | None = option(
        0.99,
        help="EMA weight of the NEW per-source gradient (paper 0.99); null disables",
        check=in_range(0, 1),
    )
    strategy: str = option(
        "autograd",
        help="autograd (one backward per source) or gram",
        check=one_of(lambda: STRATEGIES),
    )
    scale_by_num_objectives: bool = option(False, help="train on K sum_i l_i L_i")
    lambda_pairs: int | None = option(
        None,
        help="pairs per source whose gradients set lambda (null: all; 1: the official code)",
        check=positive,
    )

    def hyperparameters(self) -> dict[str, Any]:
        """``weighting_options`` with each value typed (``"0.5"`` → 0.5, ``"null"`` → None)."""
        return {k: weighting_option((k, v))[1] for k, v in self.weighting_options.items()}

    def check(self) -> None:
        """Raise :class:`~.cli.ConfigError` on options that cannot go together.

        Raises:
            ConfigError: an EMA with the ``gram`` strategy, or hyperparameters the weighting does
                not take (naming them).
        """
        if self.strategy == "gram" and self.ema_alpha not in (None, 0.0, 1.0):
            raise ConfigError(
                "--more.strategy gram keeps no per-source gradient vectors, so it cannot smooth "
                "them: set --more.ema_alpha null (or use --more.strategy autograd)"
            )
        from mooptim.weightings import weighting_from_name

        try:
            weighting_from_name(self.weighting, **self.hyperparameters())
        except (TypeError, ValueError) as error:
            raise ConfigError(f"--more.weighting_options: {error}") from None

"""What :class:`~.trl.MoreRewardTrainer` adds to TRL's evaluation and model card.

Per-source accuracy and ECE come from the project's :mod:`~..evaluation.metrics` (accuracy with
ties counted half; ECE on both orderings (p, 1) and (1 − p, 0), M = 10 equal-width bins, as the
paper's code), on the reward margins Δ = r(x, y_w) − r(x, y_l) of the evaluation pairs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import torch

from applications.reward_models.evaluation.metrics import calibration_errors, preference_accuracy
from applications.reward_models.sections import MoreConfig

__all__ = ["SourceMargins", "more_card_section"]


class SourceMargins:
    """The evaluation margins of every source, gathered over processes, and their metrics."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self._index = {n: i for i, n in enumerate(self.names)}
        self.reset()

    def reset(self) -> None:
        """Forget the margins of the previous evaluation."""
        self._margins: list[torch.Tensor] = []
        self._ids: list[torch.Tensor] = []

    def add(self, accelerator: Any, logits: torch.Tensor, source_ids: Sequence[str]) -> None:
        """Record one evaluation batch (chosen rows first, then rejected, as TRL batches)."""
        chosen, rejected = torch.chunk(logits.detach().squeeze(-1).float(), chunks=2)
        unknown = sorted(set(source_ids) - set(self._index))
        if unknown:
            raise ValueError(f"eval_dataset has sources {unknown} not in {self.names}")
        ids = torch.tensor([self._index[s] for s in source_ids], device=chosen.device)
        self._margins.append(accelerator.gather_for_metrics(chosen - rejected).cpu())
        self._ids.append(accelerator.gather_for_metrics(ids).cpu())

    def metrics(self, prefix: str) -> dict[str, float]:
        """``{prefix}_accuracy/<source>``, ``{prefix}_ece/<source>`` and ``{prefix}_n/<source>``
        for every source with evaluation pairs (``{}`` when none was recorded)."""
        if not self._margins:
            return {}
        margins, ids = torch.cat(self._margins), torch.cat(self._ids)
        out: dict[str, float] = {}
        for i, name in enumerate(self.names):
            mine = margins[ids == i]
            if mine.numel() == 0:
                continue
            out[f"{prefix}_accuracy/{name}"] = preference_accuracy(mine).accuracy
            out[f"{prefix}_ece/{name}"] = calibration_errors(mine, n_bins=10).ece
            out[f"{prefix}_n/{name}"] = float(mine.numel())
        return out


def more_card_section(more: MoreConfig, sources: Sequence[str]) -> str:
    """The model card's MORE section: the sources and every MORE option of the run."""
    rows = "\n".join(f"| `more_{k}` | `{v}` |" for k, v in dataclasses.asdict(more).items())
    return (
        "\n## MORE\n\nTrained with MORE's per-source weighting (mooptim `MoreRewardTrainer`) on "
        f"the sources {', '.join(f'`{s}`' for s in sources)}.\n\n"
        f"| option | value |\n| --- | --- |\n{rows}\n"
    )

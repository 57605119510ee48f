"""Per-step training metrics: device-side running sums and the log (``log.jsonl``, TensorBoard).

A log row (one per logging step) is ``{"step", "loss", "lr", "loss_by_source",
"accuracy_by_source"}`` plus ``"lambda"`` for schemes with per-source weights: every value is the
mean over the step's ``gradient_accumulation_steps`` micro-batches (per source: over the
micro-batches where the source was present; ``None`` where it never was).
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch

from applications.reward_models.training.losses import StepLoss

__all__ = ["RunLog", "StepStats"]


class StepStats:
    """Running sums over one optimizer step's micro-batches, kept on the device.

    They are read (one host sync) only by :meth:`row`, at logging steps.
    """

    def __init__(self, num_sources: int, device: torch.device) -> None:
        self.sums = torch.zeros(2, num_sources, dtype=torch.float64, device=device)
        self.counts = [0] * num_sources
        self.lam_sum = torch.zeros(num_sources, dtype=torch.float64, device=device)
        self.total_loss = torch.zeros((), dtype=torch.float64, device=device)
        self.has_weights = False

    def add(self, out: StepLoss) -> None:
        """Accumulate one micro-batch."""
        if out.weights is not None:
            self.lam_sum += out.weights.to(self.lam_sum)
            self.has_weights = True
        self.total_loss += out.loss.detach().to(self.total_loss)
        for i, (li, ai) in enumerate(zip(out.losses, out.accuracies, strict=True)):
            if li is not None:
                self.sums[0, i] += li.detach().to(self.sums)
                self.sums[1, i] += ai.to(self.sums)
                self.counts[i] += 1

    def row(self, step: int, lr: float, names: list[str], micro_batches: int) -> dict[str, Any]:
        """The log row of this step (means over the ``micro_batches``)."""
        counts = torch.tensor(self.counts, device=self.sums.device)
        per = (self.sums / counts.clamp_min(1)).tolist()
        row: dict[str, Any] = {
            "step": step,
            "loss": self.total_loss.item() / micro_batches,
            "lr": lr,
            "loss_by_source": {
                n: (per[0][i] if self.counts[i] else None) for i, n in enumerate(names)
            },
            "accuracy_by_source": {
                n: (per[1][i] if self.counts[i] else None) for i, n in enumerate(names)
            },
        }
        if self.has_weights:
            lam = (self.lam_sum / micro_batches).tolist()
            row["lambda"] = {n: lam[i] for i, n in enumerate(names)}
        return row


class RunLog:
    """The step log of one run: rows in memory, ``log.jsonl`` and TensorBoard on the main process.

    ``rows`` (restored from a checkpoint on resume) are written out again at construction, so
    ``log.jsonl`` always matches the checkpointed run. Every other rank r writes its own rows
    (its local losses, and the λ it applied) to ``log.rank<r>.jsonl``, from the step this process
    started at: a diagnostic, e.g. to check that λ is identical on every rank.
    """

    def __init__(
        self,
        run_dir: str,
        rows: list[dict[str, Any]] | None = None,
        *,
        rank: int = 0,
        tensorboard: bool = False,
    ) -> None:
        self.rows: list[dict[str, Any]] = list(rows or [])
        self.main_process = rank == 0
        self.path = os.path.join(run_dir, "log.jsonl" if rank == 0 else f"log.rank{rank}.jsonl")
        self.writer = None
        with open(self.path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(row) + "\n" for row in self.rows if self.main_process)
        if self.main_process and tensorboard:
            from torch.utils.tensorboard import SummaryWriter  # optional package

            self.writer = SummaryWriter(os.path.join(run_dir, "tensorboard"))

    def append(self, row: dict[str, Any]) -> None:
        """Keep ``row``; the main process appends it to ``log.jsonl`` and TensorBoard."""
        self.rows.append(row)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        if self.writer is not None:
            step = row["step"]
            self.writer.add_scalar("train/loss", row["loss"], step)
            self.writer.add_scalar("train/lr", row["lr"], step)
            for key in ("loss_by_source", "accuracy_by_source", "lambda"):
                for n, v in row.get(key, {}).items():
                    if v is not None:
                        self.writer.add_scalar(f"{key}/{n}", v, step)

    def close(self) -> None:
        """Flush and close TensorBoard."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None

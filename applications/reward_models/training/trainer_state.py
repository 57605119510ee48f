"""The save / resume half of :class:`~.trainer.RewardModelTrainer`.

A checkpoint holds the weights, the tokenizer and ``trainer_state.pt``: everything besides the
weights and RNG that continuing exactly needs (step, optimizer, scheduler, sampler position, the
weighting's EMA buffers, the fp16 loss scale, the log rows). Writes are atomic
(:mod:`.checkpoint`), so a crash leaves the previous checkpoint intact; reads are verified against
the checkpoint's sha256 manifest and never unpickle anything but tensors and plain data.
"""

from __future__ import annotations

import os
from typing import Any

from accelerate import Accelerator

from applications.reward_models.training.checkpoint import (
    atomic_directory,
    load_latest_intact,
    load_model_weights,
    load_trainer_state,
    save_checkpoint,
)
from applications.reward_models.training.schemes import Scheme
from applications.reward_models.training.step_log import RunLog

__all__ = ["TrainerState"]


class TrainerState:
    """Checkpoint methods over the attributes :meth:`.trainer.RewardModelTrainer.setup` sets."""

    accelerator: Accelerator
    scheme: Scheme
    run_dir: str
    global_step: int
    run_log: RunLog | None
    model: Any
    tokenizer: Any
    optimizer: Any
    scheduler: Any
    sampler: Any
    weighting: Any

    @property
    def is_main_process(self) -> bool:
        """Whether this process writes the run's files."""
        return self.accelerator.is_main_process

    def state_dict(self) -> dict[str, Any]:
        """Everything besides the weights and RNG that resuming needs (``trainer_state.pt``).

        ``scaler`` is the fp16 ``GradScaler``'s state (loss scale, growth tracker) when accelerate
        uses one, else ``None``.
        """
        scaler = self.accelerator.scaler
        return {
            "step": self.global_step,
            "scheme": self.scheme.name,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "sampler": self.sampler.state_dict(),
            "weighting": self.weighting.state_dict() if self.weighting is not None else None,
            "scaler": scaler.state_dict() if scaler is not None else None,
            "log": self.run_log.rows if self.run_log is not None else [],
        }

    def resume(self) -> list[dict[str, Any]]:
        """Restore the latest intact checkpoint of ``run_dir`` (if any); returns its log rows.

        Every file is checked against the checkpoint's sha256 manifest first; a damaged
        checkpoint is skipped with a warning naming it (:func:`.checkpoint.load_latest_intact`).
        """
        rank = self.accelerator.process_index
        found = load_latest_intact(self.run_dir, lambda p: load_trainer_state(p, rank))
        if found is None:
            return []
        path, state = found
        load_model_weights(path, self.accelerator.unwrap_model(self.model))
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.sampler.load_state_dict(state["sampler"])
        if self.weighting is not None:
            self.weighting.load_state_dict(state["weighting"])
        scaler = self.accelerator.scaler
        if scaler is not None and state.get("scaler") is not None:
            scaler.load_state_dict(state["scaler"])
        self.global_step = state["step"]
        self.accelerator.print(f"[{self.scheme.name}] resumed from {path} at step {state['step']}")
        return state["log"]

    def _write_model(self, directory: str) -> None:
        self.accelerator.unwrap_model(self.model).save_pretrained(
            directory, safe_serialization=True
        )
        self.tokenizer.save_pretrained(directory)

    def save(self, path: str) -> None:
        """Write an atomic checkpoint to ``path`` (collective: every rank calls it)."""
        acc = self.accelerator
        save_checkpoint(
            path,
            write_model=self._write_model,
            trainer_state=self.state_dict(),
            rank=acc.process_index,
            world_size=acc.num_processes,
            barrier=acc.wait_for_everyone,
        )

    def save_final(self) -> str:
        """Write ``final/`` (model + tokenizer, atomically) from the main process; returns it."""
        final_dir = os.path.join(self.run_dir, "final")
        if self.is_main_process:
            with atomic_directory(final_dir) as tmp:
                self._write_model(tmp)
        return final_dir

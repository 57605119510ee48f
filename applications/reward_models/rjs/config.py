"""Settings of the RJS pipeline: one dataclass, exposed 1:1 as command-line flags.

Defaults are the offline CPU run: 32 simulator prompts, n = 4 samples from SmolLM2-135M-Instruct,
MiniLM reward models of the MultiTask and MORE schemes from the training CLI's default layout
``outputs/reward_models/<scheme>/final``, a few SFT steps, judged by the simulator's gold utility.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from applications.reward_models.rjs.generation import GenerationConfig
from applications.reward_models.rjs.sft import SFTConfig


@dataclass
class RJSConfig:
    """All pipeline settings (``--flag`` = field name with ``_`` → ``-``).

    Attributes:
        out_dir: run directory; every stage reads and writes below it.
        policy: base policy (``smollm2`` alias, a directory, a ``.gguf`` file or a hub id).
        threads: ``torch.set_num_threads`` for the run (``None``: torch's default); on a shared
            CPU, 1 avoids thread oversubscription.
        prompt_source: ``simulator`` or a preference-source kind (``hh_helpful``, ``hh_harmless``,
            ``oasst1``, ``webgpt``, ``summarize``) whose unique prompts are used.
        prompt_path: file / hub name for a real prompt source (``None``: the loader's default).
        num_prompts, eval_prompts: prompts sampled for RJS (train split) and for judging (test).
        sim_seed: simulator seed (prompts, held-out pairs, gold judge).
        rm_dir, schemes: RMs at ``<rm_dir>/<scheme>/final`` unless ``rms`` is given.
        rms: explicit ``NAME=PATH`` reward models (overrides ``rm_dir``/``schemes``).
        judge: ``gold`` (simulator gold utility), ``rm:NAME`` (one of the RMs) or ``http``.
        ppl_sources: sources for the PPL columns (default: all simulator sources, or the
            prompt source).
        ppl_pairs, ece_pairs: held-out pairs per source for perplexity and a computed ECE.
    """

    out_dir: str = "outputs/rjs"
    policy: str = "smollm2"
    threads: int | None = None
    prompt_source: str = "simulator"
    prompt_path: str | None = None
    num_prompts: int = 32
    eval_prompts: int = 32
    sim_seed: int = 0
    # sampling
    n: int = 4
    max_new_tokens: int = 64
    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int = 50
    gen_batch_size: int = 32
    seed: int = 0
    # reward models
    rm_dir: str = "outputs/reward_models"
    schemes: list[str] = field(default_factory=lambda: ["multitask", "more"])
    rms: list[str] = field(default_factory=list)
    rm_max_length: int = 512
    rm_batch_size: int = 32
    # SFT
    sft_learning_rate: float = 1e-5
    sft_batch_size: int = 4
    sft_epochs: int = 1
    sft_max_steps: int = 0
    sft_max_length: int = 384
    # evaluation
    judge: str = "gold"
    judge_url: str | None = None
    judge_model: str = "gpt-4o-mini"
    judge_aspect: str = "helpful"
    judge_timeout: float = 30.0
    judge_retries: int = 3
    ppl_sources: list[str] = field(default_factory=list)
    ppl_pairs: int = 16
    ece_pairs: int = 64

    def generation(self) -> GenerationConfig:
        return GenerationConfig(
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            batch_size=self.gen_batch_size,
            seed=self.seed,
        )

    def sft(self) -> SFTConfig:
        return SFTConfig(
            learning_rate=self.sft_learning_rate,
            batch_size=self.sft_batch_size,
            epochs=self.sft_epochs,
            max_steps=self.sft_max_steps,
            max_length=self.sft_max_length,
            seed=self.seed,
        )

    def reward_models(self) -> dict[str, str]:
        """``name → checkpoint path`` of the RMs to use.

        Raises:
            ValueError: a ``rms`` entry is not ``NAME=PATH`` or a name repeats.
        """
        if not self.rms:
            return {s: str(Path(self.rm_dir) / s / "final") for s in self.schemes}
        out: dict[str, str] = {}
        for item in self.rms:
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                raise ValueError(f"--rms entries must be NAME=PATH, got {item!r}")
            if name in out:
                raise ValueError(f"reward model name {name!r} given twice")
            out[name] = path
        return out

    def path(self, *parts: str) -> Path:
        return Path(self.out_dir).joinpath(*parts)


def _base_type(tp: Any) -> tuple[Any, bool]:
    """``(scalar type, is_list)`` of a field annotation such as ``str | None`` or ``list[str]``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _base_type(args[0])
    if origin is list:
        return typing.get_args(tp)[0], True
    return tp, False


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """Add one ``--flag`` per :class:`RJSConfig` field (lists take several values)."""
    hints = typing.get_type_hints(RJSConfig)
    for f in dataclasses.fields(RJSConfig):
        tp, is_list = _base_type(hints[f.name])
        flag = "--" + f.name.replace("_", "-")
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        kwargs: dict[str, Any] = {"type": tp, "default": default, "dest": f.name}
        if is_list:
            kwargs["nargs"] = "*"
        parser.add_argument(flag, help=f"(default: {default})", **kwargs)


def config_from_args(args: argparse.Namespace) -> RJSConfig:
    return RJSConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(RJSConfig)})

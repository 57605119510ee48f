"""Settings of the RJS pipeline: one dataclass whose fields are the command-line options.

Defaults are the offline CPU run: 32 simulator prompts, n = 4 samples from SmolLM2-135M-Instruct,
MiniLM reward models of the MultiTask and MORE schemes from the training CLI's default layout
``outputs/reward_models/<scheme>/final``, a few SFT steps, judged by the simulator's gold utility.
Parsing and checks: :mod:`applications.reward_models.cli` (``--output_dir``, ``--config``). The
reward models are scored as the training CLI scores them: :class:`~..sections.ScoringConfig`
(``--max_length``, ``--eval_batch_size``, the training defaults). A real prompt source is a
:class:`~..data.source_spec.SourceSpec` (:meth:`RJSConfig.prompt_spec`): one file works with
``--prompt_holdout_fraction`` (its seeded share of prompts is the test split) or
``--prompt_test_path``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from applications.reward_models.cli import at_least, one_of, option, parse_with, positive
from applications.reward_models.data.source_spec import SourceSpec
from applications.reward_models.sections import ScoringConfig

if TYPE_CHECKING:
    from applications.reward_models.rjs.generation import GenerationConfig
    from applications.reward_models.rjs.sft import SFTConfig

PROG = "python -m applications.reward_models.rjs"
STAGE_NAMES = ("sample", "score", "select", "sft", "evaluate", "report")
"""The stages in pipeline order (``all`` runs them in this order); :data:`.pipeline.STAGES` maps
each to its function (a test keeps the two in step; named here so that parsing imports no
torch)."""
DESCRIPTION = (
    "Best-of-n reject sampling with reward models, SFT, and alignment evaluation. "
    "STAGE is one of sample, score, select, sft, evaluate, report, or all."
)


def _prompt_sources() -> Sequence[str]:
    from applications.reward_models.data.source_spec import SOURCE_OPTIONS

    return tuple(SOURCE_OPTIONS)


def _judge(value: str) -> str | None:
    ok = value in ("gold", "http") or (value.startswith("rm:") and len(value) > 3)
    return None if ok else "gold, http or rm:NAME"


def _in_unit_open_low(value: float) -> str | None:
    return None if 0 < value <= 1 else "in (0, 1]"


def _in_unit_open(value: float) -> str | None:
    return None if 0 < value < 1 else "in (0, 1)"


@dataclass(kw_only=True)
class RJSConfig(ScoringConfig):
    """All pipeline settings (see each option's help)."""

    output_dir: str = option(
        "outputs/rjs", help="run directory; every stage reads and writes below it"
    )
    policy: str = option(
        "smollm2", help="base policy: smollm2, a directory, a .gguf file or a hub id"
    )
    threads: int | None = option(
        None, help="torch.set_num_threads (null: torch's default)", check=positive
    )
    prompt_source: str = option(
        "simulator", help="simulator or a preference-source kind", check=one_of(_prompt_sources)
    )
    prompt_path: str | None = option(None, help="file / hub name of a real prompt source")
    prompt_test_path: str | None = option(
        None, help="separate file of test prompts of a one-file prompt source"
    )
    prompt_holdout_fraction: float | None = option(
        None,
        help="hold out this seeded share of a one-file prompt source's prompts as its test split",
        check=_in_unit_open,
    )
    num_prompts: int = option(32, help="prompts sampled for RJS (train split)", check=positive)
    eval_prompts: int = option(32, help="prompts for judging (test split)", check=positive)
    simulator_seed: int = option(0, help="data seed (prompts, held-out pairs, gold judge)")
    # sampling
    n: int = option(4, help="samples per prompt", check=positive)
    max_new_tokens: int = option(64, help="tokens generated per sample", check=positive)
    temperature: float = option(0.7, help="softmax temperature (0: greedy)", check=at_least(0))
    top_p: float = option(0.9, help="nucleus mass kept (1: off)", check=_in_unit_open_low)
    top_k: int = option(50, help="most likely tokens kept (0: off)", check=at_least(0))
    gen_batch_size: int = option(32, help="prompts per generation batch", check=positive)
    seed: int = option(0, help="sampling and SFT seed")
    # reward models
    rm_dir: str = option("outputs/reward_models", help="RMs at <rm_dir>/<scheme>/final")
    schemes: list[str] = option(factory=lambda: ["multitask", "more"], help="schemes under rm_dir")
    rms: list[str] = option(
        factory=list, metavar="NAME=PATH", help="explicit reward models (override rm_dir/schemes)"
    )
    trust_remote_code: bool = option(
        False, help="allow model code from the checkpoint's repository (only if you trust it)"
    )
    # SFT
    sft_learning_rate: float = option(1e-5, help="SFT learning rate", check=positive)
    sft_batch_size: int = option(4, help="SFT batch size", check=positive)
    sft_epochs: int = option(1, help="SFT epochs", check=positive)
    sft_max_steps: int = option(0, help="cap on SFT steps (0: none)", check=at_least(0))
    sft_max_length: int = option(384, help="SFT token budget", check=positive)
    # evaluation
    judge: str = option("gold", help="gold (simulator utility), rm:NAME or http", check=_judge)
    judge_url: str | None = option(None, help="OpenAI-compatible endpoint of --judge http")
    judge_model: str = option("gpt-4o-mini", help="model name sent to the http judge")
    judge_aspect: str = option(
        "helpful",
        help="helpful or harmless (http judge)",
        check=one_of(lambda: ("helpful", "harmless")),
    )
    judge_timeout: float = option(30.0, help="seconds per judge request", check=positive)
    judge_retries: int = option(3, help="retries per judge comparison", check=at_least(0))
    judge_max_response_bytes: int = option(
        1 << 20, help="largest http judge answer accepted (larger: the run stops)", check=positive
    )
    ppl_sources: list[str] = option(
        factory=list,
        help="sources of the PPL columns (default: all simulator sources, or the prompt source)",
    )
    ppl_pairs: int = option(16, help="held-out pairs per source for perplexity", check=positive)
    ece_pairs: int = option(64, help="held-out pairs per source for a computed ECE", check=positive)
    ece_sources: list[str] = option(
        factory=list,
        metavar="ROLE=SOURCE",
        help="test sets the ECE column averages, as in the paper's helpful and harmless "
        "(default: helpful=shared harmless=shared on the simulator, else hh_helpful / hh_harmless)",
    )

    def prompt_spec(self, kind: str | None = None) -> SourceSpec:
        """The real prompt source (``kind``: default ``prompt_source``) as a
        :class:`~..data.source_spec.SourceSpec`: ``prompt_path`` with its test rule."""
        kind = kind or self.prompt_source
        return SourceSpec(
            name=kind,
            kind=kind,
            path=self.prompt_path,
            test_path=self.prompt_test_path,
            holdout_fraction=self.prompt_holdout_fraction,
        )

    def generation(self) -> GenerationConfig:
        from applications.reward_models.rjs.generation import GenerationConfig

        return GenerationConfig(
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            batch_size=self.gen_batch_size,
            seed=self.seed,
        )

    def sft(self) -> SFTConfig:
        from applications.reward_models.rjs.sft import SFTConfig

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
        return _name_map(self.rms, "--rms", "NAME=PATH")

    def ece_roles(self) -> dict[str, str]:
        """``role → test source`` whose ECEs the report averages (the paper: the mean over the
        Helpful and Harmless test sets). The simulator has no helpful / harmless split: its
        ``shared`` source (the gold preference alone, the role H&H plays) stands in for both, so
        the column is the RM's ECE on ``shared``.

        Raises:
            ValueError: an ``ece_sources`` entry is not ``ROLE=SOURCE`` or a role repeats.
        """
        if self.ece_sources:
            return _name_map(self.ece_sources, "--ece_sources", "ROLE=SOURCE")
        if self.prompt_source == "simulator":
            return {"helpful": "shared", "harmless": "shared"}
        return {"helpful": "hh_helpful", "harmless": "hh_harmless"}

    def path(self, *parts: str) -> Path:
        """``output_dir / parts``; refused if it resolves outside ``output_dir``."""
        from applications.reward_models.rjs.names import contained_path

        return contained_path(self.output_dir, *parts)

    def validate(self) -> RJSConfig:
        """Cross-option checks, before any model or data is loaded
        (:func:`.checks.check_config`); returns self."""
        from applications.reward_models.rjs.checks import check_config

        check_config(self)
        return self


def _name_map(items: Sequence[str], flag: str, form: str) -> dict[str, str]:
    """``["A=x", "B=y"]`` → ``{"A": "x", "B": "y"}``; a malformed entry or a repeated name is an
    error naming ``flag``."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"{flag} entries must be {form}, got {item!r}")
        if name in out:
            raise ValueError(f"{flag}: name {name!r} given twice")
        out[name] = value
    return out


def parse_args(argv: Sequence[str] | None = None) -> tuple[str, RJSConfig]:
    """``STAGE [--option value ...]`` (default ``sys.argv[1:]``) → ``(stage, checked config)``.

    Raises:
        ConfigError: see :func:`applications.reward_models.cli.parse`.
    """

    def add_stage(parser: Any) -> None:
        parser.add_argument("stage", choices=[*STAGE_NAMES, "all"], help="the stage to run")

    usage = f"{PROG} STAGE [-h] [--config FILE.yaml] [--option value ...]"
    config, extra = parse_with(RJSConfig, argv, PROG, DESCRIPTION, add=add_stage, usage=usage)
    return extra["stage"], config

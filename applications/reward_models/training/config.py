"""Training configuration: dataclasses filled from a YAML file and ``--key value`` overrides.

Follows the transformers/TRL convention (one dataclass of typed fields with defaults); nested
sections are addressed with dots on the command line, e.g. ``--more.ema_alpha 0.9``. Values given on
the command line are parsed as YAML scalars (``1e-4`` → float, ``true`` → bool, ``null`` → None).
Precedence: defaults < ``--config`` file < command-line overrides.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import os
import types
import typing
from dataclasses import dataclass, field
from typing import Any

import yaml

SCHEMES = ("single", "multitask", "more", "all")
"""``all`` trains MultiTask and MORE on the same data and seed (the default comparison)."""
MIXED_PRECISION = ("no", "bf16", "fp16")
SUBSPACES = ("head", "last_blocks", "all")
STRATEGIES = ("autograd", "gram")
NORMALIZERS = ("none", "l2", "loss", "loss+")
SOLVERS = ("exact", "frank_wolfe", "projected_gradient", "cvxpy")
SOURCE_KINDS = ("simulator", "hh_helpful", "hh_harmless", "oasst1", "webgpt", "summarize", "pairs")
SCHEDULERS = ("linear", "cosine", "constant_with_warmup", "constant", "cosine_with_restarts")


@dataclass
class SourceConfig:
    """One preference source (one MORE objective).

    Attributes:
        name: the source's name in logs and tables; for ``kind="simulator"`` one of the simulator's
            sources (``PreferenceSimulator.source_names``).
        kind: ``simulator`` or a real dataset loader (``hh_helpful``, ``hh_harmless``, ``oasst1``,
            ``webgpt``, ``summarize``).
        path: local file / hub name for real datasets (``None`` → the loader's hub default).
        split: training split.
        test_split: evaluation split (``None`` → no evaluation on this source).
        cap_train: real sources: keep at most ``train_pairs_per_source`` training pairs (seeded
            subset); ``False`` (default) uses them all.
        options: extra loader options (``SOURCE_OPTIONS`` of the data package, e.g. OASST1
            ``pairing``, WebGPT ``ties``).
    """

    name: str
    kind: str = "simulator"
    path: str | None = None
    split: str = "train"
    test_split: str | None = "test"
    cap_train: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class MoreConfig:
    """MORE's weighting options (defaults = the paper's launch configuration).

    Attributes:
        subspace: gradients for the min-norm problem taken on ``head`` (the reward head, paper),
            ``last_blocks`` (the last ``last_n_blocks`` transformer blocks + head) or ``all``.
        last_n_blocks: blocks used by ``subspace="last_blocks"``.
        normalizer: per-source gradient normalization before the solve (``l2``: g_i/‖g_i‖, paper).
        ema_alpha: EMA of the per-source subspace gradients, g̃_i ← (1−α) g̃_i + α g_i (mooptim's
            convention: α is the weight of the NEW gradient; paper 0.99); ``0``/``None`` disables.
        strategy: ``autograd`` (one backward per source on the subspace) or ``gram``.
        solver: min-norm solver (``exact`` for K ≤ 5-ish, else ``frank_wolfe``).
        scale_by_num_objectives: train on K Σ λ_i L_i instead of Σ λ_i L_i.
    """

    subspace: str = "head"
    last_n_blocks: int = 1
    normalizer: str = "l2"
    ema_alpha: float | None = 0.99
    strategy: str = "autograd"
    solver: str = "exact"
    scale_by_num_objectives: bool = False


def _default_sources() -> list[SourceConfig]:
    return []


@dataclass
class TrainConfig:
    """Everything ``python -m applications.reward_models.train`` needs.

    Attributes (data):
        sources: preference sources; empty → every simulator source.
        simulator_seed: seed of the simulator (data), independent of the training seed.
        train_pairs_per_source: simulator pairs generated per source for training.
        test_pairs_per_source: simulator / real test pairs per source used for evaluation (0: all
            real ones).
        resample_to: resample every source to this many pairs (paper: 40 000); ``None`` keeps sizes.
        max_length: token budget of prompt + response (the response must survive whole); 192
            keeps every simulator pair (they are at most ~160 MiniLM tokens).
        single_source: the source trained by ``scheme="single"`` (default: the first source).
    Attributes (model):
        model: ``minilm``, ``smollm2``, a local directory or a hub id.
        pooling: ``auto`` | ``cls`` | ``mean`` | ``last`` (see :mod:`.model`).
        dropout: keep the backbone's dropout (disabled by default, as in TRL).
        gradient_checkpointing: trade compute for memory.
        trainable_blocks: fine-tune only the last n transformer blocks (+ final norm/pooler and
            head); ``None`` = full fine-tuning (paper). The default 2 keeps the offline CPU run in
            minutes (backward through 2 of MiniLM's 6 blocks).
    Attributes (optimization):
        scheme: ``single`` | ``multitask`` | ``more`` | ``all`` (= multitask and more).
        pairs_per_source: m; a step holds K × m pairs for every scheme (paper 5 × 16 = 80; the
            default 4 keeps the offline CPU run in minutes).
        max_steps, learning_rate, weight_decay, warmup_ratio, lr_scheduler_type, adam_beta1,
        adam_beta2, adam_epsilon, max_grad_norm (0 disables clipping),
        gradient_accumulation_steps, mixed_precision (``no`` | ``bf16`` | ``fp16``), seed.
    Attributes (output):
        output_dir, save_steps (0: only the final checkpoint), save_total_limit, logging_steps,
        resume (continue from the latest checkpoint in ``output_dir/<scheme>``), tensorboard,
        eval_batch_size, progress_bar.
    """

    # data
    sources: list[SourceConfig] = field(default_factory=_default_sources)
    simulator_seed: int = 0
    train_pairs_per_source: int = 1000
    test_pairs_per_source: int = 100
    resample_to: int | None = None
    max_length: int = 192
    single_source: str | None = None
    # model
    model: str = "minilm"
    pooling: str = "auto"
    dropout: bool = False
    gradient_checkpointing: bool = False
    trainable_blocks: int | None = 2
    # optimization
    scheme: str = "all"
    pairs_per_source: int = 4
    max_steps: int = 100
    learning_rate: float = 5e-4
    weight_decay: float = 0.0
    warmup_ratio: float = 0.1
    lr_scheduler_type: str = "linear"
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    gradient_accumulation_steps: int = 1
    mixed_precision: str = "no"
    seed: int = 0
    more: MoreConfig = field(default_factory=MoreConfig)
    # output
    output_dir: str = "outputs/reward_models"
    save_steps: int = 0
    save_total_limit: int | None = 2
    logging_steps: int = 1
    resume: bool = False
    tensorboard: bool = False
    eval_batch_size: int = 64
    progress_bar: bool = True

    def schemes(self) -> list[str]:
        """The schemes to train, in order."""
        return ["multitask", "more"] if self.scheme == "all" else [self.scheme]

    def validate(self) -> TrainConfig:
        """Check values; returns ``self``.

        Raises:
            ValueError: unknown scheme / pooling / kind / normalizer / solver / subspace /
                strategy, a non-positive size, a duplicated source, or a missing local path.
            ImportError: an optional package needed by the options is not installed.
        """
        _choice("scheme", self.scheme, SCHEMES)
        _choice("pooling", self.pooling, ("auto", "cls", "mean", "last"))
        _choice("mixed_precision", self.mixed_precision, MIXED_PRECISION)
        _choice("lr_scheduler_type", self.lr_scheduler_type, SCHEDULERS)
        _choice("more.subspace", self.more.subspace, SUBSPACES)
        _choice("more.normalizer", self.more.normalizer, NORMALIZERS)
        _choice("more.strategy", self.more.strategy, STRATEGIES)
        _choice("more.solver", self.more.solver, SOLVERS)
        for name in ("train_pairs_per_source", "pairs_per_source", "max_steps", "max_length"):
            _positive(name, getattr(self, name))
        for name in ("gradient_accumulation_steps", "logging_steps", "eval_batch_size"):
            _positive(name, getattr(self, name))
        _positive("more.last_n_blocks", self.more.last_n_blocks)
        if self.trainable_blocks is not None:
            _positive("trainable_blocks", self.trainable_blocks)
        if self.resample_to is not None:
            _positive("resample_to", self.resample_to)
        if self.test_pairs_per_source < 0 or self.save_steps < 0:
            raise ValueError("test_pairs_per_source and save_steps must be >= 0")
        if not 0.0 <= self.warmup_ratio <= 1.0:
            raise ValueError(f"warmup_ratio must be in [0, 1], got {self.warmup_ratio}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        alpha = self.more.ema_alpha
        if alpha is not None and not 0.0 <= alpha <= 1.0:
            raise ValueError(f"more.ema_alpha must be in [0, 1] or null, got {alpha}")
        if self.more.strategy == "gram" and alpha not in (None, 0.0, 1.0):
            raise ValueError(
                "more.strategy 'gram' keeps no per-source gradient vectors, so it cannot smooth "
                "them: set more.ema_alpha to null (or use more.strategy autograd)"
            )
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicated source names: {dupes}")
        for i, source in enumerate(self.sources):
            _choice(f"sources[{i}].kind", source.kind, SOURCE_KINDS)
            _check_source(i, source)
            if source.path and _looks_local(source.path) and not os.path.exists(source.path):
                raise ValueError(
                    f"sources[{i}] ({source.name!r}): path {source.path!r} does not exist"
                )
            if source.path and source.path.endswith(".parquet"):
                _require("pyarrow", f"sources[{i}] reads a parquet file")
        single = self.scheme == "single" and self.single_source is not None
        if single and self.sources and self.single_source not in names:
            raise ValueError(f"single_source {self.single_source!r} is not one of {names}")
        if self.tensorboard:
            _require("tensorboard", "tensorboard: true")
        if self.model.strip().lower() == "smollm2" or self.model.endswith(".gguf"):
            _require("gguf", f"model {self.model!r} (a GGUF checkpoint)")
        if self.more.solver == "cvxpy":
            _require("cvxpy", "more.solver: cvxpy")
        if _looks_local(self.model) and not os.path.exists(os.path.expanduser(self.model)):
            raise ValueError(f"model path {self.model!r} does not exist")
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain-data view (YAML-serialisable)."""
        return dataclasses.asdict(self)


def _check_source(i: int, source: SourceConfig) -> None:
    from applications.reward_models.data.simulator import SOURCE_DRIFTS
    from applications.reward_models.data.sources import SOURCE_OPTIONS

    if source.kind == "simulator" and source.name not in SOURCE_DRIFTS:
        _choice(f"sources[{i}] simulator source", source.name, tuple(SOURCE_DRIFTS))
    allowed = SOURCE_OPTIONS.get(source.kind, ())
    unknown = sorted(set(source.options) - set(allowed))
    if unknown:
        raise ValueError(
            f"sources[{i}] ({source.name!r}): unknown options {unknown} for kind {source.kind!r}; "
            f"allowed: {list(allowed)}"
        )


def _looks_local(path: str) -> bool:
    return path.startswith(("/", "./", "../", "~")) or os.path.splitext(path)[1] in {
        ".json",
        ".jsonl",
        ".gz",
        ".parquet",
        ".gguf",
    }


def _choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        hint = difflib.get_close_matches(str(value), choices, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ValueError(f"unknown {name} {value!r}{extra}; expected one of {list(choices)}")


def _positive(name: str, value: int) -> None:
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")


def _require(package: str, why: str) -> None:
    if importlib.util.find_spec(package) is None:
        raise ImportError(f"{why} needs the optional package {package!r}: pip install {package}")


# -- building dataclasses from plain data ----------------------------------------------------


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except (TypeError, ValueError) as err:
                errors.append(str(err))
        raise TypeError(errors[0] if errors else f"{where}: cannot be None")
    if origin is list:
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        if not isinstance(value, list):
            raise TypeError(f"{where}: expected a list, got {type(value).__name__}")
        return [_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise TypeError(f"{where}: expected a mapping, got {type(value).__name__}")
        return dict(value)
    if dataclasses.is_dataclass(annotation):
        if annotation is SourceConfig and isinstance(value, str):
            return parse_source(value)
        if isinstance(value, annotation):
            return value
        if not isinstance(value, dict):
            raise TypeError(f"{where}: expected a mapping, got {type(value).__name__}")
        return from_dict(annotation, value, where)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise TypeError(f"{where}: expected true/false, got {value!r}")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise TypeError(f"{where}: expected an integer, got {value!r}")
    if annotation is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            # YAML 1.1 reads "1e-4" (no dot) as a string.
            try:
                return float(value)
            except ValueError:
                pass
        raise TypeError(f"{where}: expected a number, got {value!r}")
    if annotation is str:
        if isinstance(value, str):
            return value
        raise TypeError(f"{where}: expected a string, got {value!r}")
    return value


def parse_source(text: str) -> SourceConfig:
    """``"name"``, ``"name:kind"`` or ``"name:kind:path"`` → :class:`SourceConfig`."""
    parts = text.split(":", 2)
    return SourceConfig(*[p.strip() for p in parts])


def from_dict(cls: type, data: dict[str, Any], where: str = "") -> Any:
    """Build dataclass ``cls`` from ``data``, coercing and checking types.

    Raises:
        ValueError: a key that is not a field (with a suggestion).
        TypeError: a value of the wrong type.
    """
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in names:
            hint = difflib.get_close_matches(str(key), names, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(f"unknown config key {path!r}{extra}")
        kwargs[key] = _coerce(value, hints[key], path)
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ValueError(f"{where or cls.__name__}: {err}") from None


def _set_nested(data: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ValueError(f"--{dotted}: {key!r} is not a section")
        node = child
    node[keys[-1]] = value


def load_yaml(path: str) -> dict[str, Any]:
    """Read a YAML mapping; errors name the file."""
    if not os.path.isfile(path):
        raise ValueError(f"config file {path!r} does not exist")
    with open(path, encoding="utf-8") as f:
        try:
            data = yaml.safe_load(f) or {}
        except yaml.YAMLError as err:
            raise ValueError(f"{path}: invalid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """Parse ``[--config x.yaml] [--key value | --key=value | --flag] ...`` into a validated config.

    A bare ``--flag`` (no value, or followed by another ``--option``) means ``true``.

    Raises:
        ValueError, TypeError, ImportError: see :func:`from_dict` and :meth:`TrainConfig.validate`.
    """
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    overrides: list[tuple[str, Any]] = []
    config_path = None
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in ("-h", "--help"):
            print(usage())
            raise SystemExit(0)
        if not token.startswith("--"):
            raise ValueError(f"unexpected argument {token!r}; options look like --key value")
        key, eq, raw = token[2:].partition("=")
        if not eq:
            if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                raw = argv[i + 1]
                i += 1
            else:
                raw = "true"
        i += 1
        key = key.replace("-", "_")
        if key == "config":
            config_path = raw
            continue
        overrides.append((key, _parse_scalar(raw)))
    data = load_yaml(config_path) if config_path else {}
    for key, value in overrides:
        _set_nested(data, key, value)
    return from_dict(TrainConfig, data).validate()


def _parse_scalar(raw: str) -> Any:
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    return raw if isinstance(value, dict | list) and "," in raw else value


def usage() -> str:
    """Help text listing every option with its default."""
    lines = [
        "usage: python -m applications.reward_models.train [--config file.yaml] [--key value ...]",
        "",
        "options (defaults in brackets; nested keys with dots):",
    ]
    for f in dataclasses.fields(TrainConfig):
        if f.name == "more":
            for g in dataclasses.fields(MoreConfig):
                lines.append(f"  --more.{g.name} [{g.default}]")
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        lines.append(f"  --{f.name} [{default}]")
    lines.append("  --sources name[:kind[:path]],...   (default: every simulator source)")
    return "\n".join(lines)


def save_config(config: TrainConfig, path: str) -> None:
    """Write the resolved config as YAML (loadable again with ``--config``)."""
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(config.to_dict(), f, sort_keys=False)

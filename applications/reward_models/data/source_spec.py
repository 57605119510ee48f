"""One preference source, for every entry point: :class:`SourceSpec`, its parsing and checks.

Training (``--sources``), evaluation, ``reproduce``, RJS's prompt source, the study and the TRL
path describe a source with this one type: what to read (``kind``, ``path``, ``split``, loader
``options``) and where its test pairs come from (``test_split``, ``test_path``,
``holdout_fraction``; the rule is :mod:`.splits`'). On the command line a source is
``name[:kind[:path]]`` (comma-separated for several); in a ``--config`` file a mapping with the
field names as keys (:func:`parse_source`). :func:`check_sources` refuses duplicated names,
unknown kinds / simulator sources / loader options and missing local files before anything is
loaded.

This module imports no torch (parsing ``--help`` must stay fast); the loaders are
:mod:`.sources`'.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from applications.reward_models.cli import ConfigError, one_of, option

__all__ = [
    "SOURCE_OPTIONS",
    "SourceSpec",
    "check_sources",
    "missing_local",
    "parse_source",
]

SOURCE_OPTIONS: dict[str, tuple[str, ...]] = {
    "simulator": (),
    "hh_helpful": (),
    "hh_harmless": (),
    "oasst1": ("lang", "pairing"),
    "webgpt": ("ties", "test_fraction"),
    "summarize": (),
    "pairs": (),
}
"""Every source kind (the loaders are :data:`.sources.SOURCE_KINDS`, a test keeps the two in
step) and the loader options it takes."""


@dataclass(frozen=True)
class SourceSpec:
    """One preference source (one MORE objective); see the field helps and :mod:`.splits`.

    Raises:
        ValueError: an unknown kind or loader option, ``holdout_fraction`` outside (0, 1),
            both ``test_path`` and ``holdout_fraction``, or either for a simulator source.
    """

    name: str = option(help="the source's name; for kind simulator one of the simulator sources")
    kind: str = option("simulator", help="simulator, a real-data loader or pairs")
    path: str | None = option(None, help="local file / hub name (None: the loader's default)")
    split: str = option("train", help="training split")
    test_split: str | None = option("test", help="evaluation split (None: not evaluated)")
    test_path: str | None = option(
        None, help="separate local file of test pairs (one-file sources)"
    )
    holdout_fraction: float | None = option(
        None, help="hold out this seeded share of a one-file source's prompts as its test set"
    )
    cap_train: bool = option(
        False, help="real sources: keep at most train_pairs_per_source training pairs"
    )
    options: Mapping[str, Any] = option(
        factory=dict, help="extra loader options (SOURCE_OPTIONS of the data package)"
    )

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"SourceSpec.name must be a non-empty string, got {self.name!r}")
        if self.kind not in SOURCE_OPTIONS:
            hint = difflib.get_close_matches(str(self.kind), list(SOURCE_OPTIONS), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(
                f"unknown source kind {self.kind!r} (source {self.name!r}); "
                f"valid kinds: {', '.join(SOURCE_OPTIONS)}{extra}"
            )
        unknown = set(self.options) - set(SOURCE_OPTIONS[self.kind])
        if unknown:
            valid = ", ".join(SOURCE_OPTIONS[self.kind]) or "none"
            raise ValueError(
                f"unknown option(s) {sorted(unknown)} for source kind {self.kind!r}; valid: {valid}"
            )
        self._check_test_rule()

    def _check_test_rule(self) -> None:
        h = self.holdout_fraction
        if h is not None and not 0.0 < h < 1.0:
            raise ValueError(f"source {self.name!r}: holdout_fraction must lie in (0, 1), got {h}")
        if h is not None and self.test_path is not None:
            raise ValueError(f"source {self.name!r}: give test_path or holdout_fraction, not both")
        if self.kind == "simulator" and (h is not None or self.test_path is not None):
            raise ValueError(
                f"simulator source {self.name!r} has its own test prompts; "
                "test_path / holdout_fraction do not apply"
            )

    def test_rule(self) -> str:
        """Where the test pairs come from, as written to ``metrics.json``."""
        if self.test_split is None:
            return "none"
        if self.test_path is not None:
            return f"test_path {self.test_path}"
        if self.holdout_fraction is not None:
            return f"holdout_fraction {self.holdout_fraction} of {self.path}"
        return f"{self.kind} split {self.test_split!r}"


def parse_source(value: str | Mapping[str, Any]) -> SourceSpec | list[SourceSpec]:
    """``"name[:kind[:path]]"`` (comma-separated for several) or a file mapping → source(s).

    Raises:
        ConfigError: an unknown key, a missing name or a bad value (naming the source).
    """
    if isinstance(value, Mapping):
        return _source_from_mapping(value)
    if "," in value:
        return [parse_source(part) for part in value.split(",") if part.strip()]  # type: ignore[misc]
    return _spec(*[p.strip() for p in value.split(":", 2)])


class _SourceError(ConfigError, argparse.ArgumentTypeError):
    """A bad source: a :class:`ConfigError` that ``argparse`` reports with its own message."""


def _spec(*args: Any, **kwargs: Any) -> SourceSpec:
    try:
        return SourceSpec(*args, **kwargs)
    except ValueError as error:
        if isinstance(error, ConfigError):
            raise
        raise _SourceError(str(error)) from None


def _holdout(name: str, value: Any) -> float:
    try:
        fraction = float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"sources[{name}].holdout_fraction: expected a number, got {value!r}"
        ) from None
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"sources[{name}].holdout_fraction must be in (0, 1), got {fraction}")
    return fraction


_NULLABLE = ("path", "test_split", "test_path", "holdout_fraction")


def _field_value(name: str, key: str, value: Any) -> Any:
    if key == "options":
        if not isinstance(value, Mapping):
            raise ConfigError(f"sources[{name}].options: expected a mapping")
        return {k: _yaml_value(v) for k, v in value.items()}
    if key == "cap_train":
        from applications.reward_models.cli.strict_yaml import parse_bool

        return parse_bool(value, f"sources[{name}].cap_train")
    if key in _NULLABLE and str(value).lower() in ("null", "none", "~", ""):
        return None
    if key == "holdout_fraction":
        return _holdout(name, value)
    return str(value)


def _source_from_mapping(data: Mapping[str, Any]) -> SourceSpec:
    from applications.reward_models.cli._parser import _suggest

    names = [f.name for f in dataclasses.fields(SourceSpec)]
    for key in data:
        if key not in names:
            raise ConfigError(f"sources: unknown key {key!r}{_suggest(str(key), names)}")
    if "name" not in data:
        raise ConfigError(f"sources: every source needs a name, got {dict(data)}")
    return _spec(**{k: _field_value(data["name"], k, v) for k, v in data.items()})


def _yaml_value(value: Any) -> Any:
    """A loader option's value (free-form: its type is the loader's): text read as YAML."""
    from applications.reward_models.cli.strict_yaml import load_option_value

    return load_option_value(value) if isinstance(value, str) else value


def missing_local(path: str) -> bool:
    """A name that is a local path (:func:`.io.is_local_path`, or spelled as a path, which
    a hub id never is) but does not exist."""
    from applications.reward_models.data.io import is_local_path, spelled_as_path

    expanded = os.path.expanduser(path)
    return (spelled_as_path(path) or is_local_path(expanded)) and not os.path.exists(expanded)


def check_sources(sources: Sequence[SourceSpec]) -> None:
    """Refuse duplicated names, unknown simulator sources and missing paths.

    Raises:
        ConfigError: naming the source (``--sources[i] ('name')``) and what is wrong.
    """
    from applications.reward_models.data.simulator import SOURCE_DRIFTS

    names = [s.name for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"--sources: duplicated source names {dupes}")
    simulated = one_of(lambda: tuple(SOURCE_DRIFTS))
    for i, source in enumerate(sources):
        where = f"--sources[{i}] ({source.name!r})"
        allowed = simulated(source.name) if source.kind == "simulator" else None
        if allowed is not None:
            raise ConfigError(f"{where}: simulator source {source.name!r} must be {allowed}")
        for path in (source.path, source.test_path):
            if path and missing_local(path):
                raise ConfigError(f"{where}: path {path!r} does not exist")

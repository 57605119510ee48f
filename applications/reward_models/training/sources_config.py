"""The training sources: :class:`SourceConfig` (one MORE objective), its parsing and checks.

A source is given on the command line as ``name[:kind[:path]]`` (comma-separated for several)
or in a ``--config`` file as a mapping with the field names as keys (:func:`parse_source`);
:func:`check_sources` refuses duplicated names, unknown kinds / simulator sources / loader
options and missing local files before anything is loaded.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from applications.reward_models.cli import ConfigError, one_of, option
from applications.reward_models.cli.strict_yaml import load_option_value, parse_bool

__all__ = ["SourceConfig", "check_sources", "missing_local", "parse_source"]


def _source_kinds() -> Sequence[str]:
    from applications.reward_models.data.sources import SOURCE_KINDS

    return tuple(SOURCE_KINDS)


@dataclass
class SourceConfig:
    """One preference source (one MORE objective); see the field helps."""

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
    options: dict[str, Any] = option(
        factory=dict, help="extra loader options (SOURCE_OPTIONS of the data package)"
    )


def parse_source(value: str | Mapping[str, Any]) -> SourceConfig | list[SourceConfig]:
    """``"name[:kind[:path]]"`` (comma-separated for several) or a file mapping → source(s)."""
    if isinstance(value, Mapping):
        return _source_from_mapping(value)
    if "," in value:
        return [parse_source(part) for part in value.split(",") if part.strip()]  # type: ignore[misc]
    return SourceConfig(*[p.strip() for p in value.split(":", 2)])


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


def _source_from_mapping(data: Mapping[str, Any]) -> SourceConfig:
    from applications.reward_models.cli._parser import _suggest

    names = [f.name for f in dataclasses.fields(SourceConfig)]
    for key in data:
        if key not in names:
            raise ConfigError(f"sources: unknown key {key!r}{_suggest(str(key), names)}")
    if "name" not in data:
        raise ConfigError(f"sources: every source needs a name, got {dict(data)}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "options":
            if not isinstance(value, Mapping):
                raise ConfigError(f"sources[{data['name']}].options: expected a mapping")
            kwargs[key] = {k: _yaml_value(v) for k, v in value.items()}
        elif key == "cap_train":
            kwargs[key] = parse_bool(value, f"sources[{data['name']}].cap_train")
        elif key in ("path", "test_split", "test_path", "holdout_fraction") and str(
            value
        ).lower() in ("null", "none", "~", ""):
            kwargs[key] = None
        elif key == "holdout_fraction":
            kwargs[key] = _holdout(data["name"], value)
        else:
            kwargs[key] = str(value)
    return SourceConfig(**kwargs)


def _yaml_value(value: Any) -> Any:
    """A loader option's value (free-form: its type is the loader's): text read as YAML."""
    return load_option_value(value) if isinstance(value, str) else value


def missing_local(path: str) -> bool:
    """A name that is a local path (:func:`.data.io.is_local_path`, or spelled as a path, which
    a hub id never is) but does not exist."""
    from applications.reward_models.data.io import is_local_path, spelled_as_path

    expanded = os.path.expanduser(path)
    return (spelled_as_path(path) or is_local_path(expanded)) and not os.path.exists(expanded)


def check_sources(sources: Sequence[SourceConfig]) -> None:
    """Refuse duplicated names, unknown kinds / simulator sources / options, missing paths.

    Raises:
        ConfigError: naming the source (``--sources[i] ('name')``) and what is wrong.
    """
    from applications.reward_models.data.simulator import SOURCE_DRIFTS
    from applications.reward_models.data.sources import SOURCE_OPTIONS

    names = [s.name for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"--sources: duplicated source names {dupes}")
    for i, source in enumerate(sources):
        where = f"--sources[{i}] ({source.name!r})"
        for label, value, check in (
            ("kind", source.kind, one_of(_source_kinds)),
            ("simulator source", source.name, one_of(lambda: tuple(SOURCE_DRIFTS))),
        ):
            if label == "simulator source" and source.kind != "simulator":
                continue
            allowed = check(value)
            if allowed is not None:
                raise ConfigError(f"{where}: {label} {value!r} must be {allowed}")
        unknown = sorted(set(source.options) - set(SOURCE_OPTIONS.get(source.kind, ())))
        if unknown:
            raise ConfigError(
                f"{where}: unknown options {unknown} for kind {source.kind!r}; "
                f"allowed: {list(SOURCE_OPTIONS.get(source.kind, ()))}"
            )
        if source.path and missing_local(source.path):
            raise ConfigError(f"{where}: path {source.path!r} does not exist")

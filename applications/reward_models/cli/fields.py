"""Dataclass fields ↔ ``argparse``: one option per leaf field, values back into the dataclass.

Nested dataclass fields are flattened into dotted options (``more.ema_alpha``) for
:class:`~._parser.OptionParser` and rebuilt afterwards; every value is then checked by its
field's ``check`` (:mod:`.options`).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from typing import Any

from applications.reward_models.cli._parser import ConfigError, OptionParser

__all__ = ["build_parser", "check_values", "flat_fields", "rebuild"]


@dataclasses.dataclass(frozen=True)
class _Flat:
    """One leaf option: its dotted name, resolved type and dataclass field."""

    name: str
    type: Any
    field: dataclasses.Field


def _optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(tp))
    return tp, False


def flat_fields(cls: type, prefix: str = "") -> list[_Flat]:
    """The leaf options of dataclass ``cls``; nested dataclass fields become ``a.b``."""
    hints = typing.get_type_hints(cls)
    out: list[_Flat] = []
    for f in dataclasses.fields(cls):
        name = prefix + f.name
        base, _ = _optional(hints[f.name])
        if dataclasses.is_dataclass(base) and f.metadata.get("parse") is None:
            out += flat_fields(base, name + ".")
        else:
            out.append(_Flat(name, hints[f.name], f))
    return out


def _has_default(f: dataclasses.Field) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def _add_option(parser: OptionParser, leaf: _Flat) -> None:
    meta = leaf.field.metadata
    if not meta.get("help"):
        raise TypeError(f"option {leaf.name!r} has no help text")
    _, nullable = _optional(leaf.type)
    if meta.get("parse") is not None:
        parser.add_argument(
            f"--{leaf.name}",
            *meta["aliases"],
            dest=leaf.name,
            nargs="+",
            type=meta["parse"],
            default=_default(leaf.field),
            metavar=meta.get("metavar"),
            help=meta["help"],
        )
        return
    shadow = copy.copy(leaf.field)
    shadow.name, shadow.type = leaf.name, leaf.type
    kept = {k: meta[k] for k in ("help", "aliases", "metavar") if meta.get(k)}
    if not _has_default(leaf.field):
        kept["help"] += " (required)"
    shadow.metadata = types.MappingProxyType(kept)
    if not _has_default(leaf.field):
        shadow.default = None  # required: checked after the file and the command line merge
    parser.add_dataclass_field(shadow, nullable=nullable or not _has_default(leaf.field))


def build_parser(cls: type, prog: str, description: str, usage: str | None = None) -> OptionParser:
    """An ``argparse`` parser with one option per leaf field of ``cls`` plus ``--config``."""
    usage = usage or f"{prog} [-h] [--config FILE.yaml] [--option value ...]"
    parser = OptionParser(prog=prog, description=description, usage=usage, allow_abbrev=False)
    parser.add_argument(
        "--config",
        metavar="FILE.yaml",
        default=None,
        help="YAML file of option values (nested mappings for dotted options); "
        "command-line options override it",
    )
    for leaf in flat_fields(cls):
        _add_option(parser, leaf)
    return parser


# -- argv / file -> dataclass ------------------------------------------------------------------


def rebuild(cls: type, values: Mapping[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        name = prefix + f.name
        base, _ = _optional(hints[f.name])
        if dataclasses.is_dataclass(base) and f.metadata.get("parse") is None:
            kwargs[f.name] = rebuild(base, values, name + ".")
        elif name in values:
            kwargs[f.name] = _collect(f, values[name], name)
    return cls(**kwargs)


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


def _collect(f: dataclasses.Field, value: Any, name: str) -> Any:
    """A ``parse`` field's values arrive as a list; a ``dict`` field merges its pairs."""
    if f.metadata.get("parse") is None:
        return value
    if isinstance(value, dict):
        return value
    value = [y for x in value for y in (x if isinstance(x, list) else [x])]
    if isinstance(_default(f), dict):
        return _unique_pairs(value, name)
    return value


def _unique_pairs(pairs: list[tuple[str, Any]], name: str) -> dict[str, Any]:
    """The ``(key, value)`` pairs of the dict option ``--name`` as a dict; a key given twice is an
    error naming it and both values (a dict would keep the last one silently)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ConfigError(
                f"--{name}: key {key!r} given twice ({out[key]!r} and {value!r}); "
                "give each key once"
            )
        out[key] = value
    return out


def check_values(config: Any) -> None:
    """Run every field's check (floats must also be finite); raises :class:`ConfigError`.

    Checks that import their owner module (:func:`one_of`) run after all the others, so a bad
    number is reported within the time it takes to import this module.
    """
    leaves = flat_fields(type(config))
    for late in (False, True):
        for leaf in leaves:
            value = config
            for part in leaf.name.split("."):
                value = getattr(value, part)
            _check_one(leaf, value, late)


def _check_one(leaf: _Flat, value: Any, late: bool) -> None:
    if value is None:
        if not _has_default(leaf.field) and not late:
            raise ConfigError(f"--{leaf.name} is required")
        return
    check = leaf.field.metadata.get("check")
    if late != getattr(check, "imports", False):
        check = None
    for item in value if isinstance(value, list) else [value]:
        if not late and isinstance(item, float) and not math.isfinite(item):
            raise ConfigError(f"--{leaf.name} must be a finite number, got {item}")
        allowed = check(item) if check is not None else None
        if allowed is not None and late:
            what = leaf.name.rsplit(".", 1)[-1]
            raise ConfigError(f"--{leaf.name}: unknown {what} {item!r}; expected {allowed}")
        if allowed is not None:
            raise ConfigError(f"--{leaf.name} must be {allowed}, got {item!r}")

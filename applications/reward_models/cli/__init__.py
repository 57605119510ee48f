"""One command-line convention for every entry point: dataclass options, ``--config``, checks.

Every CLI (``train``, ``evaluate``, ``rjs``, ``reproduce``) is a dataclass whose fields are its
options, declared with :func:`option` (help text, a range check, aliases). :func:`parse` turns
``argv`` into a checked instance:

* flags are the field names with underscores (``--output_dir``; the dashed spelling
  ``--output-dir`` is accepted too), nested dataclass fields are dotted (``--more.ema_alpha``);
* ``--config file.yaml`` supplies values (nested mappings allowed); precedence is
  defaults < file < command line;
* values are converted by the field's declared type, never by YAML guessing (``--output_dir
  2024-01-01`` stays a string; file scalars are read as text and converted the same way);
  ``null``/``none`` sets an optional field to ``None``;
* every value is checked before anything is loaded: floats must be finite, and each field's
  ``check`` (:func:`positive`, :func:`at_least`, :func:`in_range`, :func:`one_of`) names the
  option and the allowed range; an option given twice, an unknown option (with a "did you
  mean") and a missing required option are errors.

Built on :class:`transformers.HfArgumentParser` (the convention of ``TrainingArguments`` and
TRL's ``TrlParser``), which maps flat fields to ``argparse`` arguments. Nested dataclasses are
flattened here into dotted fields before being handed to it, and fields it cannot express
(``list`` of dataclasses, ``dict``) declare their own ``parse`` function.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import difflib
import math
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from applications.reward_models.cli._parser import ConfigError, OptionParser

__all__ = [
    "ConfigError",
    "at_least",
    "build_parser",
    "check_values",
    "flat_fields",
    "in_range",
    "key_value",
    "one_of",
    "option",
    "parse",
    "parse_with",
    "positive",
    "run_cli",
]

Check = Callable[[Any], str | None]
"""``check(value) -> None`` if allowed, else the allowed range (``"a finite number > 0"``)."""


def option(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    check: Check | None = None,
    factory: Callable[[], Any] | None = None,
    aliases: Sequence[str] = (),
    parse: Callable[[Any], Any] | None = None,
    metavar: str | None = None,
) -> Any:
    """A dataclass field that is a command-line option.

    Args:
        default: the default; omitted (and no ``factory``) → the option is required.
        help: one line shown by ``--help``.
        check: validation run at parse time (see :func:`positive` etc.).
        factory: ``default_factory`` for mutable defaults.
        aliases: extra flags (deprecated spellings), e.g. ``("--out-dir",)``.
        parse: converter for one command-line token or file item, for types ``argparse``
            cannot express (list of dataclasses, ``NAME=VALUE`` mappings); the field then takes
            one or more values.
        metavar: how the value is shown in ``--help``.
    """
    meta = {"help": help, "check": check, "aliases": list(aliases), "parse": parse}
    meta["metavar"] = metavar
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def positive(value: Any) -> str | None:
    """Allowed: ``> 0``."""
    return None if value > 0 else "> 0"


def at_least(low: float) -> Check:
    """Allowed: ``>= low``."""
    return lambda value: None if value >= low else f">= {low:g}"


def in_range(low: float, high: float, *, open_high: bool = False) -> Check:
    """Allowed: ``low <= value <= high`` (``< high`` with ``open_high``)."""
    ok = (lambda v: low <= v < high) if open_high else (lambda v: low <= v <= high)
    text = f"in [{low:g}, {high:g}{')' if open_high else ']'}"
    return lambda value: None if ok(value) else text


def one_of(choices: Callable[[], Sequence[str]]) -> Check:
    """Allowed: one of ``choices()`` (called lazily, so the owner module is imported only when
    the value is checked); the message suggests the closest name."""

    def check(value: Any) -> str | None:
        names = [str(c) for c in choices()]
        if value in names:
            return None
        hint = difflib.get_close_matches(str(value), names, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        return f"one of {names}{extra}"

    check.imports = True  # type: ignore[attr-defined]
    return check


def key_value(value: str | tuple[Any, Any]) -> tuple[str, Any]:
    """``"KEY=VALUE"`` (or a ``(key, value)`` pair from a file mapping) → ``(KEY, VALUE)``; for
    ``dict`` options such as ``--trained_on A=shared``."""
    if isinstance(value, tuple):
        return str(value[0]), value[1]
    key, sep, text = value.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {value!r}")
    return key.strip(), text


# -- fields -> argparse ------------------------------------------------------------------------


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


def _rebuild(cls: type, values: Mapping[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        name = prefix + f.name
        base, _ = _optional(hints[f.name])
        if dataclasses.is_dataclass(base) and f.metadata.get("parse") is None:
            kwargs[f.name] = _rebuild(base, values, name + ".")
        elif name in values:
            kwargs[f.name] = _collect(f, values[name])
    return cls(**kwargs)


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


def _collect(f: dataclasses.Field, value: Any) -> Any:
    """A ``parse`` field's values arrive as a list; a ``dict`` field merges its pairs."""
    if f.metadata.get("parse") is None:
        return value
    if isinstance(value, dict):
        return value
    value = [y for x in value for y in (x if isinstance(x, list) else [x])]
    if isinstance(_default(f), dict):
        keys = [k for k, _ in value]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ConfigError(f"--{f.name}: {repeated} given twice")
        return dict(value)
    return value


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


def parse(
    cls: type,
    argv: Sequence[str] | None,
    prog: str,
    description: str,
    *,
    data: Mapping[str, Any] | None = None,
) -> Any:
    """Parse ``argv`` (and ``--config``/``data`` values) into a checked ``cls`` instance.

    ``data`` are values given in code (same form as a config file, lowest precedence after the
    defaults). Calls ``validate()`` on the result if ``cls`` has one (cross-option checks).

    Raises:
        ConfigError: any invalid, unknown, repeated or missing option (a ``ValueError``).
        SystemExit: ``--help`` (status 0).
    """
    return parse_with(cls, argv, prog, description, data=data)[0]


def parse_with(
    cls: type,
    argv: Sequence[str] | None,
    prog: str,
    description: str,
    *,
    data: Mapping[str, Any] | None = None,
    add: Callable[[OptionParser], None] | None = None,
    usage: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """:func:`parse` with extra arguments: ``add(parser)`` adds them (e.g. a positional
    ``stage``; ``usage`` then describes them); returns ``(config, {dest: value})`` of those
    extras."""
    parser = build_parser(cls, prog, description, usage)
    if add is not None:
        add(parser)
    values = parser.parse_merged(list(sys.argv[1:] if argv is None else argv), data)
    config = _rebuild(cls, values)
    check_values(config)
    validate = getattr(config, "validate", None)
    if callable(validate):
        config = validate()
    names = {leaf.name for leaf in flat_fields(cls)}
    return config, {k: v for k, v in values.items() if k not in names}


def run_cli(load: Callable[[], Any], run: Callable[[Any], Any]) -> int:
    """``run(load())``; a bad option prints one line ``error: ...`` and returns 2."""
    try:
        config = load()
    except (ValueError, TypeError, ImportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    result = run(config)
    return result if isinstance(result, int) else 0

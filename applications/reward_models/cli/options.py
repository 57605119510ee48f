"""Declaring options: :func:`option` (a dataclass field with help, check, aliases) and the checks.

A check is ``check(value) -> None`` if the value is allowed, else the allowed range as text
(``"> 0"``, ``"one of [...]"``), which the parser puts into its error message.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Check", "at_least", "in_range", "key_value", "one_of", "option", "positive"]

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

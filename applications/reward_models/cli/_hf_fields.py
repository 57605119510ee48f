"""A dataclass field → ``argparse`` argument, as ``transformers.HfArgumentParser`` maps it.

The mapping is HfArgumentParser's (the convention of ``TrainingArguments`` and TRL's
``TrlParser``: ``--name`` and ``--na-me``, ``X | None`` unwrapped, ``bool`` as an optional
``[BOOL]`` value plus ``--no_name`` for a true-by-default flag, ``list[X]`` as one or more values),
re-implemented for the types this project's options use so that parsing and ``--help`` import
no ``transformers`` (importing it takes seconds). ``tests/reward_models/test_cli.py`` checks that
every option of every entry point gets the arguments HfArgumentParser gives it.

Warning: only the subset above is supported (no ``Literal`` / ``Enum`` choices — choices are
checks, see :func:`.options.one_of`); another type is passed to ``argparse`` as the conversion
function, as HfArgumentParser does.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from copy import copy
from typing import Any

__all__ = ["add_field_argument", "string_to_bool"]


def string_to_bool(value: str | bool) -> bool:
    """``yes/true/t/y/1`` → True, ``no/false/f/n/0`` → False (case-insensitive)."""
    if isinstance(value, bool):
        return value
    if value.lower() in ("yes", "true", "t", "y", "1"):
        return True
    if value.lower() in ("no", "false", "f", "n", "0"):
        return False
    raise argparse.ArgumentTypeError(
        f"Truthy value expected: got {value} but expected one of yes/no, true/false, t/f, y/n, "
        "1/0 (case insensitive)."
    )


def _unwrap_optional(tp: Any) -> Any:
    """``X | None`` → ``X`` (``bool | None`` stays: it is a flag), as HfArgumentParser does."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return tp
    args = typing.get_args(tp)
    if type(None) not in args or bool in args:
        return tp
    return args[0] if args[1] is type(None) else args[1]


def _is_bool(tp: Any) -> bool:
    return tp is bool or tp == (bool | None)


def _value_kwargs(field: dataclasses.Field, tp: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(tp) or tp
    if _is_bool(tp):
        kwargs["type"] = string_to_bool
        if tp is bool or field.default not in (None, dataclasses.MISSING):
            kwargs["default"] = False if field.default is dataclasses.MISSING else field.default
            kwargs["nargs"] = "?"
            kwargs["const"] = True
    elif isinstance(origin, type) and issubclass(origin, list):
        kwargs["type"] = typing.get_args(tp)[0]
        kwargs["nargs"] = "+"
        if field.default_factory is not dataclasses.MISSING:
            kwargs["default"] = field.default_factory()
        elif field.default is dataclasses.MISSING:
            kwargs["required"] = True
    else:
        kwargs["type"] = tp
        if field.default is not dataclasses.MISSING:
            kwargs["default"] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            kwargs["default"] = field.default_factory()
        else:
            kwargs["required"] = True
    return kwargs


def add_field_argument(parser: argparse.ArgumentParser, field: dataclasses.Field) -> None:
    """Add ``field`` (its ``type`` resolved, not a string) to ``parser`` as HfArgumentParser's
    ``_parse_dataclass_field`` does; ``field.metadata`` holds extra ``add_argument`` keywords
    (``help``, ``metavar``, ``aliases``)."""
    names = [f"--{field.name}"]
    if "_" in field.name:
        names.append(f"--{field.name.replace('_', '-')}")
    kwargs = dict(field.metadata)
    aliases = kwargs.pop("aliases", [])
    aliases = [aliases] if isinstance(aliases, str) else list(aliases)
    tp = _unwrap_optional(field.type)
    plain = copy(kwargs)
    parser.add_argument(*names, *aliases, **_value_kwargs(field, tp, kwargs))
    if field.default is True and _is_bool(tp):
        parser.add_argument(
            f"--no_{field.name}",
            f"--no-{field.name.replace('_', '-')}",
            action="store_false",
            dest=field.name,
            **{**plain, "default": False},
        )

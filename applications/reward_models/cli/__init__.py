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

Flat fields map to ``argparse`` arguments exactly as :class:`transformers.HfArgumentParser` maps
them (the convention of ``TrainingArguments`` and TRL's ``TrlParser``; re-implemented in
:mod:`._hf_fields` so that parsing imports no transformers). Nested dataclasses are flattened
here into dotted fields first, and fields it cannot express
(``list`` of dataclasses, ``dict``) declare their own ``parse`` function.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from applications.reward_models.cli._parser import ConfigError, OptionParser
from applications.reward_models.cli.fields import build_parser, check_values, flat_fields, rebuild
from applications.reward_models.cli.options import (
    Check,
    at_least,
    in_range,
    key_value,
    one_of,
    option,
    positive,
)

__all__ = [
    "Check",
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
    config = rebuild(cls, values)
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

"""The ``argparse`` layer of :mod:`applications.reward_models.cli`.

:class:`OptionParser` is an ``argparse`` parser with ``transformers.HfArgumentParser``'s mapping
of dataclass fields (:mod:`._hf_fields`, without importing transformers) that raises
:class:`ConfigError` instead of printing usage and exiting, rejects repeated and unknown options
(with a suggestion), reads ``--config`` files as text and converts their values with the same
argument types as the command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
from collections.abc import Mapping
from typing import Any, NoReturn

from applications.reward_models.cli._hf_fields import add_field_argument
from applications.reward_models.cli.strict_yaml import YAMLConfigError, load_yaml_file

NULLS = ("null", "none", "~", "")


class ConfigError(ValueError):
    """An invalid option value, file or combination; the message names the option."""


def _text(value: Any) -> str:
    """A Python scalar as the command line would spell it (``True`` → ``true``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _nullable(convert: Any) -> Any:
    def parse(text: str) -> Any:
        return None if text.strip().lower() in NULLS else convert(text)

    parse.__name__ = getattr(convert, "__name__", "value")
    return parse


def load_yaml(path: str) -> dict[str, Any]:
    """Read a YAML mapping with every scalar kept as text (types come from the fields).

    Raises:
        ConfigError: a missing file, invalid YAML (duplicate keys and aliases included, see
            :mod:`applications.reward_models.cli.strict_yaml`) or a top level that is not a mapping.
    """
    if not os.path.exists(path):
        raise ConfigError(f"--config: file {path!r} does not exist")
    try:  # text only (no type guessing); no duplicate keys or aliases (strict_yaml)
        data = load_yaml_file(path) or {}
    except YAMLConfigError as err:
        raise ConfigError(str(err)) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _suggest(name: str, names: list[str]) -> str:
    hint = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` lists the underscore spellings (the dashed ones parse but are not shown)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.help and action.help.endswith("(required)"):
            return action.help
        return super()._get_help_string(action)

    def _format_action_invocation(self, action: argparse.Action) -> str:
        flags = [s for s in action.option_strings if "-" not in s.lstrip("-")]
        if not flags:
            return super()._format_action_invocation(action)
        if action.nargs == 0:
            return ", ".join(flags)
        return f"{', '.join(flags)} {self._format_args(action, action.dest.upper())}"


class OptionParser(argparse.ArgumentParser):
    """``argparse`` with ``HfArgumentParser``'s dataclass fields (:mod:`._hf_fields`), one-line
    errors, ``--config`` files and strict options."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(**kwargs)

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)

    def add_dataclass_field(self, field: dataclasses.Field, *, nullable: bool) -> None:
        """Add ``--name`` (and ``--no_name`` for a true-by-default flag) for ``field``."""
        add_field_argument(self, field)
        action = self._option_string_actions[f"--{field.name}"]
        if action.help:
            action.help = action.help.replace("%", "%%")
        if action.type is not None and getattr(action.type, "__name__", "") == "string_to_bool":
            action.type = _named(action.type, "bool")
        if nullable and action.type is not None:
            action.type = _nullable(action.type)
        if action.metavar is None and action.type is not None:
            action.metavar = getattr(action.type, "__name__", "value").upper()
        negative = self._option_string_actions.get(f"--no_{field.name}")
        if negative is not None:
            negative.help = f"turn off --{field.name}"

    # -- parsing -----------------------------------------------------------------------------

    def _dests(self) -> dict[str, argparse.Action]:
        return {a.dest: a for a in self._actions if f"--{a.dest}" in a.option_strings}

    def _reject_repeats(self, argv: list[str]) -> None:
        seen: dict[str, str] = {}
        for token in argv:
            if not token.startswith("--"):
                continue
            flag = token.split("=", 1)[0]
            action = self._option_string_actions.get(flag)
            if action is None or action.dest == "help":
                continue
            if action.dest in seen:
                also = "" if seen[action.dest] == flag else f" (also as {seen[action.dest]})"
                raise ConfigError(
                    f"{flag} given twice{also}; give an option once "
                    "(list options take several values after one flag)"
                )
            seen[action.dest] = flag

    def _flatten(self, data: Mapping[str, Any], where: str, prefix: str = "") -> dict[str, Any]:
        dests = self._dests()
        out: dict[str, Any] = {}
        for key, value in data.items():
            name = f"{prefix}{key}"
            if name in dests and name not in ("config", "help"):
                out[name] = value
            elif any(d.startswith(name + ".") for d in dests):
                if not isinstance(value, Mapping):
                    raise ConfigError(f"{where}: {name!r} is a section: expected a mapping")
                out.update(self._flatten(value, where, name + "."))
            else:
                known = [d for d in dests if d not in ("help", "config")]
                raise ConfigError(f"{where}: unknown option {name!r}{_suggest(name, known)}")
        return out

    def _convert(self, dest: str, value: Any, where: str) -> Any:
        action = self._dests()[dest]
        if action.nargs in ("+", "*"):
            if isinstance(value, Mapping):
                items: list[Any] = list(value.items())
            else:
                items = value if isinstance(value, list) else [value]
            return [self._convert_one(action, v, where) for v in items]
        if isinstance(value, list | Mapping):
            raise ConfigError(f"{where}: --{dest} takes one value, got {value!r}")
        return self._convert_one(action, value, where)

    @staticmethod
    def _convert_one(action: argparse.Action, value: Any, where: str) -> Any:
        if value is None or action.type is None:
            return value
        try:
            if isinstance(value, Mapping | tuple):
                return action.type(value)
            return action.type(_text(value))
        except (ValueError, TypeError) as err:
            raise ConfigError(
                f"{where}: invalid value {value!r} for --{action.dest}: {err}"
            ) from None

    def _config_path(self, argv: list[str]) -> str | None:
        for i, token in enumerate(argv):
            if token == "--config":
                if i + 1 == len(argv):
                    raise ConfigError("--config expects a file name")
                return argv[i + 1]
            if token.startswith("--config="):
                return token.split("=", 1)[1]
        return None

    def _attach_negatives(self, argv: list[str]) -> list[str]:
        """``--x -1e-3`` → ``--x=-1e-3``: argparse takes ``-1e-3`` and ``-inf`` for flags."""
        out: list[str] = []
        for token in argv:
            action = self._option_string_actions.get(out[-1]) if out else None
            takes_value = action is not None and action.nargs is None and action.type is not None
            if takes_value and token.startswith("-") and _is_number(token):
                out[-1] = f"{out[-1]}={token}"
            else:
                out.append(token)
        return out

    def parse_merged(self, argv: list[str], data: Mapping[str, Any] | None) -> dict[str, Any]:
        """``{dest: value}`` from defaults < ``data`` < ``--config`` file < ``argv``."""
        argv = self._attach_negatives(argv)
        self._reject_repeats(argv)
        values = self._flatten(data or {}, "settings")
        path = self._config_path(argv)
        if path is not None:
            values.update(self._flatten(load_yaml(path), path))
        converted = {k: self._convert(k, v, path or "settings") for k, v in values.items()}
        self.set_defaults(**converted)
        namespace, rest = self.parse_known_args(argv)
        if rest:
            self._unknown(rest[0])
        out = vars(namespace)
        out.pop("config", None)
        return out

    def _unknown(self, token: str) -> NoReturn:
        if token.startswith("-"):
            flag = token.split("=", 1)[0]
            flags = [s for s in self._option_string_actions if s.startswith("--")]
            raise ConfigError(f"unknown option {flag}{_suggest(flag, flags)}")
        raise ConfigError(f"unexpected argument {token!r}; options look like --name value")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _named(convert: Any, name: str) -> Any:
    def parse(text: str) -> Any:
        return convert(text)

    parse.__name__ = name
    return parse

"""YAML for configuration files: text scalars, no duplicate keys, no aliases, bounded size.

:func:`load_yaml_file` / :func:`load_yaml_text` parse with PyYAML's ``BaseLoader`` (every scalar
stays text; the option's type converts it) and refuse, with ``<file>:<line>: ...``:

* a **duplicate key** in one mapping (YAML would keep the last silently: ``max_steps: 1`` then
  ``max_steps: 1000000`` started a 10⁶-step run), naming the lines of both;
* an **alias** (``*name``): a config file has no use for them, and a few hundred bytes of nested
  aliases (a "billion laughs" bomb) expand to gigabytes. Refused when met, before anything is
  expanded, so such a file fails in milliseconds; an anchor (``&name``) alone is harmless;
* nesting deeper than :data:`MAX_DEPTH` (the composer recurses once per level, so a deep file
  would otherwise end in ``RecursionError``) and files over :data:`MAX_BYTES`.

Every refusal is a :class:`YAMLConfigError` (a ``ValueError``) whose message starts with the file.
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "YAMLConfigError",
    "load_option_value",
    "load_yaml_file",
    "load_yaml_text",
    "parse_bool",
]

TRUE_WORDS = frozenset({"true", "yes", "y", "on", "t", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "off", "f", "0"})

MAX_DEPTH = 64
"""Deepest nesting of mappings / sequences accepted (configs use 3 or 4 levels)."""

MAX_BYTES = 4 << 20
"""Largest config file read (configs are a few kilobytes)."""


class YAMLConfigError(ValueError):
    """A config file that is not acceptable YAML; the message starts with ``<file>[:<line>]``."""


def _line(node_or_event: Any) -> int:
    return node_or_event.start_mark.line + 1


class _Strict:
    """Loader mixin that refuses aliases, duplicate keys and deep nesting (module docstring)."""

    where = "<text>"
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise YAMLConfigError(
                f"{self.where}:{_line(event)}: YAML alias *{event.anchor} is not allowed in "
                "config files (aliases can expand a small file enormously); write the value out"
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()
                raise YAMLConfigError(
                    f"{self.where}:{_line(event)}: nested more than {MAX_DEPTH} levels deep"
                )
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise YAMLConfigError(
                    f"{self.where}:{_line(key_node)}: a mapping key must be text, got a "
                    f"{'list' if isinstance(key, list) else 'mapping'}"
                )
            if key in seen:
                raise YAMLConfigError(
                    f"{self.where}:{_line(key_node)}: duplicate key {key!r} (first at "
                    f"{self.where}:{seen[key]}); give each key once"
                )
            seen[key] = _line(key_node)
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc]


class _StrictLoader(_Strict, yaml.BaseLoader):
    """Every scalar stays text (config files: the option's type converts it)."""


class _StrictSafeLoader(_Strict, yaml.SafeLoader):
    """YAML's own types (free-form loader options whose type only the loader knows)."""


def load_yaml_text(text: str, where: str = "<text>", *, typed: bool = False) -> Any:
    """Parse ``text`` (named ``where`` in errors); ``None`` for an empty document.

    Args:
        text: the YAML document.
        where: its name in error messages (the file).
        typed: resolve YAML's types (``1`` → int, ``yes`` → True) as ``yaml.safe_load`` does;
            default: every scalar stays text.

    Raises:
        YAMLConfigError: invalid YAML, a duplicate key, an alias, too deep (module docstring).
    """
    loader = None
    try:
        loader = (_StrictSafeLoader if typed else _StrictLoader)(text)  # checks the characters
        loader.where = loader.name = where  # name: what PyYAML's own messages call the stream
        return loader.get_single_data()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f":{mark.line + 1}" if mark is not None else ""
        reason = " ".join(str(err).replace('"<unicode string>"', repr(where)).split())
        raise YAMLConfigError(f"{where}{at}: invalid YAML: {reason}") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml_file(path: str) -> Any:
    """Read and parse the UTF-8 YAML file ``path`` (:func:`load_yaml_text`).

    Raises:
        YAMLConfigError: not a readable regular file, larger than :data:`MAX_BYTES`, not UTF-8,
            or refused by :func:`load_yaml_text`.
    """
    try:
        if not os.path.isfile(path):  # a FIFO or device would block or never end
            raise YAMLConfigError(f"{path}: not a regular file")
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise YAMLConfigError(f"{path}: {size} bytes; config files are limited to {MAX_BYTES}")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as err:
        raise YAMLConfigError(f"{path}: cannot read ({err.strerror or err})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise YAMLConfigError(f"{path}:{line}: not UTF-8 text; re-encode the file") from None
    return load_yaml_text(text, path)


def load_option_value(text: str, where: str = "option value") -> Any:
    """One free-form value given as text, read as YAML with its types (``"3"`` → 3, ``"[a, b]"``
    → a list), under the same refusals as config files."""
    return load_yaml_text(text, where, typed=True)


def parse_bool(value: Any, where: str) -> bool:
    """A boolean option from a file: ``True``/``False``, or the words YAML 1.1 and the command
    line read as booleans (``true/yes/y/on/t/1``, ``false/no/n/off/f/0``, any case).

    Raises:
        ValueError: anything else (never silently ``False``), naming ``where``.
    """
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(
        f"{where}: expected a boolean (true/false, yes/no, on/off, 1/0), got {value!r}"
    )

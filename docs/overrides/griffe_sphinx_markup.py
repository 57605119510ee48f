"""Griffe extension: render the reStructuredText bits of our Google-style docstrings as Markdown.

The docstrings are written for readers of the source first, and some use Sphinx markup that
Markdown would show literally. Before mkdocstrings parses a docstring this rewrites

* cross-reference roles ``:class:`~mooptim.MinNormSolver```, ``:meth:`solve```, ... into inline
  code (the target's last component when it starts with ``~``, the explicit text of
  ``:role:`text <target>```);
* ``:math:`x``` into ``$x$`` and ``.. math:: x`` blocks into ``$$ x $$`` (rendered by arithmatex);
* simple tables (``====  ====`` borders) into fenced text blocks, so their columns stay aligned.

Loaded by ``mkdocs.yml`` (``plugins.mkdocstrings.handlers.python.options.extensions``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_ROLE = re.compile(r":(?:py:)?[a-z]+:`([^`]+)`")
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^>]+)>$")
_MATH_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. math::\s*(?P<inline>.*)$")
_TABLE_BORDER = re.compile(r"^(?P<indent>\s*)=+( +=+)+\s*$")


def _role(match: re.Match[str]) -> str:
    target = match[1]
    explicit = _EXPLICIT.match(target)
    if explicit:
        return f"`{explicit['text']}`"
    if target.startswith("~"):
        target = target[1:].split(".")[-1]
    return f"`{target}`"


def _math_blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _MATH_DIRECTIVE.match(lines[i])
        if match is None:
            out.append(lines[i])
            i += 1
            continue
        indent, body = match["indent"], [match["inline"]] if match["inline"] else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith(indent + " ")):
            body.append(lines[i].strip())
            i += 1
        out += [f"{indent}$$", *(f"{indent}{b}" for b in body if b), f"{indent}$$", ""]
    return out


def _simple_tables(lines: list[str]) -> list[str]:
    """Fence RST simple tables: top border, header, border, rows, bottom border."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _TABLE_BORDER.match(lines[i])
        borders = [j for j in range(i, len(lines)) if _TABLE_BORDER.match(lines[j])][:3]
        if match is None or len(borders) < 3 or borders[0] != i:
            out.append(lines[i])
            i += 1
            continue
        indent = match["indent"]
        out += [f"{indent}```text", *lines[i : borders[2] + 1], f"{indent}```"]
        i = borders[2] + 1
    return out


def convert(text: str) -> str:
    """The Markdown version of a docstring written with Sphinx markup (see the module doc)."""
    text = _MATH_ROLE.sub(lambda m: f"${m[1]}$", text)
    text = _ROLE.sub(_role, text)
    lines = _simple_tables(_math_blocks(text.splitlines()))
    return "\n".join(lines)


class SphinxMarkup(griffe.Extension):
    """Rewrites every docstring with :func:`convert` as soon as its object is created."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)

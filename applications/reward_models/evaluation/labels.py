"""``--models NAME=PATH`` of the evaluate CLI: parsing and the check that every label is unique.

A label names a model's rows in ``metrics.json``, the report and the plots; ``dict(...)`` of the
pairs kept the last of two models with one label and dropped the first silently
(``--models a=M1 a=M2`` evaluated only M2). :func:`model_map` refuses that, naming the label and
both paths, at argument-check time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

__all__ = ["model_map", "parse_model_arg"]


def parse_model_arg(text: str) -> tuple[str, str]:
    """``NAME=PATH`` → ``(NAME, PATH)``; a bare ``PATH`` is named after its last folder."""
    if "=" in text:
        name, path = (s.strip() for s in text.split("=", 1))
    else:
        path = text.strip()
        parts = [p for p in os.path.normpath(path).split(os.sep) if p]
        name = (
            parts[-2] if len(parts) > 1 and parts[-1] == "final" else (parts[-1] if parts else "")
        )
    if not name or not path:
        raise ValueError(f"model {text!r}: expected NAME=PATH")
    return name, path


def model_map(models: Sequence[str], flag: str = "--models") -> dict[str, str]:
    """``{label: path}`` of ``models`` in order.

    Raises:
        ValueError: a malformed entry, or a label given twice (naming it and both paths).
    """
    out: dict[str, str] = {}
    for text in models:
        name, path = parse_model_arg(text)
        if name in out:
            raise ValueError(
                f"{flag}: label {name!r} given twice ({out[name]!r} and {path!r}); give each "
                "model its own NAME=PATH label"
            )
        out[name] = path
    return out

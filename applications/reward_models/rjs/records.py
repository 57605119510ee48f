"""One ``to_dict`` for the RJS stages' counter and result dataclasses.

Every stage reports what it did as a small dataclass of counts (``SampleStats``, ``ScoreStats``,
``SelectStats``, ``SFTStats``, ``HTTPJudgeStats``, ``PerplexityResult``, ``Table2Row``) that is
logged and written to JSON; they share this mixin instead of each repeating
``dataclasses.asdict``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["Record"]


class Record:
    """Mixin for a dataclass: :meth:`to_dict` is its fields as a (deep-copied) dict."""

    def to_dict(self) -> dict[str, Any]:
        """``dataclasses.asdict(self)``: JSON-ready when the fields are."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

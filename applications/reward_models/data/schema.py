"""Canonical preference-pair schema and the drop report shared by every data source.

Every source (HH-RLHF, OASST1, WebGPT, Summarize, the simulator) is converted to
:class:`PreferencePair`. Rows that cannot become a valid pair are never silently lost: each
one is counted in a :class:`DropReport` under ``(source, reason)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields

__all__ = [
    "DROP_REASONS",
    "DropReport",
    "PreferencePair",
    "validate_pair_texts",
]

# Reasons used by the loaders and filters; free-form reasons are accepted too (documented here).
DROP_REASONS: dict[str, str] = {
    "empty_response": "chosen or rejected response is empty (after stripping whitespace)",
    "identical_responses": "chosen and rejected responses are identical",
    "tie": "the annotators expressed no preference (score 0 / equal ranks)",
    "no_assistant_final_turn": "HH-RLHF transcript does not end with an assistant turn",
    "prompt_mismatch": "HH-RLHF chosen and rejected transcripts do not share the prompt",
    "deleted": "OASST1 message marked deleted",
    "wrong_language": "OASST1 message not in the requested language",
    "unranked": "OASST1 assistant reply without a rank",
    "single_reply": "OASST1 parent with fewer than two ranked replies",
    "broken_thread": "OASST1 parent chain references a missing or deleted message",
    "bad_choice": "Summarize row whose choice is not 0 or 1",
    "missing_field": "a required field is missing or has the wrong type",
    "overlength": "the response cannot fit in max_length tokens (the response must survive whole)",
}


def _check_str(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"PreferencePair.{name} must be str, got {type(value).__name__}")


def _check_optional_float(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"PreferencePair.{name} must be a float or None, got {type(value).__name__}"
        )
    if not math.isfinite(value):
        raise ValueError(f"PreferencePair.{name} must be finite, got {value}")


@dataclass(frozen=True)
class PreferencePair:
    """One preference judgement: ``chosen`` was preferred to ``rejected`` as a reply to ``prompt``.

    Args:
        prompt: the conversation so far (plain text; for HH-RLHF it ends with
            ``"\\n\\nAssistant:"``).
        chosen: the preferred response (text only, no role marker).
        rejected: the dispreferred response.
        source: name of the preference source (one MORE objective per source).
        margin: optional strength of the preference (e.g. WebGPT score difference), ``None``
            if unknown.
        true_prob: simulator only: P(chosen ≻ rejected) under the shared (gold) preference,
            i.e. ``σ(u_gold(chosen) − u_gold(rejected))``; ``None`` for real data.

    Raises:
        TypeError: a field has the wrong type.
        ValueError: ``source`` is empty, ``true_prob`` outside ``[0, 1]`` or a float is not finite.
    """

    prompt: str
    chosen: str
    rejected: str
    source: str
    margin: float | None = None
    true_prob: float | None = None

    def __post_init__(self) -> None:
        for name in ("prompt", "chosen", "rejected", "source"):
            _check_str(name, getattr(self, name))
        if not self.source:
            raise ValueError("PreferencePair.source must be a non-empty string")
        _check_optional_float("margin", self.margin)
        _check_optional_float("true_prob", self.true_prob)
        if self.true_prob is not None and not 0.0 <= self.true_prob <= 1.0:
            raise ValueError(f"PreferencePair.true_prob must lie in [0, 1], got {self.true_prob}")

    def to_dict(self) -> dict[str, object]:
        """The pair as a JSON-serialisable dict (the canonical on-disk schema): every field, in
        declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, row: dict[str, object]) -> PreferencePair:
        """Inverse of :meth:`to_dict` (``margin``/``true_prob`` optional)."""
        return cls(
            prompt=row["prompt"],  # type: ignore[arg-type]
            chosen=row["chosen"],  # type: ignore[arg-type]
            rejected=row["rejected"],  # type: ignore[arg-type]
            source=row["source"],  # type: ignore[arg-type]
            margin=row.get("margin"),  # type: ignore[arg-type]
            true_prob=row.get("true_prob"),  # type: ignore[arg-type]
        )


def validate_pair_texts(chosen: str, rejected: str) -> str | None:
    """The drop reason for a (chosen, rejected) text pair, or ``None`` if it is usable.

    Returns ``"empty_response"`` when either text is blank and ``"identical_responses"`` when
    both are equal after stripping surrounding whitespace.
    """
    c, r = chosen.strip(), rejected.strip()
    if not c or not r:
        return "empty_response"
    if c == r:
        return "identical_responses"
    return None


class DropReport:
    """Counts of dropped rows per ``(source, reason)``.

    ``drops.add("hh_helpful", "tie")`` counts one drop; ``merge`` adds another report's counts;
    ``to_dict()`` is the ``drops.json`` layout ``{"total": n, "by_source": {source: {reason: n}}}``.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}

    def add(self, source: str, reason: str, n: int = 1) -> None:
        """Count ``n`` more drops of ``source`` for ``reason``.

        Raises:
            TypeError: source or reason not a string, or n not an int.
            ValueError: n negative.
        """
        if not isinstance(source, str) or not isinstance(reason, str):
            raise TypeError("DropReport.add: source and reason must be strings")
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"DropReport.add: n must be an int, got {type(n).__name__}")
        if n < 0:
            raise ValueError(f"DropReport.add: n must be >= 0, got {n}")
        if n == 0:
            return
        key = (source, reason)
        self.counts[key] = self.counts.get(key, 0) + n

    def merge(self, other: DropReport) -> DropReport:
        """Add every count of ``other`` to this report (in place); returns ``self``."""
        if not isinstance(other, DropReport):
            raise TypeError(f"DropReport.merge expects a DropReport, got {type(other).__name__}")
        for (source, reason), n in other.counts.items():
            self.add(source, reason, n)
        return self

    @property
    def total(self) -> int:
        """Number of dropped rows over all sources and reasons."""
        return sum(self.counts.values())

    def for_source(self, source: str) -> dict[str, int]:
        """``{reason: count}`` for one source."""
        return {r: n for (s, r), n in sorted(self.counts.items()) if s == source}

    def __iter__(self) -> Iterator[tuple[str, str, int]]:
        for (source, reason), n in sorted(self.counts.items()):
            yield source, reason, n

    def __len__(self) -> int:
        return len(self.counts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DropReport) and self.counts == other.counts

    def __repr__(self) -> str:
        return f"DropReport(total={self.total}, counts={dict(sorted(self.counts.items()))})"

    def to_dict(self) -> dict[str, object]:
        """JSON layout written to ``drops.json``: ``{"total", "by_source": {src: {reason: n}}}``."""
        by_source: dict[str, dict[str, int]] = {}
        for source, reason, n in self:
            by_source.setdefault(source, {})[reason] = n
        return {"total": self.total, "by_source": by_source}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> DropReport:
        """Inverse of :meth:`to_dict`."""
        report = cls()
        by_source = data.get("by_source", {})
        if not isinstance(by_source, dict):
            raise ValueError("DropReport.from_dict: 'by_source' must be a mapping")
        for source, reasons in by_source.items():
            for reason, n in reasons.items():
                report.add(source, reason, int(n))
        return report

    def summary(self) -> str:
        """Human-readable multi-line summary for the run log."""
        if not self.counts:
            return "no rows dropped"
        lines = [f"dropped {self.total} rows:"]
        for source in sorted({s for s, _ in self.counts}):
            reasons = self.for_source(source)
            detail = ", ".join(f"{r}={n}" for r, n in reasons.items())
            lines.append(f"  {source}: {sum(reasons.values())} ({detail})")
        return "\n".join(lines)

    @classmethod
    def combined(cls, reports: Iterable[DropReport]) -> DropReport:
        """A new report summing ``reports``."""
        out = cls()
        for r in reports:
            out.merge(r)
        return out

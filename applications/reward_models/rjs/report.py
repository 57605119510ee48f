"""The alignment report in the layout of the paper's Table 2.

One row per policy: the base policy, then one policy aligned by best-of-n + SFT with each RM.
Columns: the RM scheme that selected the SFT data, that RM's ECE (lower is better calibrated),
the policy's perplexity on held-out chosen responses of each source (lower is better), and the
win / tie / lose rates of the aligned policy against the base policy under a position-swapped judge.
The paper's claim to check: the better calibrated RM (lower ECE) yields more wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from applications.reward_models.rjs.jsonl import write_json_atomic


@dataclass
class Table2Row:
    """One policy's results; ``None`` where a column does not apply (the base policy)."""

    policy: str
    rm_scheme: str | None = None
    ece: float | None = None
    ppl: dict[str, float] = field(default_factory=dict)
    win_tie_lose: dict[str, Any] | None = None
    best_of_n: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "rm_scheme": self.rm_scheme,
            "ece": self.ece,
            "ppl": self.ppl,
            "win_tie_lose": self.win_tie_lose,
            "best_of_n": self.best_of_n,
        }


def _fmt(value: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def render_markdown(
    rows: Sequence[Table2Row], judge: str, sources: Sequence[str] | None = None
) -> str:
    """Markdown table: ``| Policy | RM scheme | ECE ↓ | PPL <src> ↓ ... | Win ↑ | Tie | Lose ↓ |``.

    Win/tie/lose are percentages of judged prompts, with the count of prompts in the caption.
    """
    sources = list(sources) if sources is not None else sorted({s for r in rows for s in r.ppl})
    header = [
        "Policy",
        "RM scheme",
        "ECE ↓",
        *[f"PPL {s} ↓" for s in sources],
        "Win ↑",
        "Tie",
        "Lose ↓",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    n_judged = 0
    for r in rows:
        wtl = r.win_tie_lose
        if wtl:
            n_judged = max(n_judged, int(wtl["n"]))
            rates = [_fmt(100 * wtl["rates"][k], 1) for k in ("win", "tie", "lose")]
        else:
            rates = ["—"] * 3
        cells = [
            r.policy,
            r.rm_scheme or "—",
            _fmt(r.ece, 4),
            *[_fmt(r.ppl.get(s), 2) for s in sources],
        ]
        lines.append("| " + " | ".join(cells + rates) + " |")
    caption = (
        f"\nWin / tie / lose (%): aligned vs base policy on {n_judged} prompts, judge `{judge}`, "
        "both response orders judged (inconsistent verdicts are ties).\n"
    )
    return "\n".join(lines) + "\n" + caption


def write_report(
    rows: Sequence[Table2Row],
    out_dir: str | Path,
    judge: str,
    sources: Sequence[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.json`` into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "report.md"
    md.write_text(
        "# RJS alignment report (paper Table 2 layout)\n\n" + render_markdown(rows, judge, sources)
    )
    js = out_dir / "report.json"
    write_json_atomic(js, {"judge": judge, "rows": [r.to_dict() for r in rows], **(extra or {})})
    return md, js

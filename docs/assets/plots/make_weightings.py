"""Compare every registered weighting on one small problem: the table and plot of the family page.

Three gradients in R³: g₁ and g₂ nearly aligned (g₂ twice as long), g₃ in conflict with both.
For each method of ``mooptim.weightings.WEIGHTINGS`` (in registry order, with its default
hyperparameters; loss-based methods get the losses below; random draws are seeded) it prints a
Markdown table row — the weights, their sum, the direction d = Σ w_i g_i, its norm and its
cosine with each gradient (> 0: d decreases that objective to first order) — and draws the
weights and the cosines as bar charts.

    PYTHONPATH=. python docs/assets/plots/make_weightings.py            # print the table
    PYTHONPATH=. python docs/assets/plots/make_weightings.py --write    # also update the page

``--write`` replaces the table between the markers of docs/mooptim/weightings/index.md and saves
docs/assets/plots/weightings.png. Methods merged later appear on the next run (it iterates the
registry); a method name links to its page when docs/mooptim/weightings/<name>.md exists.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from mooptim.weightings import WEIGHTINGS, weighting_from_name

ROOT = Path(__file__).resolve().parents[3]
PAGE = ROOT / "docs" / "mooptim" / "weightings" / "index.md"
PLOT = ROOT / "docs" / "assets" / "plots" / "weightings.png"
START, END = "<!-- weightings-table:start -->", "<!-- weightings-table:end -->"

#: The worked problem: rows are g₁, g₂ (≈ 2 g₁, slightly rotated) and g₃ (conflicting).
JACOBIAN = torch.tensor([[1.0, 0.2, 0.0], [1.9, 0.7, 0.2], [-0.6, 1.0, 0.3]], dtype=torch.float64)
#: Loss values for the loss-based methods (the objectives' current losses).
LOSSES = torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64)


@dataclass(frozen=True)
class Row:
    """One method's answer on the worked problem."""

    name: str
    weights: torch.Tensor
    cosines: torch.Tensor
    norm: float
    tags: str


def evaluate(name: str) -> Row:
    """The weights of ``name`` (default hyperparameters) and the direction they give."""
    weighting = weighting_from_name(name)
    gram = JACOBIAN @ JACOBIAN.T
    torch.manual_seed(0)  # a random method draws the same weights on every run
    losses = LOSSES if weighting.needs_losses else None
    weights = weighting(gram, losses=losses)
    direction = weights @ JACOBIAN
    norm = float(direction.norm())
    cosines = JACOBIAN @ direction / (JACOBIAN.norm(dim=1) * max(norm, 1e-300))
    tags = ", ".join(
        tag
        for tag, on in (("loss-based", weighting.needs_losses), ("stateful", weighting.stateful))
        if on
    )
    return Row(name, weights, cosines, norm, tags)


def _link(name: str) -> str:
    for stem in (name, name.replace("_", "-")):
        if (PAGE.parent / f"{stem}.md").exists():
            return f"[`{name}`]({stem}.md)"
    return f"`{name}`"


def table(rows: list[Row]) -> str:
    """The Markdown comparison table."""
    head = (
        "| method | w₁ | w₂ | w₃ | Σ w | ‖d‖ | cos(d, g₁) | cos(d, g₂) | cos(d, g₃) | notes |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    lines = [head]
    for r in rows:
        w = " | ".join(f"{v:.3f}" for v in r.weights.tolist())
        c = " | ".join(f"{v:+.3f}" for v in r.cosines.tolist())
        lines.append(
            f"| {_link(r.name)} | {w} | {float(r.weights.sum()):.3f} | {r.norm:.3f} | {c} | "
            f"{r.tags} |"
        )
    return "\n".join(lines)


def plot(rows: list[Row], path: Path) -> None:
    """Two grouped bar charts, one above the other: the weights, and the cosine of d with each
    gradient."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width_in = max(7.0, 0.65 * len(rows) + 2.0)  # room for every method of the registry
    fig, axes = plt.subplots(2, 1, figsize=(width_in, 6.5), sharex=True, constrained_layout=True)
    width = 0.8 / JACOBIAN.shape[0]
    x = torch.arange(len(rows), dtype=torch.float64)
    for i in range(JACOBIAN.shape[0]):
        offset = (i - (JACOBIAN.shape[0] - 1) / 2) * width
        label = f"g{'₁₂₃'[i]}"
        axes[0].bar(x + offset, [float(r.weights[i]) for r in rows], width, label=label)
        axes[1].bar(x + offset, [float(r.cosines[i]) for r in rows], width, label=label)
    titles = ("weights w_i", "cos(d, g_i) of d = Σ w_i g_i")
    for ax, title in zip(axes, titles, strict=True):
        ax.set_xticks(x.tolist(), [r.name for r in rows], rotation=30, ha="right")
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.set_title(title)
        ax.legend(fontsize="small")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_page(markdown: str, page: Path = PAGE) -> None:
    """Replace the table between the markers of ``page``."""
    text = page.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{page}: markers {START} ... {END} not found")
    page.write_text(pattern.sub(lambda _: f"{START}\n{markdown}\n{END}", text), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update the page and the plot")
    args = parser.parse_args()
    rows = [evaluate(name) for name in WEIGHTINGS]
    markdown = table(rows)
    print(markdown)
    if args.write:
        write_page(markdown)
        plot(rows, PLOT)
        print(f"wrote {PAGE.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

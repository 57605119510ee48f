"""The MORE paper's Table 1 for one test set: how extreme are a reward model's Δr?

Zeng et al. (2023), *On Diversified Preferences of Large Language Model Alignment*, Table 1
(and Tables 5/6 in the appendix) list, per test set and training scheme, the ECE and the
*count* and *mean* of the "positive outliers" and "negative outliers" of the reward
differences Δr = r(x, y_w) − r(x, y_l). The paper draws Δr as one box per sign (Fig. 7: a solid
box for Δr > 0, a hollow one for Δr < 0) but does not state the outlier rule. We use the box-plot
rule on each sign's box: within the pairs with Δr > 0 (resp. Δr < 0), an outlier is a pair whose
|Δr| lies beyond Tukey's upper fence ``q3 + whisker · IQR`` of that group's |Δr| (quartiles by
linear interpolation, as matplotlib's box plots); or, when ``threshold`` is given, beyond that
fixed |Δr|. Outlier means keep the sign, as in the paper (negative for Δr < 0).

Fewer and smaller outliers mean less over-rewarding, the paper's explanation of a lower ECE.
Ties (Δr = 0) belong to neither sign. :func:`table1_stats` is a pure function of one array.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["SignOutliers", "Table1Stats", "sign_outliers", "table1_stats"]


@dataclass(frozen=True)
class SignOutliers:
    """Outliers among the pairs of one sign of Δr.

    ``n``: pairs of this sign; ``fence``: the |Δr| beyond which a pair is an outlier (``None``
    when the group is empty); ``count`` / ``mean``: number and mean signed Δr of the outliers
    (``mean`` is ``None`` without outliers); ``mean_abs``: mean |Δr| of the whole group.
    """

    n: int
    fence: float | None
    count: int
    mean: float | None
    mean_abs: float | None


@dataclass(frozen=True)
class Table1Stats:
    """Table-1 statistics of one test set's Δr (see the module docstring).

    ``mean`` / ``std`` (population) / ``median`` / ``mean_abs`` of Δr over all ``n`` pairs,
    ``share_positive`` = share with Δr > 0, ``ties`` = number with Δr = 0, and the
    ``positive`` / ``negative`` outliers; ``whisker`` and ``threshold`` record the rule.
    """

    n: int
    mean: float
    std: float
    median: float
    mean_abs: float
    share_positive: float
    ties: int
    positive: SignOutliers
    negative: SignOutliers
    whisker: float
    threshold: float | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _as_diffs(reward_diff: object) -> np.ndarray:
    d = np.asarray(reward_diff, dtype=np.float64)
    if d.ndim != 1 or d.size == 0:
        raise ValueError(f"reward differences must be a non-empty 1-D array, got {d.shape}")
    if not np.isfinite(d).all():
        raise ValueError(f"reward differences hold {int((~np.isfinite(d)).sum())} non-finite")
    return d


def sign_outliers(
    group: np.ndarray, whisker: float = 1.5, threshold: float | None = None
) -> SignOutliers:
    """Outliers of one sign's Δr (all of one sign): |Δr| beyond the fence (see the module)."""
    if group.size == 0:
        return SignOutliers(n=0, fence=None, count=0, mean=None, mean_abs=None)
    mag = np.abs(group)
    if threshold is None:
        q1, q3 = np.percentile(mag, [25.0, 75.0])
        fence = float(q3 + whisker * (q3 - q1))
    else:
        fence = float(threshold)
    out = group[mag > fence]
    return SignOutliers(
        n=int(group.size),
        fence=fence,
        count=int(out.size),
        mean=float(out.mean()) if out.size else None,
        mean_abs=float(mag.mean()),
    )


def table1_stats(
    reward_diff: object, whisker: float = 1.5, threshold: float | None = None
) -> Table1Stats:
    """Table-1 statistics of the reward differences of one test set.

    Args:
        reward_diff: ``[N]`` Δr = r(chosen) − r(rejected), one per test pair.
        whisker: IQR multiple of the per-sign fence (1.5: Tukey, matplotlib's box plots).
        threshold: a fixed |Δr| fence instead of the per-sign box-plot fence.

    Raises:
        ValueError: empty, non-1-D or non-finite input; negative ``whisker`` or ``threshold``.
    """
    if whisker < 0 or (threshold is not None and threshold < 0):
        raise ValueError(f"whisker and threshold must be ≥ 0, got {whisker}, {threshold}")
    d = _as_diffs(reward_diff)
    return Table1Stats(
        n=int(d.size),
        mean=float(d.mean()),
        std=float(d.std()),
        median=float(np.median(d)),
        mean_abs=float(np.abs(d).mean()),
        share_positive=float((d > 0).mean()),
        ties=int((d == 0).sum()),
        positive=sign_outliers(d[d > 0], whisker, threshold),
        negative=sign_outliers(d[d < 0], whisker, threshold),
        whisker=float(whisker),
        threshold=None if threshold is None else float(threshold),
    )

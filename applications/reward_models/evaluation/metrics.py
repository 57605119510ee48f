"""Reward-model metrics as pure functions of reward differences Δ = r(x, y_w) − r(x, y_l).

Everything here takes a 1-D tensor of reward differences (chosen minus rejected, one entry per
pair) and needs no model. The predicted probability that the chosen response wins is the
Bradley–Terry probability p = σ(Δ).

* :func:`preference_accuracy` — share of pairs with Δ > 0; ties (Δ == 0) earn half credit and
  are counted.
* :func:`calibration_errors` — ECE / ACE / MCE on **both orderings** of every pair (the MORE
  paper's code, and ``CONTRACTS.md``), plus the Brier score and log-loss of σ(Δ).
* :func:`truth_calibration` — calibration of σ(Δ) against a known probability per pair (the
  simulator's ``true_prob``).
* :func:`reward_difference_stats` — quartiles, 1.5·IQR outliers and over-rewarding indicators
  (the MORE paper's Table 1).
* :func:`summarize` — all of the above as one JSON-ready dict (used by the evaluation CLI).

Computation is in float64 on the input's device; results are Python floats / lists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

__all__ = [
    "AccuracyResult",
    "CalibrationResult",
    "RewardDiffStats",
    "TruthCalibrationResult",
    "calibration_errors",
    "per_source_accuracy",
    "preference_accuracy",
    "reward_difference_stats",
    "summarize",
    "symmetrize",
    "truth_calibration",
]

_BINNINGS = ("width", "mass")


def _as_diffs(reward_diff: Tensor | Sequence[float], name: str = "reward_diff") -> Tensor:
    """Validate and convert to a finite 1-D float64 tensor with at least one element."""
    t = torch.as_tensor(reward_diff)
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name} must be a real tensor, got dtype {t.dtype}")
    t = t.detach().to(torch.float64)
    if t.dim() != 1:
        raise ValueError(f"{name} must be 1-D (one entry per pair), got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError(f"{name} is empty: no pairs to evaluate")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} holds {int((~torch.isfinite(t)).sum())} non-finite value(s)")
    return t


# --------------------------------------------------------------------------- accuracy


@dataclass(frozen=True)
class AccuracyResult:
    """Preference accuracy: ``accuracy = (#{Δ > 0} + ½·#{Δ == 0}) / n``; ``ties = #{Δ == 0}``."""

    accuracy: float
    ties: int
    n: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def preference_accuracy(reward_diff: Tensor | Sequence[float]) -> AccuracyResult:
    """Share of pairs ranked correctly by the reward model.

    A pair is correct when Δ = r_w − r_l > 0. An exact tie (Δ == 0, e.g. an untrained model on
    identical inputs, or a truncation that made both texts equal) is a coin flip and counts as
    half correct, so a constant reward model scores 0.5 rather than 0 or 1; the tie count is
    reported so that such cases are visible.

    Args:
        reward_diff: ``[N]`` reward differences chosen − rejected.

    Returns:
        :class:`AccuracyResult`.

    Raises:
        ValueError: empty, non-1-D or non-finite input.
    """
    d = _as_diffs(reward_diff)
    wins = int((d > 0).sum())
    ties = int((d == 0).sum())
    n = d.numel()
    return AccuracyResult(accuracy=(wins + 0.5 * ties) / n, ties=ties, n=n)


def per_source_accuracy(
    reward_diff: Tensor | Sequence[float], sources: Sequence[str]
) -> dict[str, AccuracyResult]:
    """:func:`preference_accuracy` per source name (sorted by name)."""
    d = _as_diffs(reward_diff)
    if len(sources) != d.numel():
        raise ValueError(f"got {len(sources)} source names for {d.numel()} reward differences")
    out: dict[str, AccuracyResult] = {}
    for name in sorted(set(sources)):
        idx = torch.tensor([i for i, s in enumerate(sources) if s == name], device=d.device)
        out[name] = preference_accuracy(d[idx])
    return out


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class CalibrationResult:
    """Binned calibration of p = σ(Δ) on the symmetrized points (2N of them).

    ``ece = Σ_b |Σ_{i∈b} p_i − Σ_{i∈b} y_i| / (2N)``; ``ace`` = mean over non-empty bins of
    ``|mean p − mean y|``; ``mce`` = max of the same. ``brier = mean (σ(Δ) − 1)²`` and
    ``log_loss = mean −log σ(Δ)`` over the N pairs (equal on either ordering). Per-bin lists have
    one entry per bin (``bin_edges`` has ``n_bins + 1``); empty bins hold confidence and
    accuracy ``nan``.
    """

    ece: float
    ace: float
    mce: float
    brier: float
    log_loss: float
    n_bins: int
    binning: str
    bin_edges: list[float]
    bin_counts: list[int]
    bin_confidence: list[float]
    bin_accuracy: list[float]

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        # JSON has no NaN: empty bins become null.
        for key in ("bin_confidence", "bin_accuracy"):
            d[key] = [None if math.isnan(v) else v for v in d[key]]
        return d


def symmetrize(reward_diff: Tensor) -> tuple[Tensor, Tensor]:
    """Both orderings of every pair: points ``(σ(Δ), 1)`` and ``(1 − σ(Δ), 0)``.

    Returns ``(p, y)``, each ``[2N]`` float64: first the N chosen-first points, then the N
    rejected-first points. ``1 − σ(Δ)`` is computed as ``σ(−Δ)`` for accuracy in the tails.
    """
    d = _as_diffs(reward_diff)
    p = torch.cat([torch.sigmoid(d), torch.sigmoid(-d)])
    y = torch.cat([torch.ones_like(d), torch.zeros_like(d)])
    return p, y


def _bin_edges(p: Tensor, n_bins: int, binning: str) -> Tensor:
    if binning == "width":
        return torch.linspace(0.0, 1.0, n_bins + 1, dtype=p.dtype, device=p.device)
    q = torch.linspace(0.0, 1.0, n_bins + 1, dtype=p.dtype, device=p.device)
    edges = torch.quantile(p, q)
    edges[0], edges[-1] = 0.0, 1.0
    return edges


def _bin_index(p: Tensor, edges: Tensor) -> Tensor:
    """Bin ``k`` holds ``edges[k] ≤ p < edges[k+1]``; the last bin is closed (p = 1 included)."""
    n_bins = edges.numel() - 1
    return (torch.bucketize(p, edges, right=True) - 1).clamp_(0, n_bins - 1)


def _binned(
    p: Tensor, y: Tensor, n_bins: int, binning: str
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per-bin (edges, counts, Σp, Σy) for points ``p`` with targets ``y``."""
    if not isinstance(n_bins, int) or isinstance(n_bins, bool) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int, got {n_bins!r}")
    if binning not in _BINNINGS:
        raise ValueError(f"binning must be one of {_BINNINGS}, got {binning!r}")
    edges = _bin_edges(p, n_bins, binning)
    idx = _bin_index(p, edges)
    zeros = torch.zeros(n_bins, dtype=p.dtype, device=p.device)
    counts = zeros.index_add(0, idx, torch.ones_like(p))
    sum_p = zeros.index_add(0, idx, p)
    sum_y = zeros.index_add(0, idx, y)
    return edges, counts, sum_p, sum_y


def _gaps(counts: Tensor, sum_p: Tensor, sum_y: Tensor) -> tuple[float, float, float, Tensor]:
    """(ECE, ACE, MCE, per-bin |mean p − mean y|) from binned sums."""
    total = counts.sum()
    ece = float((sum_p - sum_y).abs().sum() / total)
    nonempty = counts > 0
    gap = (sum_p - sum_y).abs()[nonempty] / counts[nonempty]
    return ece, float(gap.mean()), float(gap.max()), gap


def calibration_errors(
    reward_diff: Tensor | Sequence[float], n_bins: int = 10, binning: str = "width"
) -> CalibrationResult:
    """Expected / average / maximum calibration error of a reward model, plus Brier and log-loss.

    Follows the MORE paper's evaluation code (Zeng et al., 2023, *On Diversified Preferences of
    Large Language Model Alignment*): each pair contributes **two** points, ``(p, 1)`` and
    ``(1 − p, 0)`` with ``p = σ(r_w − r_l)``; the 2N points are put into ``n_bins`` bins over
    [0, 1] and

    .. math:: \\mathrm{ECE} = \\sum_b \\frac{|\\sum_{i\\in b} p_i - \\sum_{i\\in b} y_i|}{2N}.

    Binning only the ``(p, 1)`` points would be wrong: every bin then has mean label 1 and the
    "ECE" collapses to ``mean(1 − p)``, which rewards over-confidence.

    Bins: ``binning="width"`` uses equal-width bins ``[k/M, (k+1)/M)`` (last bin closed);
    ``binning="mass"`` uses the empirical quantiles of the 2N points as edges (equal-mass bins,
    up to ties). ACE and MCE are over non-empty bins only.

    Args:
        reward_diff: ``[N]`` reward differences chosen − rejected.
        n_bins: number of bins M (the paper reports M = 10; we also report 5 and 20).
        binning: ``"width"`` or ``"mass"``.

    Returns:
        :class:`CalibrationResult`.

    Raises:
        ValueError: empty / non-finite input, bad ``n_bins`` or ``binning``.

    Note:
        Equals ``torchmetrics.functional.classification.binary_calibration_error(p, y,
        n_bins=M, norm="l1")`` on the symmetrized points whenever no ``p`` is exactly 1.0;
        torchmetrics puts ``p == 1.0`` in an extra (M+1)-th bin, we put it in the last bin.
    """
    d = _as_diffs(reward_diff)
    p, y = symmetrize(d)
    edges, counts, sum_p, sum_y = _binned(p, y, n_bins, binning)
    ece, ace, mce, _ = _gaps(counts, sum_p, sum_y)
    safe = counts.clamp(min=1)
    nan = torch.full_like(counts, float("nan"))
    conf = torch.where(counts > 0, sum_p / safe, nan)
    acc = torch.where(counts > 0, sum_y / safe, nan)
    brier = float(((torch.sigmoid(d) - 1.0) ** 2).mean())
    log_loss = float(torch.nn.functional.softplus(-d).mean())
    return CalibrationResult(
        ece=ece,
        ace=ace,
        mce=mce,
        brier=brier,
        log_loss=log_loss,
        n_bins=n_bins,
        binning=binning,
        bin_edges=edges.tolist(),
        bin_counts=[int(c) for c in counts.tolist()],
        bin_confidence=conf.tolist(),
        bin_accuracy=acc.tolist(),
    )


# --------------------------------------------------------------------------- calibration vs truth


@dataclass(frozen=True)
class TruthCalibrationResult:
    """Calibration of p = σ(Δ) against known per-pair probabilities t (simulator ``true_prob``).

    ``ece``: binned as :func:`calibration_errors` but with target t instead of a 0/1 label —
    points ``(p, t)`` and ``(1 − p, 1 − t)``, ``Σ_b |Σ p − Σ t| / (2N)``. ``mae``: mean |p − t|
    over pairs (unbinned, so it cannot hide errors that cancel inside a bin). ``rmse``: root
    mean squared p − t. ``kl``: mean KL(Bernoulli(t) ‖ Bernoulli(p)) in nats.
    """

    ece: float
    mae: float
    rmse: float
    kl: float
    n_bins: int
    n: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def truth_calibration(
    reward_diff: Tensor | Sequence[float],
    true_prob: Tensor | Sequence[float],
    n_bins: int = 10,
) -> TruthCalibrationResult:
    """Calibration of σ(Δ) against ground-truth preference probabilities (see the result class).

    Args:
        reward_diff: ``[N]`` reward differences chosen − rejected.
        true_prob: ``[N]`` P(chosen ≻ rejected) under the reference preference, in [0, 1].
        n_bins: number of equal-width bins for ``ece``.

    Raises:
        ValueError: shapes differ, probabilities outside [0, 1], empty or non-finite input.
    """
    d = _as_diffs(reward_diff)
    t = _as_diffs(true_prob, "true_prob").to(d.device)
    if t.shape != d.shape:
        raise ValueError(f"true_prob has shape {tuple(t.shape)}, reward_diff {tuple(d.shape)}")
    if bool(((t < 0) | (t > 1)).any()):
        raise ValueError("true_prob values must lie in [0, 1]")
    p = torch.sigmoid(d)
    p2 = torch.cat([p, torch.sigmoid(-d)])
    t2 = torch.cat([t, 1.0 - t])
    _, counts, sum_p, sum_t = _binned(p2, t2, n_bins, "width")
    ece, _, _, _ = _gaps(counts, sum_p, sum_t)
    log_p, log_q = torch.nn.functional.logsigmoid(d), torch.nn.functional.logsigmoid(-d)
    kl = torch.xlogy(t, t) - t * log_p + torch.xlogy(1 - t, 1 - t) - (1 - t) * log_q
    return TruthCalibrationResult(
        ece=ece,
        mae=float((p - t).abs().mean()),
        rmse=float(((p - t) ** 2).mean().sqrt()),
        kl=float(kl.mean()),
        n_bins=n_bins,
        n=d.numel(),
    )


# --------------------------------------------------------------------------- reward differences


@dataclass(frozen=True)
class RewardDiffStats:
    """Distribution of Δ = r_w − r_l (the MORE paper's Table 1 and Fig. 3/5 box plots).

    Quartiles use linear interpolation (``torch.quantile``, numpy's default, the same rule as
    matplotlib's box plots). Outliers follow Tukey's rule: Δ > q3 + 1.5·IQR is a *positive*
    outlier, Δ < q1 − 1.5·IQR a *negative* one (``IQR = q3 − q1``); their means are ``None``
    when there are none. Over-rewarding indicators: ``mean_abs`` = mean |Δ| and
    ``share_abs_above[str(τ)]`` = share of pairs with |Δ| > τ for each threshold τ.
    """

    n: int
    mean: float
    std: float
    q1: float
    median: float
    q3: float
    iqr: float
    lower_fence: float
    upper_fence: float
    n_pos_outliers: int
    mean_pos_outliers: float | None
    n_neg_outliers: int
    mean_neg_outliers: float | None
    mean_abs: float
    share_abs_above: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def reward_difference_stats(
    reward_diff: Tensor | Sequence[float],
    thresholds: Sequence[float] = (1.0, 2.0, 5.0),
    whisker: float = 1.5,
) -> RewardDiffStats:
    """Quartiles, Tukey outliers and over-rewarding indicators of Δ (see :class:`RewardDiffStats`).

    Args:
        reward_diff: ``[N]`` reward differences chosen − rejected.
        thresholds: values τ for the share of pairs with |Δ| > τ.
        whisker: IQR multiple of the outlier fences (1.5 = Tukey, matplotlib's default).
    """
    d = _as_diffs(reward_diff)
    q1, med, q3 = torch.quantile(
        d, torch.tensor([0.25, 0.5, 0.75], dtype=d.dtype, device=d.device)
    ).tolist()
    iqr = q3 - q1
    lo, hi = q1 - whisker * iqr, q3 + whisker * iqr
    pos, neg = d[d > hi], d[d < lo]
    absd = d.abs()
    return RewardDiffStats(
        n=d.numel(),
        mean=float(d.mean()),
        std=float(d.std(unbiased=False)),
        q1=q1,
        median=med,
        q3=q3,
        iqr=iqr,
        lower_fence=lo,
        upper_fence=hi,
        n_pos_outliers=pos.numel(),
        mean_pos_outliers=float(pos.mean()) if pos.numel() else None,
        n_neg_outliers=neg.numel(),
        mean_neg_outliers=float(neg.mean()) if neg.numel() else None,
        mean_abs=float(absd.mean()),
        share_abs_above={str(float(t)): float((absd > t).double().mean()) for t in thresholds},
    )


# --------------------------------------------------------------------------- all at once


def summarize(
    reward_diff: Tensor | Sequence[float],
    true_prob: Tensor | Sequence[float] | None = None,
    bins: Sequence[int] = (5, 10, 20),
) -> dict[str, object]:
    """Every metric of this module as one JSON-ready dict.

    Keys: ``accuracy``, ``ties``, ``n``, ``ece`` / ``ace`` / ``mce`` (M = 10 when 10 is in
    ``bins``, else the first), ``brier``, ``log_loss``, ``calibration`` (per M: equal-width
    :class:`CalibrationResult` dicts), ``calibration_mass`` (equal-mass, M = default),
    ``reward_diff`` (:class:`RewardDiffStats`) and, when ``true_prob`` is given,
    ``truth`` (:class:`TruthCalibrationResult`).
    """
    d = _as_diffs(reward_diff)
    if not bins:
        raise ValueError("bins must name at least one bin count")
    main = 10 if 10 in bins else bins[0]
    acc = preference_accuracy(d)
    cals = {m: calibration_errors(d, n_bins=m) for m in bins}
    out: dict[str, object] = {
        "accuracy": acc.accuracy,
        "ties": acc.ties,
        "n": acc.n,
        "ece": cals[main].ece,
        "ace": cals[main].ace,
        "mce": cals[main].mce,
        "brier": cals[main].brier,
        "log_loss": cals[main].log_loss,
        "calibration": {str(m): c.to_dict() for m, c in cals.items()},
        "calibration_mass": calibration_errors(d, n_bins=main, binning="mass").to_dict(),
        "reward_diff": reward_difference_stats(d).to_dict(),
    }
    if true_prob is not None:
        out["truth"] = truth_calibration(d, true_prob, n_bins=main).to_dict()
    return out

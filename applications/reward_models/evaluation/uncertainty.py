"""How sure are we of an ECE? Noise floors and paired, seed-hierarchical bootstrap intervals.

ECE here is the definition of :func:`~applications.reward_models.evaluation.metrics.
calibration_errors` (both orderings ``(p, 1)`` and ``(1 − p, 0)`` of each pair, equal-width
bins, ``Σ_b |Σp − Σy| / 2N``). It is a sum of per-pair contributions: pair ``i`` adds
``σ(Δ_i) − 1`` to the bin of ``σ(Δ_i)`` and ``σ(−Δ_i)`` to the bin of ``σ(−Δ_i)``; so the ECE
of *any* multiset of the pairs (a bootstrap resample, a relabelling) is
``Σ_b |c · G[:, b]| / (2 Σ c)`` for a count vector ``c`` and the contribution matrix ``G``. All
resamples are one matrix product; nothing loops over pairs. ``tests`` check that ``G`` gives
exactly ``calibration_errors(...).ece``.

* :func:`noise_floor` — the ECE a **perfectly calibrated** model would score with the same
  predicted probabilities and test size: draw each pair's outcome from its own ``σ(Δ)``
  (the chosen response wins with probability ``σ(Δ)``, else the ordering flips) and take the
  ECE; mean, standard deviation and the central 95 % band over simulations. An ECE inside the
  band is indistinguishable from perfect calibration.
* :func:`bootstrap` — percentile intervals of ECE and accuracy of one or several models scored
  on the **same** test pairs, over seeds and pairs: each replicate resamples the seeds with
  replacement, then, within every drawn seed, the test pairs with replacement (one set of
  indices shared by all models: *paired*), and averages the metric over the drawn seeds.
  Differences between models (``model 0 − model 1``) are taken replicate by replicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from applications.reward_models.evaluation.metrics import symmetrize

__all__ = [
    "ConfidenceInterval",
    "NoiseFloor",
    "PairedBootstrap",
    "bootstrap",
    "ece_contributions",
    "noise_floor",
]

_LEVEL = 0.95


@dataclass(frozen=True)
class ConfidenceInterval:
    """``estimate`` on the full data and the percentile interval ``[low, high]`` at ``level``."""

    estimate: float
    low: float
    high: float
    level: float

    def contains(self, value: float) -> bool:
        """``low ≤ value ≤ high``."""
        return self.low <= value <= self.high


@dataclass(frozen=True)
class NoiseFloor:
    """ECE of a perfectly calibrated model with the same predictions: mean, std, 95 % band."""

    mean: float
    std: float
    low: float
    high: float
    n_pairs: int
    n_bins: int
    n_sim: int


@dataclass(frozen=True)
class PairedBootstrap:
    """Intervals from :func:`bootstrap`: per model, and ``model 0 − model k`` for ``k ≥ 1``."""

    ece: tuple[ConfidenceInterval, ...]
    accuracy: tuple[ConfidenceInterval, ...]
    delta_ece: tuple[ConfidenceInterval, ...]
    delta_accuracy: tuple[ConfidenceInterval, ...]
    n_boot: int
    n_seeds: int


def _diffs(reward_diff: object) -> np.ndarray:
    d = np.asarray(torch.as_tensor(reward_diff, dtype=torch.float64).cpu(), dtype=np.float64)
    if d.ndim != 1 or d.size == 0 or not np.isfinite(d).all():
        raise ValueError(f"reward differences must be a non-empty finite 1-D array, got {d.shape}")
    return d


def _bins(p: torch.Tensor, n_bins: int) -> np.ndarray:
    # metrics' rule: bin k holds k/M ≤ p < (k+1)/M, the last bin closed. The edges come from
    # torch.linspace as there: numpy's linspace rounds some edges differently (0.7 vs 0.7 + ε).
    edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=p.dtype)
    return (torch.bucketize(p, edges, right=True) - 1).clamp_(0, n_bins - 1).numpy()


def ece_contributions(reward_diff: object, n_bins: int = 10) -> np.ndarray:
    """``[N, M]``: what pair ``i`` adds to ``Σp − Σy`` of bin ``b`` (both orderings).

    ``ECE = Σ_b |Σ_i G[i, b]| / 2N`` equals ``calibration_errors(Δ, n_bins).ece``.
    """
    if not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int, got {n_bins!r}")
    d = _diffs(reward_diff)
    p, y = symmetrize(torch.from_numpy(d))
    n = d.size
    g = np.zeros((n, n_bins))
    rows = np.concatenate([np.arange(n), np.arange(n)])
    np.add.at(g, (rows, _bins(p, n_bins)), (p - y).numpy())
    return g


def _ece_of_counts(counts: np.ndarray, g: np.ndarray) -> np.ndarray:
    """ECE of each resample: ``counts`` ``[R, N]`` multiplicities, ``g`` ``[N, M]``."""
    return np.abs(counts @ g).sum(axis=1) / (2.0 * counts.sum(axis=1))


def _interval(estimate: float, replicates: np.ndarray, level: float) -> ConfidenceInterval:
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail])
    return ConfidenceInterval(float(estimate), float(low), float(high), level)


def noise_floor(
    reward_diff: object, n_bins: int = 10, n_sim: int = 1000, seed: int = 0
) -> NoiseFloor:
    """ECE of a perfectly calibrated model with predictions ``σ(Δ)`` on these N pairs.

    Each simulation keeps every ``|Δ_i|`` and draws the ordering: as given with probability
    ``σ(Δ_i)``, flipped otherwise (labels drawn from the model's own probabilities).
    """
    d = _diffs(reward_diff)
    keep, flip = ece_contributions(d, n_bins), ece_contributions(-d, n_bins)
    rng = np.random.default_rng(seed)
    kept = (rng.random((n_sim, d.size)) < 1.0 / (1.0 + np.exp(-d))).astype(np.float64)
    sums = kept @ (keep - flip) + flip.sum(axis=0)
    ece = np.abs(sums).sum(axis=1) / (2.0 * d.size)
    low, high = np.percentile(ece, [2.5, 97.5])
    return NoiseFloor(
        float(ece.mean()), float(ece.std()), float(low), float(high), d.size, n_bins, n_sim
    )


def _resample_counts(rng: np.random.Generator, n: int, reps: int) -> np.ndarray:
    """``[reps, n]`` multiplicities of ``reps`` bootstrap resamples of ``n`` items."""
    idx = rng.integers(0, n, size=(reps, n)) + n * np.arange(reps)[:, None]
    return np.bincount(idx.ravel(), minlength=reps * n).reshape(reps, n).astype(np.float64)


def _seed_replicates(
    models: Sequence[np.ndarray], counts: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """ECE and accuracy ``[K, R]`` of K models on the same resamples of one seed's pairs."""
    ece = np.stack([_ece_of_counts(counts, ece_contributions(d, n_bins)) for d in models])
    correct = np.stack([(d > 0) + 0.5 * (d == 0) for d in models]).astype(np.float64)
    acc = (counts @ correct.T).T / counts.sum(axis=1)
    return ece, acc


def _accumulate(
    seeds: list[list[np.ndarray]], picks: np.ndarray, rng: np.random.Generator, n_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Full-data means over seeds ``[K]`` and per-replicate sums over drawn seeds ``[K, B]``.

    ``picks[r]`` lists the seeds replicate ``r`` drew; a seed drawn ``j`` times gets ``j``
    independent pair resamples.
    """
    k, n_seeds, n_boot = len(seeds[0]), len(seeds), picks.shape[0]
    ece_sum, acc_sum = np.zeros((k, n_boot)), np.zeros((k, n_boot))
    ece_hat, acc_hat = np.zeros(k), np.zeros(k)
    for s, models in enumerate(seeds):
        e, a = _seed_replicates(models, np.ones((1, models[0].size)), n_bins)
        ece_hat += e[:, 0] / n_seeds
        acc_hat += a[:, 0] / n_seeds
        times = (picks == s).sum(axis=1)  # how often replicate r drew seed s
        for j in range(1, int(times.max(initial=0)) + 1):
            rows = np.flatnonzero(times >= j)
            counts = _resample_counts(rng, models[0].size, rows.size)
            e, a = _seed_replicates(models, counts, n_bins)
            ece_sum[:, rows] += e
            acc_sum[:, rows] += a
    return ece_hat, acc_hat, ece_sum, acc_sum


def bootstrap(
    diffs_by_seed: Sequence[Sequence[object]],
    n_bins: int = 10,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = _LEVEL,
) -> PairedBootstrap:
    """Paired hierarchical bootstrap (seeds, then test pairs) of ECE and accuracy.

    Args:
        diffs_by_seed: ``diffs_by_seed[s][k]``: reward differences of model ``k`` trained with
            seed ``s`` on seed ``s``'s test pairs (all models of a seed: the same pairs, same
            order; seeds may have different pairs).
        n_boot: number of replicates; ``seed``: the numpy Generator's seed.

    Returns:
        Per model and per difference ``model 0 − model k``: the estimate (mean over seeds of
        the full-data metric) and the percentile interval.

    Raises:
        ValueError: no seeds, models with different numbers of pairs within a seed, or a
            different number of models across seeds.
    """
    if not diffs_by_seed:
        raise ValueError("bootstrap needs at least one seed")
    seeds = [[_diffs(d) for d in models] for models in diffs_by_seed]
    k = len(seeds[0])
    for s, models in enumerate(seeds):
        if len(models) != k or len({d.size for d in models}) != 1:
            raise ValueError(f"seed {s}: every model needs the same test pairs ({k} models)")
    rng = np.random.default_rng(seed)
    n_seeds = len(seeds)
    picks = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
    ece_hat, acc_hat, ece_sum, acc_sum = _accumulate(seeds, picks, rng, n_bins)
    ece_rep, acc_rep = ece_sum / n_seeds, acc_sum / n_seeds
    return PairedBootstrap(
        ece=tuple(_interval(ece_hat[i], ece_rep[i], level) for i in range(k)),
        accuracy=tuple(_interval(acc_hat[i], acc_rep[i], level) for i in range(k)),
        delta_ece=tuple(
            _interval(ece_hat[0] - ece_hat[i], ece_rep[0] - ece_rep[i], level) for i in range(1, k)
        ),
        delta_accuracy=tuple(
            _interval(acc_hat[0] - acc_hat[i], acc_rep[0] - acc_rep[i], level) for i in range(1, k)
        ),
        n_boot=n_boot,
        n_seeds=n_seeds,
    )

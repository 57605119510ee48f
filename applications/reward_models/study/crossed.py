"""The crossed paired bootstrap of the study: pairs, training seeds and data seeds resampled.

The study's models share test sets: every variant and every training seed of data seed ``d`` is
scored on the same held-out pairs of each source. A replicate therefore draws, for every data
seed drawn (the data seeds are resampled with replacement),

* **one** resample (with replacement) of each source's test pairs, used by every variant and
  every training seed of that data seed (paired and crossed: the pair noise is shared, as it is
  in the estimate), and
* a resample of the training seeds (the same drawn seeds for every variant: paired),

and averages each metric over the drawn training seeds, then over the sources, then over the
drawn data seeds. Every ECE-like metric is a sum of per-pair contributions to the bins
(:func:`bin_contributions`), so a resample of the pairs is a count vector ``c`` and its ECE
``Σ_b |c · G[:, b]| / (2 Σ c)``: a replicate is one matrix product per source, nothing loops
over pairs.

Metrics (each a ``[V]`` estimate with ``[R, V]`` replicates, V = variants):
``ece`` (mean over sources of the per-source ECE: the paper reports each test set),
``ece_pooled`` (ECE of all sources' pairs together), ``ece_scaled`` (per-source ECE after
dividing Δ by the model's temperature), ``nll`` (mean over sources of the mean log loss),
``accuracy``, and, with gold probabilities, ``gold_ece`` (σ(Δ) against the gold probability).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Panel", "Replicates", "bin_contributions", "crossed_bootstrap"]


@dataclass(frozen=True)
class Panel:
    """Scores of V variants × T training seeds on each data seed's test pairs.

    Attributes:
        variants: names, in the order of the first axis.
        diffs: ``diffs[d][s]``: ``[V, T, N_ds]`` reward differences on source ``s``'s test
            pairs of data seed ``d`` (every variant and seed on the same pairs, same order).
        temperatures: ``temperatures[d]``: ``[V, T]`` fitted temperature of each model.
        true_prob: ``true_prob[d][s]``: ``[N_ds]`` gold probabilities, or ``None`` (real data).
    """

    variants: tuple[str, ...]
    diffs: Sequence[Sequence[np.ndarray]]
    temperatures: Sequence[np.ndarray]
    true_prob: Sequence[Sequence[np.ndarray | None]]

    def __post_init__(self) -> None:
        v = len(self.variants)
        for d, by_source in enumerate(self.diffs):
            t = self.temperatures[d].shape
            for s, x in enumerate(by_source):
                if x.ndim != 3 or x.shape[:2] != (v, t[1]) or t[0] != v:
                    raise ValueError(
                        f"data seed {d}, source {s}: diffs {x.shape}, temperatures {t}, "
                        f"{v} variants: every variant needs every seed on the same pairs"
                    )

    def temperatures_of(self, variant: str):
        """``[D × T]`` fitted temperatures of ``variant``'s models."""
        i = self.variants.index(variant)
        return np.concatenate([t[i] for t in self.temperatures])


@dataclass(frozen=True)
class Replicates:
    """``estimate[metric]``: ``[V]``; ``replicates[metric]``: ``[R, V]``."""

    estimate: dict[str, np.ndarray]
    replicates: dict[str, np.ndarray]
    n_boot: int


def _bin_index(p: np.ndarray, n_bins: int) -> np.ndarray:
    # metrics' rule (edges from torch.linspace, last bin closed), as uncertainty._bins.
    edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64)
    idx = torch.bucketize(torch.from_numpy(p), edges, right=True) - 1
    return idx.clamp_(0, n_bins - 1).numpy()


def bin_contributions(diffs: np.ndarray, n_bins: int, target: np.ndarray | None = None):
    """``[..., N, M]``: what each pair adds to ``Σp − Σy`` of each bin, both orderings.

    ``target``: ``[N]`` the probability that the stored ordering is right (``None``: 1, the
    label); the gold ECE uses the gold probability. ``Σ_b |Σ_i G[i, b]| / 2N`` is the ECE.
    """
    y = np.ones(diffs.shape[-1]) if target is None else np.asarray(target, dtype=np.float64)
    out = np.zeros((*diffs.shape, n_bins))
    for p, t in ((1 / (1 + np.exp(-diffs)), y), (1 / (1 + np.exp(diffs)), 1 - y)):
        np.put_along_axis(
            out,
            _bin_index(p, n_bins)[..., None],
            np.take_along_axis(out, _bin_index(p, n_bins)[..., None], -1) + (p - t)[..., None],
            -1,
        )
    return out


def _source_terms(diffs, true_prob, temperature, n_bins):
    """Per source: binned metrics ``{name: [V, T, N, M]}`` and mean metrics ``[V, T, N]``."""
    binned = {
        "ece": bin_contributions(diffs, n_bins),
        "ece_scaled": bin_contributions(diffs / temperature[..., None], n_bins),
    }
    if true_prob is not None:
        binned["gold_ece"] = bin_contributions(diffs, n_bins, true_prob)
    means = {
        "nll": np.logaddexp(0.0, -diffs),
        "accuracy": (diffs > 0) + 0.5 * (diffs == 0),
    }
    return binned, means


def _data_seed(panel, d, counts_by_source, seed_weights, n_bins):
    """Metrics ``{name: [R, V]}`` of data seed ``d`` under the given pair counts and seed
    weights ``[R, T]`` (rows summing to 1)."""
    out: dict[str, list[np.ndarray]] = {}
    pooled_sums, pooled_n = 0.0, 0.0
    for s, diffs in enumerate(panel.diffs[d]):
        c = counts_by_source[s]  # [R, N]
        binned, means = _source_terms(diffs, panel.true_prob[d][s], panel.temperatures[d], n_bins)
        for name, g in binned.items():
            v, t, n, m = g.shape
            sums = (c @ g.transpose(2, 0, 1, 3).reshape(n, -1)).reshape(-1, v, t, m)
            if name == "ece":
                pooled_sums = pooled_sums + sums
            value = np.abs(sums).sum(-1) / (2 * c.sum(1))[:, None, None]
            out.setdefault(name, []).append(np.einsum("rvt,rt->rv", value, seed_weights))
        for name, x in means.items():
            v, t, n = x.shape
            value = (c @ x.transpose(2, 0, 1).reshape(n, -1)).reshape(-1, v, t)
            value = value / c.sum(1)[:, None, None]
            out.setdefault(name, []).append(np.einsum("rvt,rt->rv", value, seed_weights))
        pooled_n = pooled_n + c.sum(1)
    result = {name: np.mean(vals, axis=0) for name, vals in out.items()}
    pooled = np.abs(pooled_sums).sum(-1) / (2 * pooled_n)[:, None, None]
    result["ece_pooled"] = np.einsum("rvt,rt->rv", pooled, seed_weights)
    return result


def _multinomial(rng: np.random.Generator, n: int, reps: int) -> np.ndarray:
    idx = rng.integers(0, n, size=(reps, n)) + n * np.arange(reps)[:, None]
    return np.bincount(idx.ravel(), minlength=reps * n).reshape(reps, n).astype(np.float64)


def crossed_bootstrap(
    panel: Panel, n_bins: int = 10, n_boot: int = 1000, seed: int = 0, chunk: int = 250
) -> Replicates:
    """Estimates and ``n_boot`` crossed paired bootstrap replicates of every metric (module
    doc); ``chunk`` replicates are computed at a time (memory)."""
    rng = np.random.default_rng(seed)
    n_data = len(panel.diffs)
    estimate = _average(
        [
            _data_seed(
                panel,
                d,
                [np.ones((1, x.shape[-1])) for x in panel.diffs[d]],
                np.full((1, panel.temperatures[d].shape[1]), 1.0 / panel.temperatures[d].shape[1]),
                n_bins,
            )
            for d in range(n_data)
        ],
        np.full((1, n_data), 1.0 / n_data),
    )
    parts = []
    for start in range(0, n_boot, chunk):
        reps = min(chunk, n_boot - start)
        per_data = []
        for d in range(n_data):
            counts = [_multinomial(rng, x.shape[-1], reps) for x in panel.diffs[d]]
            t = panel.temperatures[d].shape[1]
            picks = _multinomial(rng, t, reps) / t
            per_data.append(_data_seed(panel, d, counts, picks, n_bins))
        parts.append(_average(per_data, _multinomial(rng, n_data, reps) / n_data))
    replicates = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return Replicates({k: v[0] for k, v in estimate.items()}, replicates, n_boot)


def _average(per_data: list[dict[str, np.ndarray]], weights: np.ndarray) -> dict[str, np.ndarray]:
    """Weighted mean over data seeds: ``weights`` ``[R, D]``; metrics ``[R, V]`` each."""
    return {
        k: np.einsum("drv,rd->rv", np.stack([p[k] for p in per_data]), weights) for k in per_data[0]
    }

"""Train one study variant: a :class:`~.body.RewardMLP` on cached features, K × m pairs a step.

The step: the variant's sampler draws K × m pairs (``balanced``: m of every source, MORE's
batches; else uniformly from the union, MultiTask's), the model gives Δ = r(z_w) − r(z_l), the
per-source Bradley–Terry losses L_i = mean_{j ∈ i} softplus(−Δ_j) become the loss
(MultiTask: the mean over pairs; balanced_uniform: (1/K) Σ L_i; a weighting: Σ λ_i L_i by
the application's one MORE step, :class:`~..training.step.MoreStep`, built from the variant's
:class:`~..sections.MoreConfig` on its ``subspace`` of the MLP (``head``; ``last_blocks``: the
body's last ``last_n_blocks`` linear layers and the head; ``all``), over ``micro_batches``
micro-batches whose λ are solved separately and whose losses are averaged, as the official
code's 8 devices × 2 accumulation steps of one pair per source do; with ``lambda_pairs`` = n,
λ of a micro-batch is solved from its first n pairs of every source), AdamW, linear decay
after 10 % warm-up, gradient norm clipped at 1.

Logged every step (:class:`StepLog`): λ (pair-mean schemes: each source's share of the batch),
the mean pairwise cosine and the effective rank ``exp(H(eig / Σ eig))`` of the per-source
**head** gradients g_i = mean_{j∈i} −σ(−Δ_j)(h_w,j − h_l,j) (raw, not normalized; computed in
closed form for every variant). Every ``eval_every`` steps a curve point on a slice of the
**calibration** pairs (never the test pairs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from applications.reward_models.data.sampling import BalancedBatchSampler, UniformBatchSampler
from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.evaluation.temperature import fit_temperature
from applications.reward_models.sections import MoreConfig
from applications.reward_models.study.body import RewardMLP
from applications.reward_models.study.features import FeatureTable
from applications.reward_models.study.variants import Variant
from applications.reward_models.training.step import MoreStep, first_per_source

__all__ = ["Regime", "RunResult", "head_gradient_stats", "subspace_of", "train_variant"]

Pairs = Mapping[str, Sequence[PreferencePair]]


@dataclass(frozen=True)
class Regime:
    """Settings shared by every variant of a study (AdamW's; ``max_grad_norm`` 0: no
    clipping)."""

    steps: int = 1500
    pairs_per_source: int = 16
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    hidden: tuple[int, ...] = (128, 32)
    eval_every: int = 100
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8


@dataclass(frozen=True)
class RunResult:
    """One trained model: Δ per source on test and calibration pairs, T, curve, step log."""

    test: dict[str, np.ndarray]
    calibration: dict[str, np.ndarray]
    temperature: float
    curve: list[dict[str, float]]
    weights: np.ndarray
    cosine: np.ndarray
    effective_rank: np.ndarray


def head_gradient_stats(vectors: torch.Tensor) -> tuple[float, float]:
    """``(mean pairwise cosine, effective rank)`` of the rows of ``vectors`` [K, d] (zero rows
    are left out)."""
    rows = vectors[vectors.norm(dim=1) > 0].double()
    if rows.shape[0] < 2:
        return float("nan"), float(rows.shape[0])
    unit = rows / rows.norm(dim=1, keepdim=True)
    cos = unit @ unit.T
    k = rows.shape[0]
    mean_cos = (cos.sum() - k) / (k * (k - 1))
    eig = torch.linalg.eigvalsh(rows @ rows.T).clamp_min(0)
    share = eig / eig.sum()
    entropy = -(share * torch.log(share.clamp_min(1e-300))).sum()
    return float(mean_cos), float(torch.exp(entropy))


def _sampler(variant: Variant, train: Pairs, m: int, seed: int):
    if variant.balanced:
        return BalancedBatchSampler(train, m, seed=seed, fill_last=True)
    return UniformBatchSampler.from_sources(train, batch_size=len(train) * m, seed=seed,
                                            fill_last=True)  # fmt: skip


def _per_source(values: torch.Tensor, ids: torch.Tensor, k: int) -> list[torch.Tensor | None]:
    return [values[ids == i].mean() if (ids == i).any() else None for i in range(k)]


def _micro_batches(ids: torch.Tensor, k: int, count: int) -> list[torch.Tensor]:
    """``count`` index sets, the j-th holding the j-th, (j+count)-th, ... pair of every source."""
    positions = [torch.nonzero(ids == i).flatten() for i in range(k)]
    return [torch.cat([p[j::count] for p in positions]) for j in range(count)]


def _weigh(step: MoreStep, nll: torch.Tensor, ids: torch.Tensor, k: int):
    """One micro-batch through ``step``: λ from its first ``step.lambda_pairs`` pairs of every
    source (all pairs when ``None``), applied to its per-source losses."""
    few = None
    if step.lambda_pairs is not None:
        keep = first_per_source(ids.tolist(), step.lambda_pairs)
        few = _per_source(nll[keep], ids[keep], k)
    return step.combine(_per_source(nll, ids, k), lambda_losses=few)


def _loss(variant: Variant, step: MoreStep | None, margins, ids, k):
    """The step's loss and λ (module doc)."""
    nll = F.softplus(-margins)
    if step is None:
        shares = torch.bincount(ids, minlength=k).double() / ids.numel()
        if not variant.balanced:
            return nll.mean(), shares
        present = [li for li in _per_source(nll, ids, k) if li is not None]
        return torch.stack(present).mean(), (shares > 0).double() / (shares > 0).sum()
    parts = [_weigh(step, nll[j], ids[j], k)
             for j in _micro_batches(ids, k, variant.micro_batches)]  # fmt: skip
    loss = torch.stack([p.loss for p in parts]).mean()
    return loss, torch.stack([p.weights.double() for p in parts]).mean(0)


def subspace_of(model: RewardMLP, more: MoreConfig) -> list[torch.nn.Parameter]:
    """The parameters of ``more.subspace`` in ``model``: the head (``head``), the body's last
    ``more.last_n_blocks`` linear layers and the head (``last_blocks``), or all (``all``)."""
    if more.subspace == "all":
        return list(model.parameters())
    layers = [m for m in model.body if isinstance(m, torch.nn.Linear)]
    blocks = layers[-more.last_n_blocks :] if more.subspace == "last_blocks" else []
    return [p for layer in (*blocks, model.head) for p in layer.parameters()]


def _scores(model: RewardMLP, table: FeatureTable, pairs: Pairs) -> dict[str, np.ndarray]:
    with torch.no_grad():
        out = {}
        for name, ps in pairs.items():
            z_w, z_l = table.pairs(ps)
            out[name] = (model(z_w) - model(z_l)).double().numpy()
        return out


def _curve_point(step: int, diffs: dict[str, np.ndarray], gold: dict[str, np.ndarray | None]):
    from applications.reward_models.evaluation.metrics import (
        calibration_errors,
        truth_calibration,
    )

    eces, golds, nlls = [], [], []
    for name, d in diffs.items():
        t = torch.from_numpy(d)
        eces.append(calibration_errors(t).ece)
        nlls.append(float(F.softplus(-t).mean()))
        if gold[name] is not None:
            golds.append(truth_calibration(t, torch.from_numpy(gold[name])).ece)
    point = {"step": step, "ece": float(np.mean(eces)), "nll": float(np.mean(nlls))}
    if golds:
        point["gold_ece"] = float(np.mean(golds))
    return point


def _schedule(optimizer, regime: Regime):
    warmup = max(1, math.ceil(regime.warmup_ratio * regime.steps))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (regime.steps - step) / max(1, regime.steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train_variant(
    variant: Variant,
    regime: Regime,
    seed: int,
    table: FeatureTable,
    splits,
    curve_pairs: Pairs,
) -> RunResult:
    """Train ``variant`` with training ``seed`` on ``splits.train``; score and log (module doc)."""
    names = list(splits.names)
    k, index = len(names), {n: i for i, n in enumerate(names)}
    torch.manual_seed(seed)
    model = RewardMLP(table.width, regime.hidden)
    more = variant.more
    step_of = None if more is None else MoreStep.from_config(more, subspace_of(model, more), k)
    optimizer = torch.optim.AdamW(model.parameters(), lr=regime.learning_rate, betas=regime.betas,
                                  eps=regime.eps, weight_decay=regime.weight_decay)  # fmt: skip
    scheduler = _schedule(optimizer, regime)
    stream = _stream(_sampler(variant, splits.train, regime.pairs_per_source, seed))
    gold = {n: _truth(ps) for n, ps in curve_pairs.items()}
    weights, cosines, ranks, curve = [], [], [], []
    for step in range(1, regime.steps + 1):
        pairs = next(stream)
        z_w, z_l = table.pairs(pairs)
        ids = torch.tensor([index[p.source] for p in pairs])
        h_w, h_l = model.represent(z_w), model.represent(z_l)
        margins = (model.head(h_w) - model.head(h_l)).squeeze(-1)
        loss, lam = _loss(variant, step_of, margins, ids, k)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if regime.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), regime.max_grad_norm)
        optimizer.step()
        scheduler.step()
        coef = -torch.sigmoid(-margins.detach())[:, None] * (h_w - h_l).detach()
        rows = torch.stack([coef[ids == i].mean(0) for i in range(k)])
        cos, rank = head_gradient_stats(rows)
        weights.append(lam.double().numpy())
        cosines.append(cos)
        ranks.append(rank)
        if curve_pairs and (step % regime.eval_every == 0 or step == regime.steps):
            curve.append(_curve_point(step, _scores(model, table, curve_pairs), gold))
    calibration = _scores(model, table, splits.calibration)
    temperature = fit_temperature(np.concatenate(list(calibration.values())))
    return RunResult(_scores(model, table, splits.test), calibration, temperature, curve,
                     np.stack(weights), np.asarray(cosines), np.asarray(ranks))  # fmt: skip


def _truth(pairs: Sequence[PreferencePair]) -> np.ndarray | None:
    truth = [p.true_prob for p in pairs]
    return None if None in truth else np.asarray(truth, dtype=np.float64)


def _stream(sampler):
    while True:
        yield from sampler

"""A seconds-scale calibration probe: a linear reward model on text features, trained MultiTask.

``r(x, y) = w · φ(x, y)`` with ``φ`` the simulator's observable text features of the response
(capped cue-sentence counts, topic relevance, length, list format: ``_sim_features``), alone and
crossed with the prompt's topic, so the probe can represent the gold preference and any drift
that is linear in them *and identifiable from the prompt's topic* (as a transformer backbone
could tell a source's domain from its prompts). MultiTask: Adam
on ``mean −log σ(Δ)`` over batches drawn uniformly from the union of the sources' training
pairs. At chosen steps the probe records, on test pairs with gold probability ``t``:

* ``gold_ece``: ``truth_calibration`` of σ(Δ) against ``t``;
* ``mean_abs_diff``: mean |Δ|;
* ``overconfidence``: mean confidence ``max(σ(Δ), 1 − σ(Δ))`` minus the expected accuracy
  under the gold preference (``t`` where Δ > 0, ``1 − t`` where Δ < 0): > 0 means the model
  is more sure than it is right — over-rewarding (Zeng et al., 2023).

It is a stand-in for the transformer trainer to check a simulator's regime cheaply, not a
reward model to use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from applications.reward_models.data._sim_features import prompt_topic, text_features
from applications.reward_models.data._sim_lexicon import TOPICS
from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.evaluation.metrics import truth_calibration

__all__ = ["CurvePoint", "multitask_curve", "response_features"]

_WORDS_SCALE = 50.0  # keeps the length feature on the scale of the counts


@dataclass(frozen=True)
class CurvePoint:
    """Gold calibration of the probe after ``step`` optimizer steps (see the module docstring)."""

    step: int
    gold_ece: float
    mean_abs_diff: float
    overconfidence: float
    expected_accuracy: float


def response_features(prompt: str, response: str) -> list[float]:
    """Capped gold-feature counts, then ``min(words, 150) / 50`` and ``is_list`` (9 numbers)."""
    f = text_features(prompt, response)
    return [
        min(f.helpful, 4),
        min(f.relevance, 2),
        min(f.unsafe, 2),
        min(f.polite, 2),
        min(f.rude, 2),
        min(f.hedge, 2),
        min(f.refusal, 1),
        min(f.words, 150) / _WORDS_SCALE,
        float(f.is_list),
    ]


def _diffs(pairs: Sequence[PreferencePair]) -> torch.Tensor:
    """Feature differences chosen − rejected, also crossed with the prompt's topic (one-hot)."""
    base = torch.tensor(
        [
            [
                c - r
                for c, r in zip(
                    response_features(p.prompt, p.chosen),
                    response_features(p.prompt, p.rejected),
                    strict=True,
                )
            ]
            for p in pairs
        ],
        dtype=torch.float32,
    )
    topic = F.one_hot(torch.tensor([prompt_topic(p.prompt) for p in pairs]), len(TOPICS))
    crossed = (base[:, :, None] * topic[:, None, :].float()).flatten(1)
    return torch.cat([base, crossed], dim=1)


def _point(step: int, w: torch.Tensor, x: torch.Tensor, t: torch.Tensor) -> CurvePoint:
    d = (x @ w).double()
    cal = truth_calibration(d, t)
    confidence = torch.sigmoid(d.abs())
    expected_acc = torch.where(d > 0, t, torch.where(d < 0, 1 - t, torch.full_like(t, 0.5)))
    over = confidence.mean() - expected_acc.mean()
    return CurvePoint(step, cal.ece, float(d.abs().mean()), float(over), float(expected_acc.mean()))


def multitask_curve(
    train: dict[str, list[PreferencePair]],
    test: Sequence[PreferencePair],
    checkpoints: Sequence[int],
    *,
    batch_size: int = 32,
    lr: float = 0.02,
    seed: int = 0,
) -> list[CurvePoint]:
    """Train the probe with MultiTask for ``max(checkpoints)`` steps; a point per checkpoint.

    Step 0 (if listed) is the untrained model (Δ = 0). Deterministic in ``seed``.
    """
    if not checkpoints or min(checkpoints) < 0:
        raise ValueError(f"checkpoints must be non-negative step counts, got {checkpoints}")
    union = [p for pairs in train.values() for p in pairs]
    if not union or not test:
        raise ValueError("need training pairs and test pairs")
    x_train, x_test = _diffs(union), _diffs(test)
    t_test = torch.tensor([p.true_prob for p in test], dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    w = torch.zeros(x_train.shape[1], requires_grad=True)
    opt = torch.optim.Adam([w], lr=lr)
    wanted = sorted(set(checkpoints))
    points = [_point(0, w.detach(), x_test, t_test)] if wanted[0] == 0 else []
    for step in range(1, wanted[-1] + 1):
        idx = torch.randint(len(union), (batch_size,), generator=gen)
        loss = F.softplus(-(x_train[idx] @ w)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step in wanted:
            points.append(_point(step, w.detach(), x_test, t_test))
    return points

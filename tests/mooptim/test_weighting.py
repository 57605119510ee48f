"""MinNormWeighting: missing/degenerate objectives, bad inputs, EMA, warm start, scale, state."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from mooptim.gradients import DisjointParts, GramAccumulation
from mooptim.normalizers import L2Normalization
from mooptim.solver import MinNormSolver
from mooptim.subspace import Subspace
from mooptim.weighting import MinNormWeighting


def setup(seed: int = 0, k: int = 3) -> tuple[nn.Module, list[torch.Tensor], list[torch.Tensor]]:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    xs = [torch.randn(6, 3, dtype=torch.float64) for _ in range(k)]
    ys = [torch.randn(6, 2, dtype=torch.float64) for _ in range(k)]
    return model, xs, ys


def losses_of(model: nn.Module, xs: list, ys: list) -> list[torch.Tensor | None]:
    return [((model(x) - y) ** 2).mean() for x, y in zip(xs, ys, strict=True)]


def weighting(model: nn.Module, **kw) -> MinNormWeighting:
    return MinNormWeighting(Subspace.all(model), MinNormSolver(), **kw)


def test_absent_objective_gets_zero_weight_and_flag() -> None:
    model, xs, ys = setup()
    losses = losses_of(model, xs, ys)
    losses[1] = None
    out = weighting(model).combine(losses)
    assert out.present.tolist() == [True, False, True]
    assert out.active.tolist() == [True, False, True]
    assert out.weights[1] == 0 and out.num_active == 2
    torch.testing.assert_close(out.weights.sum(), torch.tensor(1.0, dtype=torch.float64))
    out.loss.backward()


def test_zero_gradient_objective_never_takes_the_weight() -> None:
    model, xs, ys = setup()
    losses = losses_of(model, xs, ys)
    losses[0] = (model(xs[0]) * 0).sum() + 1.0  # finite loss, all-zero gradient (e.g. all ties)
    sub = Subspace.all(model)
    naive = MinNormSolver().solve_gram(
        torch.stack(
            [sub.flatten(torch.autograd.grad(l, sub.params, retain_graph=True)) for l in losses]
        )
        @ torch.stack(
            [sub.flatten(torch.autograd.grad(l, sub.params, retain_graph=True)) for l in losses]
        ).T
    )
    assert naive.weights[0] > 0.99  # the reference code's failure: all weight on the dead objective
    out = weighting(model).combine(losses)
    assert out.active.tolist() == [False, True, True]
    assert out.weights[0] == 0
    assert out.weights[1:].sum().item() == pytest.approx(1.0)


def test_zero_grad_tol_marks_tiny_gradients_inactive() -> None:
    model, xs, ys = setup()
    losses = losses_of(model, xs, ys)
    losses[2] = losses[2] * 1e-9
    assert weighting(model).combine(losses).active.all()
    out = weighting(model, zero_grad_tol=1e-12).combine([*losses_of(model, xs, ys)[:2], losses[2]])
    assert out.active.tolist() == [True, True, False]


def test_no_active_objective_returns_zero_loss_with_flag() -> None:
    model, _, _ = setup()
    w = weighting(model)
    out = w.combine([None, None, None])
    assert out.num_active == 0 and not out.active.any() and torch.all(out.weights == 0)
    assert out.loss.item() == 0.0
    out.loss.backward()  # a no-op, not an error
    model.zero_grad(set_to_none=True)
    out = w.backward_parts([lambda: None] * 3)
    assert out.num_active == 0
    assert all(p.grad is None for p in model.parameters())


def test_single_active_objective_gets_weight_one() -> None:
    model, xs, ys = setup()
    losses = losses_of(model, xs, ys)
    out = weighting(model).combine([None, losses[1], None])
    assert out.weights.tolist() == [0.0, 1.0, 0.0] and out.result is None


def test_bad_inputs_give_clear_errors() -> None:
    model, xs, ys = setup()
    w = weighting(model)
    losses = losses_of(model, xs, ys)
    with pytest.raises(ValueError, match="objective 1 is not finite"):
        w.combine([losses[0], losses[1] * float("nan"), losses[2]])
    with pytest.raises(ValueError, match="objective 2 is not finite"):
        w.combine([losses[0], losses[1], losses[2] + float("inf")])
    with pytest.raises(ValueError, match="got 2 losses, expected 3"):
        w.combine(losses[:2])
    with pytest.raises(ValueError, match="no losses"):
        weighting(model).combine([])
    with pytest.raises(ValueError, match="objective 0 has shape"):
        w.combine([model(xs[0]), losses[1], losses[2]])
    with pytest.raises(ValueError, match="does not require grad"):
        w.combine([losses[0].detach(), losses[1], losses[2]])
    with pytest.raises(TypeError, match="not a tensor"):
        w.combine([1.0, losses[1], losses[2]])
    with pytest.raises(ValueError, match="objective 1 is not finite"):
        w.backward_parts([lambda: losses[0], lambda: losses[1] / 0.0 * 0.0, lambda: losses[2]])
    with pytest.raises(ValueError, match="got 1 closures"):
        w.backward_parts([lambda: losses[0]])
    with pytest.raises(TypeError, match="backward_parts"):
        weighting(model, strategy=DisjointParts()).combine(losses)
    with pytest.raises(ValueError, match="EMA"):
        weighting(model, ema_alpha=0.5, strategy=GramAccumulation())
    with pytest.raises(ValueError, match="ema_alpha"):
        weighting(model, ema_alpha=1.5)
    with pytest.raises(TypeError, match="Subspace"):
        MinNormWeighting([model[0].weight])  # type: ignore[arg-type]


def test_scale_by_num_objectives_multiplies_loss_by_active_count() -> None:
    model, xs, ys = setup()
    plain = weighting(model).combine(losses_of(model, xs, ys))
    scaled = weighting(model, scale_by_num_objectives=True).combine(losses_of(model, xs, ys))
    torch.testing.assert_close(scaled.weights, plain.weights)
    torch.testing.assert_close(scaled.loss, 3 * plain.loss)
    losses = losses_of(model, xs, ys)
    losses[0] = None
    out = weighting(model, scale_by_num_objectives=True).combine(losses)
    expected = 2 * sum(w * l for w, l in zip(out.weights[1:], losses[1:], strict=True))
    torch.testing.assert_close(out.loss, expected)


def test_l2_normalizer_makes_weights_invariant_to_loss_scale() -> None:
    model, xs, ys = setup(4)
    base = weighting(model, normalizer=L2Normalization()).combine(losses_of(model, xs, ys))
    losses = losses_of(model, xs, ys)
    losses[0] = losses[0] * 1000.0
    scaled = weighting(model, normalizer=L2Normalization()).combine(losses)
    torch.testing.assert_close(scaled.weights, base.weights, rtol=1e-9, atol=1e-12)
    unnormalized = weighting(model).combine(losses)
    assert not torch.allclose(unnormalized.weights, base.weights, atol=1e-3)
    torch.testing.assert_close(torch.diagonal(base.gram), torch.ones(3, dtype=torch.float64))


class RecordingSolver:
    """Wraps the exact solver and records the warm starts it is given."""

    def __init__(self) -> None:
        self.inner = MinNormSolver()
        self.warm_starts: list[torch.Tensor | None] = []

    def solve_gram(self, gram: torch.Tensor, warm_start: torch.Tensor | None = None):
        self.warm_starts.append(warm_start)
        return self.inner.solve_gram(gram, warm_start=warm_start)


def test_warm_start_is_previous_weights_restricted_to_active() -> None:
    model, xs, ys = setup()
    solver = RecordingSolver()
    w = MinNormWeighting(Subspace.all(model), solver)
    first = w.combine(losses_of(model, xs, ys))
    assert solver.warm_starts[0] is None
    w.combine(losses_of(model, xs, ys))
    torch.testing.assert_close(solver.warm_starts[1], first.weights)
    losses = losses_of(model, xs, ys)
    losses[2] = None
    w.combine(losses)
    prev = first.weights[:2]
    torch.testing.assert_close(solver.warm_starts[2], prev / prev.sum())


def test_ema_first_step_equals_no_ema_and_then_smooths() -> None:
    model, xs, ys = setup(5)
    alpha = 0.3
    w_ema = weighting(model, ema_alpha=alpha)
    w_plain = weighting(model)
    sub = Subspace.all(model)
    first = w_ema.combine(losses_of(model, xs, ys))
    torch.testing.assert_close(first.weights, w_plain.combine(losses_of(model, xs, ys)).weights)
    g0 = torch.stack(
        [sub.flatten(torch.autograd.grad(l, sub.params)) for l in losses_of(model, xs, ys)]
    )
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    g1 = torch.stack(
        [sub.flatten(torch.autograd.grad(l, sub.params)) for l in losses_of(model, xs, ys)]
    )
    second = w_ema.combine(losses_of(model, xs, ys))
    smoothed = (1 - alpha) * g0 + alpha * g1
    expected = MinNormSolver().solve(smoothed).weights
    torch.testing.assert_close(second.weights, expected, rtol=1e-8, atol=1e-10)
    assert not torch.allclose(second.weights, w_plain.combine(losses_of(model, xs, ys)).weights)


def test_state_dict_roundtrip_reproduces_the_next_step() -> None:
    model, xs, ys = setup(6)
    a = weighting(model, ema_alpha=0.5)
    for _ in range(2):
        a.combine(losses_of(model, xs, ys))
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.1 * torch.randn_like(p))
    state = a.state_dict()
    b = weighting(model, ema_alpha=0.5)
    b.load_state_dict(state)
    assert b.step == 2
    out_a, out_b = a.combine(losses_of(model, xs, ys)), b.combine(losses_of(model, xs, ys))
    torch.testing.assert_close(out_a.weights, out_b.weights, rtol=0, atol=0)
    torch.testing.assert_close(a.state_dict()["ema"], b.state_dict()["ema"], rtol=0, atol=0)
    fresh = weighting(model, ema_alpha=0.5)
    assert not torch.equal(fresh.combine(losses_of(model, xs, ys)).weights, out_a.weights)
    with pytest.raises(ValueError, match="columns"):
        MinNormWeighting(Subspace.from_module(model[2]), MinNormSolver()).load_state_dict(state)
    with pytest.raises(ValueError, match="lacks keys"):
        b.load_state_dict({"step": 1})


def test_backward_parts_head_subspace_with_rest_of_model_and_accumulation() -> None:
    model, xs, ys = setup(7)
    head = Subspace.from_module(model[2])
    w = MinNormWeighting(head, MinNormSolver(), L2Normalization())
    closures = [lambda x=x, y=y: ((model(x) - y) ** 2).mean() for x, y in zip(xs, ys, strict=True)]
    model.zero_grad()
    out = w.backward_parts(closures, params=list(model.parameters()))
    got = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    sum(wi * c() for wi, c in zip(out.weights, closures, strict=True)).backward()
    for a, b in zip(got, [p.grad for p in model.parameters()], strict=True):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(
        out.loss, sum(wi * c() for wi, c in zip(out.weights, closures, strict=True))
    )
    assert not out.loss.requires_grad
    # .grad accumulates like backward(); without params only the subspace is touched
    w.backward_parts(closures)
    torch.testing.assert_close(model[2].weight.grad, 2 * got[2], rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(model[0].weight.grad, got[0])


def test_combine_vectors_uses_caller_supplied_gradients() -> None:
    model, xs, ys = setup(8)
    x = torch.cat(xs)
    z = model[1](model[0](x))  # shared representation (MGDA-UB: gradients w.r.t. features)
    preds = model[2](z).split(6)
    losses = [((p - y) ** 2).mean() for p, y in zip(preds, ys, strict=True)]
    vectors = torch.stack(
        [torch.autograd.grad(l, z, retain_graph=True)[0].reshape(-1) for l in losses]
    )
    w = weighting(model, ema_alpha=0.5)
    out = w.combine_vectors(vectors, losses)
    torch.testing.assert_close(out.weights, MinNormSolver().solve(vectors).weights)
    torch.testing.assert_close(
        out.loss, sum(wi * l for wi, l in zip(out.weights, losses, strict=True))
    )
    out.loss.backward()
    # an absent objective's row is ignored even if it holds garbage
    garbage = vectors.clone()
    garbage[0] = 1e6
    out = weighting(model).combine_vectors(garbage, [None, losses[1], losses[2]])
    torch.testing.assert_close(
        out.weights[1:], MinNormSolver().solve(vectors[1:]).weights.to(out.weights)
    )
    assert out.weights[0] == 0
    state = w.state_dict()
    assert state["ema_source"] == "vectors" and state["ema"].shape == vectors.shape
    weighting(model, ema_alpha=0.5).load_state_dict(state)  # width is not the subspace's: fine
    with pytest.raises(ValueError, match="expected"):
        w.combine_vectors(vectors[:2], losses)


class _ValueReads(TorchDispatchMode):
    """Logs every op that reads a tensor's value on the host (``.item()``, ``bool()``)."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            self.log.append("read")
        return func(*args, **(kwargs or {}))


def test_backward_parts_checks_finiteness_once_after_all_parts() -> None:
    model, xs, ys = setup(3)
    w = weighting(model, ema_alpha=0.5)
    log: list[str] = []

    def part(i: int, poison: bool = False):
        def closure() -> torch.Tensor:
            log.append(f"start {i}")
            loss = ((model(xs[i]) - ys[i]) ** 2).mean()
            log.append(f"end {i}")
            return loss * float("nan") if poison else loss

        return closure

    with _ValueReads(log):
        w.backward_parts([part(0), part(1), part(2)])
    parts = log[log.index("start 0") : log.index("end 2")]
    assert "read" not in parts, f"a host sync between the parts: {log}"
    state = w.state_dict()
    model.zero_grad(set_to_none=True)
    log.clear()
    with pytest.raises(ValueError, match=r"loss of objective 1 is not finite \(nan\)"):
        w.backward_parts([part(0), part(1, poison=True), part(2)])
    assert "start 2" in log  # checked after all parts ran...
    assert all(p.grad is None for p in model.parameters())  # ...but before .grad is touched
    after = w.state_dict()  # and before the state changes
    assert after["step"] == state["step"] == 1
    torch.testing.assert_close(after["ema"], state["ema"], rtol=0, atol=0)
    torch.testing.assert_close(after["weights"], state["weights"], rtol=0, atol=0)


def test_non_finite_gradient_names_the_objective_and_keeps_the_state() -> None:
    model, xs, ys = setup(4)
    w = weighting(model, ema_alpha=0.5)
    w.combine(losses_of(model, xs, ys))
    state = w.state_dict()
    losses = losses_of(model, xs, ys)
    out = model(xs[2])
    # value 0, gradient 0 · ∞ = nan (sqrt at 0)
    losses[2] = torch.sqrt(((out - out.detach()) ** 2).sum())
    with pytest.raises(ValueError, match="gradient of objective 2 is not finite"):
        w.combine(losses)
    after = w.state_dict()
    assert after["step"] == state["step"]
    torch.testing.assert_close(after["ema"], state["ema"], rtol=0, atol=0)
    with pytest.raises(ValueError, match="loss of objective 0 is not finite"):
        weighting(model).combine_vectors(
            torch.ones(3, 4), [losses[0] + float("inf"), losses[1], None]
        )

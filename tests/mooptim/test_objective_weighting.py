"""ObjectiveWeighting: every registered weighting plugs into the step as MGDA does.

For each name of ``WEIGHTINGS`` (read at collection time, so methods merged later are covered):
the three entry points give the weighting of the Gram computed by hand, absent objectives get 0,
the EMA applies, a state dict resumes bit for bit, and the MGDA path is MinNormWeighting's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor, nn

from mooptim import (
    GramAccumulation,
    L2Normalization,
    MinNormSolver,
    MinNormWeighting,
    ObjectiveWeighting,
    Subspace,
    weighting_step,
)
from mooptim.weightings import WEIGHTINGS, Weighting, weighting_from_name
from tests.mooptim.weightings._checks import gramian_of, jacobians

NAMES = sorted(WEIGHTINGS)
TOL = {"rtol": 1e-6, "atol": 1e-10}


class CountingWeighting(Weighting):
    """A stateful, loss-based test method: ``w_i ∝ exp(p L_i) / (‖g_i‖ (1 + calls))^(i + 1)``.

    Depends on the Gram, the losses, a hyperparameter and the number of past calls, so any slip
    in passing one of them (or in saving the call count) changes the weights.
    """

    name = "counting"
    needs_losses = True
    stateful = True

    def __init__(self, power: float = 1.0) -> None:
        self.power = power
        self.calls = 0
        self.last: Tensor | None = None  # a tensor in the state, as a generator's would be

    def hyperparameters(self) -> dict[str, Any]:
        return {"power": self.power}

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        assert losses is not None
        self.calls += 1
        k = gramian.shape[-1]
        exponents = torch.arange(1, k + 1, dtype=gramian.dtype)
        norms = torch.diagonal(gramian, dim1=-2, dim2=-1).sqrt() * (1 + self.calls)
        raw = torch.exp(self.power * losses) / norms**exponents
        self.last = raw / raw.sum(-1, keepdim=True)
        return self.last.clone()

    def state_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "last": None if self.last is None else self.last.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.calls, self.last = int(state["calls"]), state["last"]

    def reset(self) -> None:
        self.calls, self.last = 0, None


def setup(seed: int = 0, k: int = 3) -> tuple[nn.Module, list[Tensor], list[Tensor]]:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    xs = [torch.randn(6, 3, dtype=torch.float64) for _ in range(k)]
    ys = [torch.randn(6, 2, dtype=torch.float64) for _ in range(k)]
    return model, xs, ys


def losses_of(model: nn.Module, xs: list, ys: list) -> list[Tensor | None]:
    return [((model(x) - y) ** 2).mean() for x, y in zip(xs, ys, strict=True)]


def make(name: str) -> Weighting:
    return CountingWeighting() if name == "counting" else weighting_from_name(name)


def twin(weighting: Weighting) -> Weighting:
    """A copy with the same configuration and state (through the public interface)."""
    config = weighting.config()
    copy = CountingWeighting(config["power"]) if config["name"] == "counting" else None
    copy = copy or weighting_from_name(**config)
    copy.load_state_dict(weighting.state_dict())
    return copy


class Reference:
    """The weighting called by hand on a hand-made Gram: a twin taken before the step, and the
    global random state of that moment (for a method that draws from it)."""

    def __init__(self, weighting: Weighting) -> None:
        self.weighting = twin(weighting)
        self.rng = torch.get_rng_state()

    @staticmethod
    def gram(vectors: Tensor, normalize: bool = False) -> Tensor:
        gram = gramian_of(vectors.to(torch.float64))
        if normalize:  # D G D, D = diag(1 / ||g_i||), in the library's order of operations
            inverse = 1.0 / torch.diagonal(gram).sqrt()
            gram = gram * inverse[:, None] * inverse[None, :]
        return gram

    def __call__(self, vectors: Tensor, values: Tensor, normalize: bool = False) -> Tensor:
        gram = self.gram(vectors, normalize)
        torch.set_rng_state(self.rng)
        losses = values.to(torch.float64) if self.weighting.needs_losses else None
        return self.weighting(gram, losses=losses)


def grads(losses: list[Tensor], subspace: Subspace) -> Tensor:
    return torch.stack(
        [
            subspace.flatten(torch.autograd.grad(l, subspace.params, retain_graph=True))
            for l in losses
        ]
    )


def values(losses: list[Tensor | None]) -> Tensor:
    return torch.stack([l.detach() for l in losses if l is not None])


WITH_FAKE = [*NAMES, "counting"]


def same_state(a: Any, b: Any) -> bool:
    """Equal state dicts: tensors bit for bit, containers element by element."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return isinstance(a, Tensor) and isinstance(b, Tensor) and torch.equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_state(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_state(x, y) for x, y in zip(a, b, strict=True))
    return bool(np.array_equal(a, b)) if isinstance(a, np.ndarray) else a == b


@pytest.mark.parametrize("normalize", [False, True], ids=["raw", "l2"])
@pytest.mark.parametrize("name", WITH_FAKE)
def test_combine_weights_the_gram_computed_by_hand(name: str, normalize: bool) -> None:
    model, xs, ys = setup()
    head = Subspace.from_module(model[2])
    norm = L2Normalization() if normalize else None
    w = ObjectiveWeighting(head, make(name), normalizer=norm)
    for _ in range(2):  # the second step sees the state the first one left
        losses = losses_of(model, xs, ys)
        reference = Reference(w.weighting)
        out = w.combine(losses)
        expected = reference(grads(losses, head), values(losses), normalize)
        torch.testing.assert_close(out.weights, expected, **TOL)
        torch.testing.assert_close(out.gram, reference.gram(grads(losses, head), normalize))
        torch.testing.assert_close(out.min_norm_sq, expected @ out.gram @ expected, **TOL)
        weighted = sum(wi * l for wi, l in zip(out.weights, losses, strict=True))
        torch.testing.assert_close(out.loss, weighted)
        model.zero_grad()
        out.loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert out.num_active == 3 and out.active.all()
    assert (out.result is None) == (name != "mgda")


@pytest.mark.parametrize("name", WITH_FAKE)
def test_backward_parts_writes_the_weighted_gradient(name: str) -> None:
    model, xs, ys = setup(1)
    everything = Subspace.all(model)
    w = ObjectiveWeighting(everything, make(name), normalizer=L2Normalization())
    closures = [lambda x=x, y=y: ((model(x) - y) ** 2).mean() for x, y in zip(xs, ys, strict=True)]
    losses = [c() for c in closures]
    by_hand = grads(losses, everything)
    reference = Reference(w.weighting)
    model.zero_grad(set_to_none=True)
    out = w.backward_parts(closures)
    expected = reference(by_hand, values(losses), normalize=True)
    torch.testing.assert_close(out.weights, expected, **TOL)
    written = everything.flatten([p.grad for p in everything.params])
    torch.testing.assert_close(written, out.weights @ by_hand, **TOL)
    assert not out.loss.requires_grad


@pytest.mark.parametrize("name", WITH_FAKE)
def test_gram_accumulation_gives_the_weights_of_the_full_gradients(name: str) -> None:
    model, xs, ys = setup(9)
    everything = Subspace.all(model)
    blocks = ObjectiveWeighting(everything, make(name), strategy=GramAccumulation(block_numel=8))
    losses = losses_of(model, xs, ys)
    reference = Reference(blocks.weighting)
    out = blocks.combine(losses)
    torch.testing.assert_close(out.weights, reference(grads(losses, everything), values(losses)))


@pytest.mark.parametrize("name", WITH_FAKE)
def test_combine_vectors_weights_the_given_vectors(name: str) -> None:
    model, xs, ys = setup(2)
    w = ObjectiveWeighting(Subspace.all(model), make(name))
    vectors = torch.randn(3, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    losses = losses_of(model, xs, ys)
    reference = Reference(w.weighting)
    out = w.combine_vectors(vectors, losses)
    torch.testing.assert_close(out.weights, reference(vectors, values(losses)), **TOL)


@pytest.mark.parametrize("name", WITH_FAKE)
def test_absent_and_dead_objectives_get_zero_and_the_rest_is_weighted_alone(name: str) -> None:
    model, xs, ys = setup(3, k=4)
    head = Subspace.from_module(model[2])
    w = ObjectiveWeighting(head, make(name))
    losses = losses_of(model, xs, ys)
    losses[1] = None  # absent from the batch
    losses[3] = (model(xs[3]) * 0).sum() + 1.0  # present, zero gradient
    reference = Reference(w.weighting)
    out = w.combine(losses)
    assert out.present.tolist() == [True, False, True, True]
    assert out.active.tolist() == [True, False, True, False] and out.num_active == 2
    assert out.weights[1] == 0 and out.weights[3] == 0
    live = [losses[0], losses[2]]
    torch.testing.assert_close(out.weights[[0, 2]], reference(grads(live, head), values(live)))
    none = ObjectiveWeighting(head, make(name)).combine([None] * 4)
    assert none.num_active == 0 and not none.weights.any() and none.loss.item() == 0.0


@pytest.mark.parametrize("name", WITH_FAKE)
def test_ema_smooths_the_gradients_the_weighting_sees(name: str) -> None:
    model, xs, ys = setup(4)
    head = Subspace.from_module(model[2])
    alpha = 0.3
    w = ObjectiveWeighting(head, make(name), ema_alpha=alpha)
    first = losses_of(model, xs, ys)
    w.combine(first)
    g0 = grads(first, head)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    second = losses_of(model, xs, ys)
    reference = Reference(w.weighting)
    out = w.combine(second)
    smoothed = (1 - alpha) * g0 + alpha * grads(second, head)
    torch.testing.assert_close(out.weights, reference(smoothed, values(second)), **TOL)


def _run(w: ObjectiveWeighting, model: nn.Module, xs: list, ys: list, steps: int) -> list[Tensor]:
    outs = []
    for step in range(steps):
        torch.manual_seed(100 + step)  # a method drawing from the global generator: same draws
        outs.append(w.combine(losses_of(model, xs, ys)).weights)
    return outs


@pytest.mark.parametrize("name", WITH_FAKE)
def test_state_dict_resumes_bit_for_bit(name: str) -> None:
    model, xs, ys = setup(5)
    head = Subspace.from_module(model[2])

    def build() -> ObjectiveWeighting:
        return ObjectiveWeighting(head, make(name), L2Normalization(), ema_alpha=0.5)

    a = build()
    _run(a, model, xs, ys, 2)
    state = a.state_dict()
    assert state["weighting"] == a.weighting.config()
    b = build()
    b.load_state_dict(state)
    assert b.step == 2 and same_state(b.weighting.state_dict(), a.weighting.state_dict())
    for wa, wb in zip(_run(a, model, xs, ys, 3), _run(b, model, xs, ys, 3), strict=True):
        assert torch.equal(wa, wb), (wa, wb)


def test_the_weightings_own_state_is_saved_and_restored() -> None:
    model, xs, ys = setup(6)
    head = Subspace.from_module(model[2])
    a = ObjectiveWeighting(head, CountingWeighting())
    _run(a, model, xs, ys, 2)
    state = a.state_dict()
    assert state["weighting_state"]["calls"] == 2
    assert torch.equal(state["weighting_state"]["last"], a.weighting.last)
    b = ObjectiveWeighting(head, CountingWeighting())
    b.load_state_dict(state)
    assert b.weighting.calls == 2
    stale = ObjectiveWeighting(head, CountingWeighting())  # everything but the method's state
    stale.load_state_dict({**state, "weighting_state": {"calls": 0, "last": None}})
    resumed, restarted, kept = (_run(w, model, xs, ys, 1)[0] for w in (b, stale, a))
    assert torch.equal(resumed, kept) and not torch.allclose(restarted, kept)


class FixedKWeighting(CountingWeighting):
    """A stateful method whose state fits one number of objectives only (like a loss history)."""

    name = "fixed_k"

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        if self.last is not None and self.last.shape != gramian.shape[:-1]:
            raise ValueError(f"state is for {self.last.shape[-1]} objectives; call reset() first")
        return super()._weights(gramian, losses)


def test_a_stateful_method_gets_the_active_sub_problem_or_a_clear_error() -> None:
    model, xs, ys = setup(10)
    head = Subspace.from_module(model[2])
    w = ObjectiveWeighting(head, CountingWeighting(), ema_alpha=0.5)
    w.combine(losses_of(model, xs, ys))
    losses = losses_of(model, xs, ys)
    losses[1] = None
    reference = Reference(w.weighting)
    out = w.combine(losses)  # its state carries over to the 2 active objectives
    live = [losses[0], losses[2]]
    torch.testing.assert_close(out.weights[[0, 2]], reference(grads(live, head), values(live)))
    assert w.weighting.calls == 2 and out.weights[1] == 0
    strict = ObjectiveWeighting(head, FixedKWeighting(), ema_alpha=0.5)
    strict.combine(losses_of(model, xs, ys))
    before = strict.state_dict()
    with pytest.raises(
        ValueError,
        match=r"fixed_k weighting failed on the 2 active objectives "
        r"\[0, 2\] of 3 .*call reset\(\) first",
    ):
        strict.combine(losses)
    after = strict.state_dict()
    assert after["step"] == before["step"] == 1 and torch.equal(after["ema"], before["ema"])


class BrokenWeighting(Weighting):
    """A method with a bug: a NaN weight."""

    name = "broken"

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        return torch.full(gramian.shape[:-1], float("nan"), dtype=gramian.dtype)


def test_a_non_finite_weight_is_an_error_naming_the_method_not_a_nan_loss() -> None:
    model, xs, ys = setup(11)
    w = ObjectiveWeighting(Subspace.from_module(model[2]), BrokenWeighting())
    with pytest.raises(ValueError, match="broken weighting returned non-finite weights"):
        w.combine(losses_of(model, xs, ys))
    assert w.step == 0 and w.state_dict()["weights"] is None


def test_a_different_weighting_is_refused_on_load_naming_the_difference() -> None:
    model, xs, ys = setup(7)
    head = Subspace.from_module(model[2])
    mgda = ObjectiveWeighting(head, "mgda")
    mgda.combine(losses_of(model, xs, ys))
    state = mgda.state_dict()
    with pytest.raises(ValueError, match=r"name: saved 'mgda', here 'mean'"):
        ObjectiveWeighting(head, "mean").load_state_dict(state)
    with pytest.raises(ValueError, match=r"method: saved 'exact', here 'frank_wolfe'"):
        ObjectiveWeighting(head, weighting_from_name("mgda", method="frank_wolfe")).load_state_dict(
            state
        )
    counting = ObjectiveWeighting(head, CountingWeighting(power=2.0))
    with pytest.raises(ValueError, match=r"power: saved 2.0, here 1.0"):
        ObjectiveWeighting(head, CountingWeighting()).load_state_dict(counting.state_dict())
    # a state dict from before weightings recorded their config is an MGDA one
    legacy = {k: v for k, v in state.items() if k not in ("weighting", "weighting_state")}
    ObjectiveWeighting(head, "mgda").load_state_dict(legacy)
    with pytest.raises(ValueError, match=r"name: saved 'mgda', here 'mean'"):
        ObjectiveWeighting(head, "mean").load_state_dict(legacy)
    fresh = ObjectiveWeighting(head, "mean")
    with pytest.raises(ValueError, match="saved"):
        fresh.load_state_dict(state)
    assert fresh.step == 0  # nothing was restored


def test_mgda_is_min_norm_weighting_bit_for_bit() -> None:
    model, xs, ys = setup(8)
    head = Subspace.from_module(model[2])
    plain = MinNormWeighting(head, MinNormSolver(), L2Normalization(), ema_alpha=0.6)
    family = ObjectiveWeighting(head, "mgda", L2Normalization(), ema_alpha=0.6)
    for step in range(3):
        losses = losses_of(model, xs, ys)
        if step == 1:
            losses[2] = None
        a, b = plain.combine(losses), family.combine(losses)
        for field in ("weights", "gram", "min_norm_sq", "loss", "active"):
            assert torch.equal(getattr(a, field), getattr(b, field)), field
        assert torch.equal(a.result.weights, b.result.weights) if a.result else b.result is None
        model.zero_grad()
        a.loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    closures = [lambda x=x, y=y: ((model(x) - y) ** 2).mean() for x, y in zip(xs, ys, strict=True)]
    assert torch.equal(
        plain.backward_parts(closures).weights, family.backward_parts(closures).weights
    )
    # their state dicts are interchangeable
    ObjectiveWeighting(head, "mgda", L2Normalization(), ema_alpha=0.6).load_state_dict(
        plain.state_dict()
    )
    MinNormWeighting(head, MinNormSolver(), ema_alpha=0.6).load_state_dict(family.state_dict())
    assert plain.solver.method == "exact"


def test_bad_weighting_arguments_are_named() -> None:
    head = Subspace.from_module(setup()[0][2])
    with pytest.raises(ValueError, match=r"unknown weighting 'nope'"):
        ObjectiveWeighting(head, "nope")
    with pytest.raises(TypeError, match=r"pass CountingWeighting\(\), not the class"):
        ObjectiveWeighting(head, CountingWeighting)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="MinNormSolver"):
        ObjectiveWeighting(head, MinNormSolver())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Subspace"):
        ObjectiveWeighting([head.params[0]], "mean")  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(
    jacobian=jacobians(min_k=2, max_k=6),
    name=st.sampled_from(NAMES),
    absent=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_step_is_the_weighting_of_the_active_sub_gram(
    jacobian: Tensor, name: str, absent: list[bool]
) -> None:
    """Property: weighting_step = the weighting of the active rows and columns, zeros elsewhere."""
    k = jacobian.shape[0]
    present = torch.tensor([not a for a in absent[:k]])
    gram = gramian_of(jacobian)
    losses = torch.linspace(0.5, 2.0, k, dtype=torch.float64)
    weighting = make(name)
    reference = twin(weighting)
    active = present & (torch.diagonal(gram) > 0)
    idx = torch.nonzero(active).flatten()
    sub = gram[idx[:, None], idx[None, :]]
    loss_in = losses[idx] if reference.needs_losses else None
    rng = torch.get_rng_state()
    try:
        step = weighting_step(gram, jacobian, losses, losses, present, weighting=weighting)
    except ValueError:
        # Nash-MTL and FairGrad have no solution when 0 is in the convex hull of the active
        # gradients: the step must then refuse exactly as the method alone does.
        torch.set_rng_state(rng)
        with pytest.raises(ValueError):
            reference(sub, losses=loss_in)
        return
    assert step.active.tolist() == active.tolist()
    assert not step.weights[~active].any()
    if active.any():
        torch.set_rng_state(rng)
        torch.testing.assert_close(step.weights[idx], reference(sub, losses=loss_in), **TOL)


# -- two gloo processes: identical weights on every rank for any weighting -------------------------

WORLD = 2


def _rank_parts(rank: int, step: int) -> list[tuple[Tensor, Tensor]]:
    gen = torch.Generator().manual_seed(1000 * rank + step)  # different data on each rank
    parts = []
    for i in range(3):
        x = torch.randn(6, 5, generator=gen)
        parts.append((x, x[:, i : i + 1] * (-1) ** i * (1 + rank)))
    return parts


def _rank_weightings() -> dict[str, Weighting]:
    chosen: dict[str, Weighting] = {"counting": CountingWeighting()}
    for name in NAMES:
        if name != "mgda":  # MGDA's sync is tests/mooptim/test_distributed.py's
            chosen[name] = weighting_from_name(name)
    return chosen


def _distributed_worker(rank: int, port: int, out_dir: str) -> None:
    import faulthandler
    from pathlib import Path

    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    faulthandler.dump_traceback_later(120, exit=True)
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD
    )
    try:
        torch.manual_seed(0)  # same parameters, and same global random state, on every rank
        model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))
        ddp = DistributedDataParallel(model)
        head = Subspace.from_module(model[2])
        record: dict[str, Any] = {}
        for name, weighting in _rank_weightings().items():
            stateful = weighting.stateful and name != "counting"
            step_of = ObjectiveWeighting(head, weighting, L2Normalization(), broadcast=stateful)
            record[name] = []
            for step in range(2):
                parts = _rank_parts(rank, step)
                pred = ddp(torch.cat([p[0] for p in parts])).split(6)
                losses: list[Tensor | None] = [
                    ((pr - y) ** 2).mean() for pr, (_, y) in zip(pred, parts, strict=True)
                ]
                if step == 0 and name == "counting":  # the reference: rank-averaged inputs
                    local = torch.cat([grads(losses, head), values(losses)[:, None]], dim=1)
                    dist.all_reduce(local)
                    mean = local / WORLD
                    record["reference"] = Reference(CountingWeighting())(
                        mean[:, :-1], mean[:, -1], normalize=True
                    )
                if step == 1 and rank == 1:
                    losses[2] = None  # absent from this rank's batch only: still active
                out = step_of.combine(losses)
                model.zero_grad()
                out.loss.backward()
                record[name].append(out.weights)
                record[f"{name} active"] = out.active
        torch.save(record, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.mark.distributed
def test_two_gloo_ranks_get_identical_weights_for_every_weighting(tmp_path) -> None:
    import os
    import socket

    import torch.multiprocessing as mp

    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # spawn, not fork (see tests/mooptim/test_distributed.py)
    mp.start_processes(
        _distributed_worker,
        args=(port, str(tmp_path)),
        nprocs=WORLD,
        join=True,
        start_method="spawn",
    )
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD))
    for name in _rank_weightings():
        for a, b in zip(r0[name], r1[name], strict=True):
            assert torch.equal(a, b), (name, a, b)  # bitwise identical
        assert r0[f"{name} active"].all(), name  # absent on rank 1 only: still active
    # the weights are those of the rank-averaged gradients and losses
    got, expected = r0["counting"][0].double(), r0["reference"].double()
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-7)


def test_family_page_table_is_the_scripts_output_for_every_registered_method(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/mooptim/weightings/index.md shows the comparison of every registered method: after
    adding one, run ``PYTHONPATH=. python docs/assets/plots/make_weightings.py --write``."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "docs" / "assets" / "plots" / "make_weightings.py"
    spec = importlib.util.spec_from_file_location("make_weightings", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, script)  # dataclasses look their module up
    spec.loader.exec_module(script)
    rows = [script.evaluate(name) for name in WEIGHTINGS]
    table = script.table(rows)
    assert len(table.splitlines()) == 2 + len(WEIGHTINGS)
    page = script.PAGE.read_text(encoding="utf-8")
    assert f"{script.START}\n{table}\n{script.END}" in page, (
        "the comparison table of docs/mooptim/weightings/index.md is stale: run "
        "PYTHONPATH=. python docs/assets/plots/make_weightings.py --write"
    )

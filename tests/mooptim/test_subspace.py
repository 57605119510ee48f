"""Subspace selection: constructors, validation errors, flatten/unflatten layout."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from mooptim.subspace import Subspace


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(3, 4)
        self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        self.head = nn.Linear(4, 1)


def test_from_module_takes_the_module_parameters_in_order() -> None:
    net = Net()
    sub = Subspace.from_module(net.head)
    assert sub.params == (net.head.weight, net.head.bias)
    assert sub.names == ("weight", "bias")
    assert sub.numel == 5


def test_from_patterns_uses_fnmatch_on_full_names() -> None:
    net = Net()
    sub = Subspace.from_patterns(net, ["head.*", "blocks.2.weight"])
    assert sub.names == ("blocks.2.weight", "head.weight", "head.bias")
    with pytest.raises(ValueError, match="matches no parameter"):
        Subspace.from_patterns(net, ["heads.*"])


def test_last_blocks_names_and_range() -> None:
    net = Net()
    sub = Subspace.last_blocks(net, net.blocks, 2)
    assert sub.names == ("blocks.1.weight", "blocks.1.bias", "blocks.2.weight", "blocks.2.bias")
    assert sub.params[0] is net.blocks[1].weight
    for bad in (0, 4, -1):
        with pytest.raises(ValueError, match="out of range"):
            Subspace.last_blocks(net, net.blocks, bad)
    with pytest.raises(ValueError, match="not a submodule"):
        Subspace.last_blocks(net, nn.ModuleList([nn.Linear(1, 1)]), 1)


def test_all_skips_frozen_and_explicit_frozen_is_an_error() -> None:
    net = Net()
    net.embed.requires_grad_(False)
    sub = Subspace.all(net)
    assert all(not n.startswith("embed") for n in sub.names or ())
    assert sub.numel == sum(p.numel() for p in net.parameters() if p.requires_grad)
    with pytest.raises(ValueError, match="frozen"):
        Subspace.from_module(net.embed)
    with pytest.raises(ValueError, match="empty subspace"):
        Subspace.from_module(net.embed, skip_frozen=True)


def test_validation_errors() -> None:
    net = Net()
    with pytest.raises(ValueError, match="empty"):
        Subspace([])
    with pytest.raises(ValueError, match="listed twice"):
        Subspace([net.head.weight, net.head.weight])
    with pytest.raises(TypeError, match="not a tensor"):
        Subspace([3.0])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="names"):
        Subspace([net.head.weight], names=["a", "b"])
    other = Net()
    sub = Subspace.from_module(other.head)
    sub.check_in(other)
    with pytest.raises(ValueError, match="not a parameter of Net"):
        sub.check_in(net)


@given(
    shapes=st.lists(st.lists(st.integers(1, 3), min_size=0, max_size=3), min_size=1, max_size=4),
    lead=st.integers(1, 3),
)
def test_flatten_unflatten_roundtrip(shapes: list[list[int]], lead: int) -> None:
    params = [nn.Parameter(torch.randn(tuple(s))) for s in shapes]
    sub = Subspace(params)
    flat = sub.flatten([p.detach() * 2 for p in params])
    assert flat.shape == (sub.numel,)
    back = sub.unflatten(flat)
    for b, p in zip(back, params, strict=True):
        torch.testing.assert_close(b, p.detach() * 2)
    batched = torch.randn(lead, sub.numel)
    parts = sub.unflatten(batched)
    assert [tuple(t.shape) for t in parts] == [(lead, *p.shape) for p in params]
    torch.testing.assert_close(torch.cat([t.reshape(lead, -1) for t in parts], dim=1), batched)


def test_flatten_fills_missing_gradients_with_zeros() -> None:
    a, b = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(3))
    sub = Subspace([a, b])
    torch.testing.assert_close(sub.flatten([None, torch.ones(3)]), torch.tensor([0, 0, 1, 1, 1.0]))
    with pytest.raises(ValueError, match="expected 2"):
        sub.flatten([None])
    with pytest.raises(ValueError, match="last dimension"):
        sub.unflatten(torch.zeros(4))

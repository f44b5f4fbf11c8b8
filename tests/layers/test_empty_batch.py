"""Empty batches (B = 0) and empty sequences (T = 0) in rnnkit.RNN / LSTM / GRU, as in torch.nn.

torch.nn runs a batch of no sequences forwards and backwards (outputs (T, 0, D·H), states
(L·D, 0, H), zero parameter gradients) and refuses T = 0 ("Expected sequence length to be larger
than 0"). rnnkit does the same on every path; its refusal is a ShapeError naming T.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import rnnkit
from rnnkit.errors import ShapeError

CASES = [
    (mode, bptt)
    for mode in ("RNN", "LSTM", "GRU")
    for bptt in ("auto", "autograd", "hand")
    if not (mode == "GRU" and bptt == "hand")
]


def _pair(mode: str, bptt: str, **options: object) -> tuple[nn.Module, nn.Module]:
    reference = getattr(nn, mode)(3, 4, num_layers=2, **options)
    layer = getattr(rnnkit, mode)(3, 4, num_layers=2, bptt=bptt, **options)
    layer.load_state_dict(reference.state_dict())
    return reference, layer


def _forward_backward(module: nn.Module, x: torch.Tensor, hx: object = None) -> tuple:
    output, state = module(x, hx)
    states = tuple(state) if isinstance(state, tuple) else (state,)
    (output.sum() + sum(s.sum() for s in states)).backward()
    return output, states


@pytest.mark.parametrize(("mode", "bptt"), CASES)
@pytest.mark.parametrize("steps", [1, 5])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["tbf", "btf"])
def test_empty_batch_forward_and_backward_as_torch(
    mode: str, bptt: str, steps: int, bidirectional: bool, batch_first: bool
) -> None:
    reference, layer = _pair(mode, bptt, bidirectional=bidirectional, batch_first=batch_first)
    shape = (0, steps, 3) if batch_first else (steps, 0, 3)
    x_ref, x_ours = torch.randn(shape, requires_grad=True), torch.randn(shape, requires_grad=True)
    expected, expected_states = _forward_backward(reference, x_ref)
    output, states = _forward_backward(layer, x_ours)
    assert output.shape == expected.shape
    assert [s.shape for s in states] == [s.shape for s in expected_states]
    assert x_ours.grad.shape == x_ref.grad.shape
    for (name, ours), theirs in zip(layer.named_parameters(), reference.parameters(), strict=True):
        assert ours.grad is not None, name
        assert torch.equal(ours.grad, theirs.grad), name  # zeros: nothing to learn from


@pytest.mark.parametrize(("mode", "bptt"), CASES)
def test_empty_batch_with_a_given_state_and_lengths(mode: str, bptt: str) -> None:
    """hx (L·D, 0, H) is accepted as torch accepts it; lengths (0,) too (rnnkit's keyword)."""
    reference, layer = _pair(mode, bptt, bidirectional=True)
    x = torch.randn(4, 0, 3)  # (T, B, F)
    zeros = torch.zeros(4, 0, 4)  # (L·D, B, H)
    hx = (zeros, zeros) if mode == "LSTM" else zeros
    expected, _ = reference(x, hx)
    output, _ = layer(x, hx)
    assert output.shape == expected.shape
    output, _ = layer(x, lengths=torch.zeros(0, dtype=torch.int64))
    assert output.shape == expected.shape


@pytest.mark.parametrize(("mode", "bptt"), CASES)
@pytest.mark.parametrize("shape", [(0, 2, 3), (0, 3)], ids=["batched", "unbatched"])
def test_no_time_steps_is_refused_as_torch_refuses_it(
    mode: str, bptt: str, shape: tuple[int, ...]
) -> None:
    reference, layer = _pair(mode, bptt)
    with pytest.raises(RuntimeError, match="sequence length"):
        reference(torch.randn(shape))
    with pytest.raises(ShapeError, match=r"T ≥ 1 time steps.*got \(0,"):
        layer(torch.randn(shape))

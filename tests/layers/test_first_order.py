"""Second derivatives through the hand-derived paths: by the cell's replay, or refused loudly."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnkit


def _penalised_grads(layer: torch.nn.Module, x: torch.Tensor, packed: bool) -> list[torch.Tensor]:
    """∂/∂θ of Σ y + ‖∂(Σ y²)/∂x‖² (a gradient penalty, double backward), every parameter."""
    layer.zero_grad()
    if packed:
        lengths = torch.tensor([5, 2, 4])
        inputs = pack_padded_sequence(x, lengths, enforce_sorted=False)
        output = pad_packed_sequence(layer(inputs)[0], total_length=x.shape[0])[0]
    else:
        output = layer(x)[0]
    (grad_x,) = torch.autograd.grad(output.pow(2).sum(), x, create_graph=True)
    (output.sum() + grad_x.pow(2).sum()).backward()
    return [parameter.grad.clone() for parameter in layer.parameters()]


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", ["RNN", "LSTM"])
def test_gradient_penalty_on_the_hand_path_equals_torch(
    kind: str, bidirectional: bool, packed: bool, float64: torch.dtype
) -> None:
    reference = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=bidirectional)
    twin = getattr(rnnkit, kind).from_torch(reference)
    assert twin.path == {"RNN": "elman", "LSTM": "lstm"}[kind]  # the hand-derived Function
    x = torch.randn(5, 3, 3, requires_grad=True)
    expected = _penalised_grads(reference, x, packed)
    for ours, theirs in zip(_penalised_grads(twin, x, packed), expected, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["RNN", "LSTM"])
def test_gradgradcheck_on_the_hand_path(kind: str, float64: torch.dtype) -> None:
    layer = getattr(rnnkit, kind)(2, 3, bptt="hand")
    x = torch.randn(4, 2, 2, requires_grad=True)
    hidden = torch.randn(1, 2, 3, requires_grad=True)
    state = (hidden, torch.randn(1, 2, 3, requires_grad=True)) if kind == "LSTM" else hidden

    def run(x: torch.Tensor, *state: torch.Tensor) -> torch.Tensor:
        return layer(x, state if kind == "LSTM" else state[0])[0]

    flat = state if isinstance(state, tuple) else (state,)
    assert torch.autograd.gradgradcheck(run, (x, *flat))


@pytest.mark.parametrize("kind", ["RNN", "LSTM"])
def test_under_autocast_a_second_derivative_is_refused_loudly(kind: str) -> None:
    layer = getattr(rnnkit, kind)(3, 4, bptt="hand")
    x = torch.randn(5, 2, 3, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output = layer(x)[0]
    with pytest.raises(RuntimeError, match=r"first derivatives only.*bptt='autograd'"):
        torch.autograd.grad(output.float().pow(2).sum(), x, create_graph=True)

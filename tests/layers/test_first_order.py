"""A gradient penalty through the hand-derived paths is refused loudly, never dropped silently."""

from __future__ import annotations

import pytest
import torch

import rnnkit


def _penalised_grad(layer: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """∂/∂W_hh of loss + ‖∂loss/∂x‖² (a gradient penalty, double backward)."""
    output = layer(x)[0]
    (grad_x,) = torch.autograd.grad(output.sum(), x, create_graph=True)
    (output.pow(2).sum() + grad_x.pow(2).sum()).backward()
    return layer.weight_hh_l0.grad.clone()


@pytest.mark.parametrize("kind", ["RNN", "LSTM"])
def test_gradient_penalty_on_the_hand_path_raises(kind: str, float64: torch.dtype) -> None:
    layer = getattr(rnnkit, kind)(3, 4, bptt="hand")
    x = torch.randn(5, 2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"first derivatives only.*bptt='autograd'"):
        _penalised_grad(layer, x)


@pytest.mark.parametrize("kind", ["RNN", "LSTM"])
def test_gradient_penalty_with_autograd_matches_torch(kind: str, float64: torch.dtype) -> None:
    reference = getattr(torch.nn, kind)(3, 4)
    twin = getattr(rnnkit, kind)(3, 4, bptt="autograd")
    twin.load_state_dict(reference.state_dict())
    x = torch.randn(5, 2, 3, requires_grad=True)
    expected = _penalised_grad(reference, x)
    torch.testing.assert_close(_penalised_grad(twin, x), expected)


@pytest.mark.parametrize("kind", ["RNN", "LSTM"])
def test_first_derivatives_of_the_hand_path_still_match(kind: str, float64: torch.dtype) -> None:
    reference = getattr(torch.nn, kind)(3, 4)
    twin = getattr(rnnkit, kind)(3, 4, bptt="hand")
    twin.load_state_dict(reference.state_dict())
    x = torch.randn(5, 2, 3)
    reference(x)[0].pow(2).sum().backward()
    twin(x)[0].pow(2).sum().backward()
    torch.testing.assert_close(twin.weight_hh_l0.grad, reference.weight_hh_l0.grad)

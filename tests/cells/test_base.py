"""The cell protocol: activation table and derivatives, input projection over leading dims."""

from __future__ import annotations

import pytest
import torch

from rnnkit.cells import ACTIVATION_DERIVATIVES, ACTIVATIONS, ElmanCell, GRUCell, LSTMCell


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivatives_match_autograd(float64, name: str) -> None:
    pre = torch.linspace(-3, 3, 12, requires_grad=True)  # 12 points, none exactly at 0
    (gradient,) = torch.autograd.grad(ACTIVATIONS[name](pre).sum(), pre)
    torch.testing.assert_close(ACTIVATION_DERIVATIVES[name](pre.detach()), gradient)
    assert set(ACTIVATION_DERIVATIVES) == set(ACTIVATIONS)


@pytest.mark.parametrize(
    "make_cell",
    [
        lambda: ElmanCell(3, 4),
        lambda: GRUCell(3, 4),
        lambda: LSTMCell(3, 4, proj_size=2, coupled_gates=True),
    ],
    ids=["elman", "gru", "lstm"],
)
def test_hoisted_projection_equals_stepping(make_cell) -> None:
    cell = make_cell()
    # project all T steps at once, as a layer does, then step: same states as forward per step
    x = torch.randn(5, 2, 3)  # (T, B, F)
    projections = cell.project_input(x)  # (T, B, G)
    assert tuple(projections.shape) == (5, 2, cell.gate_size)
    hoisted = stepped = cell.init_state(2)
    for t in range(5):
        hoisted = cell.step(projections[t], hoisted)
        stepped = cell(x[t], stepped)
    for got, expected in zip(hoisted, stepped, strict=True):
        torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)

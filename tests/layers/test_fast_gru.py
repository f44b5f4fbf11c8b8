"""The lean GRU loop against GRUCell stepped under autograd: values and gradients."""

from __future__ import annotations

import pytest
import torch
from layer_helpers import assert_close

from rnnkit.cells import GRUCell
from rnnkit.layers.fast.fast_gru import gru_sequence
from rnnkit.layers.lengths import SequenceLengths
from rnnkit.layers.recurrent import run_cell


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, [3, 6, 1]])
def test_equals_the_cell_under_autograd(
    float64: torch.dtype, reverse: bool, lengths: list[int] | None
) -> None:
    cell = GRUCell(3, 4)
    x = torch.randn(6, 3, 3, requires_grad=True)  # (T, B, F)
    hidden0 = torch.randn(3, 4, requires_grad=True)
    padding = None if lengths is None else SequenceLengths.build(torch.tensor(lengths), 6, x.device)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    leaves = [x, hidden0, *weights]
    outputs, hidden = gru_sequence(x, hidden0, weights, padding, reverse=reverse)
    expected, state = run_cell(cell, x, cell.state_type(hidden0), padding, reverse=reverse)
    assert_close(outputs, expected, 1e-12)
    assert_close(hidden, state.hidden, 1e-12)
    probe = torch.randn_like(outputs)
    ours = torch.autograd.grad((outputs * probe).sum() + hidden.sum(), leaves)
    theirs = torch.autograd.grad((expected * probe).sum() + state.hidden.sum(), leaves)
    for mine, reference in zip(ours, theirs, strict=True):
        assert_close(mine, reference, 1e-10)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_the_loop_without_gradients_equals_the_autograd_loop(
    float64: torch.dtype, reverse: bool, bias: bool
) -> None:
    """No gradient wanted: the in-place loop (n_t = 2σ(2u) − 1) gives the autograd loop's."""
    cell = GRUCell(3, 4, bias=bias)
    x, hidden0 = torch.randn(7, 2, 3), torch.randn(2, 4)  # (T, B, F), (B, H)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    expected, expected_hidden = gru_sequence(x, hidden0, weights, reverse=reverse)  # autograd
    assert expected.requires_grad
    with torch.no_grad():
        outputs, hidden = gru_sequence(x, hidden0, weights, reverse=reverse)
    assert not outputs.requires_grad
    assert_close(outputs, expected, 1e-12)
    assert_close(hidden, expected_hidden, 1e-12)
    assert torch.equal(hidden, outputs[0] if reverse else outputs[-1])

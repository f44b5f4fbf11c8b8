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

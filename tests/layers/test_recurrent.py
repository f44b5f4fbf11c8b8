"""Recurrent(cell): its outputs equal stepping the cell by hand, with and without lengths."""

from __future__ import annotations

import pytest
import torch
from layer_helpers import assert_close

from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.cells.base import RecurrentCell
from rnnkit.errors import ShapeError
from rnnkit.layers import Recurrent

CELLS = [
    lambda: ElmanCell(3, 4, nonlinearity="relu"),
    lambda: LSTMCell(3, 5, proj_size=2, peephole=True),
    lambda: LSTMCell(3, 4, coupled_gates=True, activation="identity"),
    lambda: GRUCell(3, 4, reset_after=False),
]


def _by_hand(cell: RecurrentCell, x: torch.Tensor, lengths: list[int], reverse: bool):
    """Each sequence alone, stepped with cell(x_t, state) over its real steps: (B, T, H), states."""
    B, T, _ = x.shape
    outputs = torch.zeros(B, T, cell.state_size)
    finals = []
    for b in range(B):
        state = None
        steps = range(lengths[b] - 1, -1, -1) if reverse else range(lengths[b])
        for t in steps:
            state = cell(x[b : b + 1, t], state)
            outputs[b, t] = state.hidden[0]
        finals.append(state)
    final = type(finals[0])(*(torch.cat(fields) for fields in zip(*finals, strict=True)))
    return outputs, final


@pytest.mark.parametrize("make_cell", CELLS)
@pytest.mark.parametrize("reverse", [False, True])
def test_layer_equals_stepping_the_cell_by_hand(
    float64: torch.dtype, make_cell, reverse: bool
) -> None:
    cell = make_cell()
    layer = Recurrent(cell, reverse=reverse)
    x = torch.randn(3, 6, 3)  # (B, T, F)
    for lengths in ([6, 6, 6], [6, 2, 4]):
        given = None if lengths == [6, 6, 6] else torch.tensor(lengths)
        outputs, final = layer(x, lengths=given)
        expected_outputs, expected_final = _by_hand(cell, x, lengths, reverse)
        assert_close(outputs, expected_outputs, 1e-12)
        assert_close(tuple(final), tuple(expected_final), 1e-12)


def test_time_major_and_initial_state(float64: torch.dtype) -> None:
    cell = LSTMCell(3, 4)
    x = torch.randn(5, 2, 3)  # (T, B, F)
    state = cell.init_state(2)
    state = type(state)(torch.randn(2, 4), torch.randn(2, 4))
    outputs, final = Recurrent(cell, batch_first=False)(x, state)
    for t in range(5):
        state = cell(x[t], state)
        assert_close(outputs[t], state.hidden, 1e-12)
    assert_close(tuple(final), tuple(state), 1e-12)


def test_gradcheck_with_lengths(float64: torch.dtype) -> None:
    cell = GRUCell(2, 3)
    layer = Recurrent(cell, reverse=True)
    x = torch.randn(2, 4, 2, requires_grad=True)
    lengths = torch.tensor([2, 4])
    assert torch.autograd.gradcheck(lambda x: layer(x, lengths=lengths)[0], (x,))


def test_bad_input_raises_shape_error() -> None:
    layer = Recurrent(LSTMCell(3, 4))
    with pytest.raises(ShapeError, match=r"\(B, T, F\).*got \(5, 3\)"):
        layer(torch.randn(5, 3))
    with pytest.raises(ShapeError, match=r"state.hidden.*\(2, 4\).*got \(3, 4\)"):
        layer(torch.randn(2, 5, 3), (torch.zeros(3, 4), torch.zeros(3, 4)))
    with pytest.raises(ShapeError, match=r"LSTMState\(hidden, cell\)"):
        layer(torch.randn(2, 5, 3), torch.zeros(2, 4))
    with pytest.raises(ShapeError, match=r"lengths"):
        layer(torch.randn(2, 5, 3), lengths=torch.tensor([5, 0]))

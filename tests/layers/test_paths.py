"""The per-direction paths give the numbers of the cell's own step, both ways, with lengths."""

from __future__ import annotations

import pytest
import torch
from layer_helpers import assert_close

from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.layers.lengths import SequenceLengths
from rnnkit.layers.paths import PATHS, run_autograd


@pytest.mark.parametrize(
    ("path", "make_cell"),
    [
        ("elman", lambda: ElmanCell(3, 4, nonlinearity="relu")),
        ("lstm", lambda: LSTMCell(3, 4)),
        ("gru", lambda: GRUCell(3, 4)),
    ],
)
@pytest.mark.parametrize("reverse", [False, True])
def test_path_equals_the_cell_step(
    float64: torch.dtype, path: str, make_cell, reverse: bool
) -> None:
    cell = make_cell()
    x = torch.randn(6, 3, 3)  # (T, B, F)
    state = cell.state_type(*(torch.randn(3, 4) for _ in cell.state_type._fields))
    lengths = SequenceLengths.build(torch.tensor([6, 4, 1]), 6, x.device)  # sorted, as the layer
    for padding in (None, lengths):
        outputs, final = PATHS[path](x, state, padding, cell=cell, reverse=reverse)
        expected, expected_final = run_autograd(x, state, padding, cell=cell, reverse=reverse)
        assert_close(outputs, expected, 1e-12)
        assert_close(tuple(final), tuple(expected_final), 1e-12)

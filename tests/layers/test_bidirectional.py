"""Bidirectional: forward pass + length-aware reversed pass, concatenated as torch.nn does."""

from __future__ import annotations

import pytest
import torch
from layer_helpers import assert_close

from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import Bidirectional, Recurrent, flip_sequences


@pytest.mark.parametrize("make_cell", [lambda: ElmanCell(3, 4), lambda: LSTMCell(3, 4)])
def test_reversed_half_equals_running_the_flipped_sequences(
    float64: torch.dtype, make_cell
) -> None:
    forward_cell, backward_cell = make_cell(), make_cell()
    layer = Bidirectional(forward_cell, backward_cell)
    x = torch.randn(3, 6, 3)  # (B, T, F)
    lengths = torch.tensor([6, 2, 4])
    outputs, (forward_state, backward_state) = layer(x, lengths=lengths)
    expected_forward, expected_forward_state = Recurrent(forward_cell)(x, lengths=lengths)
    flipped, expected_backward_state = Recurrent(backward_cell)(
        flip_sequences(x, lengths), lengths=lengths
    )
    assert outputs.shape == (3, 6, 8)  # (B, T, 2H)
    assert_close(outputs[..., :4], expected_forward, 1e-12)
    assert_close(outputs[..., 4:], flip_sequences(flipped, lengths), 1e-12)
    assert_close(tuple(forward_state), tuple(expected_forward_state), 1e-12)
    assert_close(tuple(backward_state), tuple(expected_backward_state), 1e-12)


def test_matches_torch_bidirectional_gru(float64: torch.dtype) -> None:
    reference = torch.nn.GRU(3, 4, bidirectional=True, batch_first=True)
    cells = GRUCell(3, 4), GRUCell(3, 4)
    for cell, suffix in zip(cells, ("_l0", "_l0_reverse"), strict=True):
        weights = reference.state_dict().items()
        cell.load_state_dict({k.removesuffix(suffix): v for k, v in weights if k.endswith(suffix)})
    x = torch.randn(2, 5, 3)
    outputs, states = Bidirectional(*cells)(x)
    expected, expected_state = reference(x)
    assert_close(outputs, expected, 1e-12)
    assert_close(torch.stack([s.hidden for s in states]), expected_state, 1e-12)


def test_gradcheck_with_lengths(float64: torch.dtype) -> None:
    layer = Bidirectional(LSTMCell(2, 3), LSTMCell(2, 3))
    x = torch.randn(2, 4, 2, requires_grad=True)
    lengths = torch.tensor([1, 4])
    assert torch.autograd.gradcheck(lambda x: layer(x, lengths=lengths)[0], (x,))


def test_mismatched_cells_and_bad_state() -> None:
    with pytest.raises(ConfigError, match="same input size"):
        Bidirectional(GRUCell(3, 4), GRUCell(3, 5))
    layer = Bidirectional(GRUCell(3, 4), GRUCell(3, 4))
    with pytest.raises(ShapeError, match="pair"):
        layer(torch.randn(2, 5, 3), torch.zeros(2, 4))
    with pytest.raises(ShapeError, match=r"\(B, T, F\).*got \(2, 5, 2\)"):
        layer(torch.randn(2, 5, 2))

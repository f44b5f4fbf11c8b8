"""Stacked: layers on top of each other, dropout between them, states (L·D, B, H) as torch."""

from __future__ import annotations

import pytest
import torch
from layer_helpers import assert_close

from rnnkit.cells import LSTMCell, LSTMState
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import Bidirectional, Recurrent, Stacked


def _torch_lstm_cells(reference: torch.nn.LSTM) -> list[Bidirectional]:
    """Bidirectional layers holding copies of a torch.nn.LSTM's weights."""
    layers = []
    for layer in range(reference.num_layers):
        cells = []
        for suffix in ("", "_reverse"):
            cell = LSTMCell(reference.input_size if layer == 0 else 2 * reference.hidden_size,
                            reference.hidden_size)  # fmt: skip
            key = f"_l{layer}{suffix}"
            cell.load_state_dict({k.removesuffix(key): v for k, v in
                                  reference.state_dict().items() if k.endswith(key)})  # fmt: skip
            cells.append(cell)
        layers.append(Bidirectional(*cells, batch_first=False))
    return layers


def test_state_layout_matches_torch(float64: torch.dtype) -> None:
    reference = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    stack = Stacked(_torch_lstm_cells(reference), batch_first=False)
    x = torch.randn(5, 2, 3)  # (T, B, F)
    initial = (torch.randn(4, 2, 4), torch.randn(4, 2, 4))  # (L·D, B, H)
    outputs, state = stack(x, LSTMState(*initial))
    expected, (hidden, cell) = reference(x, initial)
    assert_close(outputs, expected, 1e-12)
    assert_close(state.hidden, hidden, 1e-12)
    assert_close(state.cell, cell, 1e-12)


def test_equals_running_the_layers_by_hand_with_lengths(float64: torch.dtype) -> None:
    bottom, top = Recurrent(LSTMCell(3, 4)), Recurrent(LSTMCell(4, 4))
    x = torch.randn(2, 6, 3)
    lengths = torch.tensor([3, 6])
    outputs, state = Stacked([bottom, top])(x, lengths=lengths)
    middle, first = bottom(x, lengths=lengths)
    expected, second = top(middle, lengths=lengths)
    assert_close(outputs, expected, 1e-12)
    assert_close(state.hidden, torch.stack([first.hidden, second.hidden]), 1e-12)


def test_dropout_between_layers_only() -> None:
    bottom, top = Recurrent(LSTMCell(3, 4)), Recurrent(LSTMCell(4, 4))
    stack = Stacked([bottom, top], dropout=1.0)  # every input of the top layer is zeroed
    x = torch.randn(2, 5, 3)
    outputs, state = stack(x)
    expected, _ = top(torch.zeros(2, 5, 4))
    assert_close(outputs, expected, 1e-6)
    assert_close(state.hidden[0], bottom(x)[1].hidden, 1e-6)  # the first layer sees x itself
    stack.eval()
    assert_close(stack(x)[0], top(bottom(x)[0])[0], 1e-6)


def test_bad_configuration_and_state() -> None:
    with pytest.raises(ConfigError, match="must read 4 features"):
        Stacked([Recurrent(LSTMCell(3, 4)), Recurrent(LSTMCell(3, 4))])
    with pytest.raises(ConfigError, match="direction"):
        Stacked([Recurrent(LSTMCell(3, 4)), Bidirectional(LSTMCell(4, 4), LSTMCell(4, 4))])
    with pytest.raises(ConfigError, match="dropout"):
        Stacked([Recurrent(LSTMCell(3, 4))], dropout=2.0)
    stack = Stacked([Recurrent(LSTMCell(3, 4))])
    with pytest.raises(ShapeError, match=r"state.cell.*\(1, 2, 4\).*got \(1, 2, 5\)"):
        stack(torch.randn(2, 5, 3), LSTMState(torch.zeros(1, 2, 4), torch.zeros(1, 2, 5)))

"""Layer states: detaching for truncated BPTT, resetting rows, the (L·D, B, H) layout."""

from __future__ import annotations

import pytest
import torch

from rnnkit.cells import LSTMState, RNNState
from rnnkit.layers.state import detach_state, reset_rows, split_layer_state, stack_layer_states


def test_detach_state_keeps_structure_and_values() -> None:
    hidden = torch.randn(2, 3, requires_grad=True) * 2
    state = {"lstm": LSTMState(hidden, hidden + 1), "gru": [hidden], "none": None}
    detached = detach_state(state)
    assert isinstance(detached["lstm"], LSTMState)
    assert isinstance(detached["gru"], list)
    assert detached["none"] is None
    assert not detached["lstm"].cell.requires_grad
    assert torch.equal(detached["lstm"].cell, hidden + 1)
    with pytest.raises(TypeError, match="detach_state"):
        detach_state(3)


def test_reset_rows_zeroes_only_restarting_streams() -> None:
    state = (torch.ones(2, 3, 4), torch.ones(2, 3, 4) * 2)  # (L·D, B, H)
    reset = reset_rows(state, torch.tensor([True, False, True]))
    assert reset[1][:, 1].abs().sum() == 0
    assert torch.equal(reset[1][:, 0], state[1][:, 0])


def test_split_and_stack_follow_torch_layout() -> None:
    rows = torch.arange(4.0)[:, None, None].expand(4, 2, 3)  # row k = layer·D + direction
    cells = split_layer_state(RNNState(rows), num_layers=2, num_directions=2)
    assert cells[1][0].hidden[0, 0].item() == 2.0  # layer 1, forward
    assert cells[1][1].hidden[0, 0].item() == 3.0  # layer 1, reversed
    assert torch.equal(stack_layer_states(cells).hidden, rows)

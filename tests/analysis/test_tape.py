"""The step tape: it sees every step, changes no number, and restores the model afterwards."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

import rnnkit.analysis.tape
from rnnkit.analysis.tape import record_steps
from rnnkit.cells import ElmanCell, GRUCell
from rnnkit.errors import ConfigError
from rnnkit.layers import LSTM, Bidirectional, Recurrent, Stacked


def test_dropin_outputs_unchanged_and_paths_restored(float64: torch.dtype) -> None:
    layer = LSTM(3, 4, num_layers=2, bidirectional=True)
    x = torch.randn(6, 2, 3)
    expected, _ = layer(x)  # the fused hand-derived path
    with record_steps(layer) as tape:
        recorded, _ = layer(x)
    torch.testing.assert_close(recorded, expected)
    assert [len(steps.states) for steps in tape] == [6, 6, 6, 6]
    assert [steps.reverse for steps in tape] == [False, True, False, True]
    assert layer.path == "lstm"
    assert all("step" not in cell.__dict__ for cell in layer.cells)


def test_backward_direction_hiddens_in_time_order(float64: torch.dtype) -> None:
    forward_cell, backward_cell = ElmanCell(3, 4), GRUCell(3, 4)
    model = Stacked([Bidirectional(forward_cell, backward_cell)], batch_first=False)
    x = torch.randn(5, 2, 3)
    with record_steps(model) as tape:
        outputs, _ = model(x)  # (T, B, 2H)
    backward = torch.stack(tape[1].hiddens_in_time_order())  # (T, B, H)
    torch.testing.assert_close(backward, outputs[..., 4:])
    assert tape[0].cell is forward_cell
    assert tape[1].cell is backward_cell


def test_previous_state_chains(float64: torch.dtype) -> None:
    layer = Recurrent(ElmanCell(3, 4), batch_first=False)
    with record_steps(layer) as tape:
        layer(torch.randn(4, 2, 3))
    steps = tape[0]
    for t in range(1, 4):
        assert steps.previous[t].hidden is steps.states[t - 1].hidden


def test_no_cell_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no rnnkit cell"), record_steps(torch.nn.Linear(2, 2)):
        pass


def test_tape_uses_no_private_member() -> None:
    """The tape works through the layers' public surface (Recurrent.cell, .reverse, .bptt)."""
    source = Path(rnnkit.analysis.tape.__file__).read_text(encoding="utf-8")
    private = [
        node.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    ]
    assert private == []


def test_the_tape_sees_the_loops_inside_a_model(float64: torch.dtype) -> None:
    """A drop-in nested in a model: its loops run the cell's step under the tape, then go back."""
    model = torch.nn.Sequential(LSTM(3, 4, num_layers=2, bidirectional=True))
    loops = [m for m in model.modules() if isinstance(m, Recurrent)]
    assert [loop.path for loop in loops] == ["lstm"] * 4
    with record_steps(model) as tape:
        assert [loop.path for loop in loops] == ["autograd"] * 4
        model(torch.randn(5, 2, 3))
    assert [len(steps.states) for steps in tape] == [5, 5, 5, 5]
    assert [loop.path for loop in loops] == ["lstm"] * 4

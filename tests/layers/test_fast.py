"""The table of fast sequence functions: each row gives the cell's numbers; Recurrent chooses."""

from __future__ import annotations

import pytest
import torch
from layer_helpers import assert_close

from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.errors import ConfigError
from rnnkit.layers import Recurrent
from rnnkit.layers.fast import TABLE, configuration, lookup
from rnnkit.layers.lengths import SequenceLengths
from rnnkit.layers.recurrent import run_cell

CELLS = {
    "elman": lambda: ElmanCell(3, 4, nonlinearity="relu"),
    "lstm": lambda: LSTMCell(3, 4),
    "gru": lambda: GRUCell(3, 4),
}


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize(
    "lengths", [None, [6, 4, 1], [2, 6, 1]], ids=["full", "sorted", "unsorted"]
)
def test_row_equals_the_cell_step(
    float64: torch.dtype, name: str, reverse: bool, lengths: list[int] | None
) -> None:
    """Unsorted lengths too: the LSTM row puts the batch in order and back by itself."""
    cell = CELLS[name]()
    row = lookup(cell)
    assert row is not None
    assert row.name == name
    x = torch.randn(6, 3, 3)  # (T, B, F)
    state = cell.state_type(*(torch.randn(3, 4) for _ in cell.state_type._fields))
    padding = SequenceLengths.checked(lengths, batch_size=3, steps=6, device=x.device)
    outputs, final = row.run(cell, x, state, padding, reverse)
    expected, expected_final = run_cell(cell, x, state, padding, reverse=reverse)
    assert_close(outputs, expected, 1e-12)
    assert_close(tuple(final), tuple(expected_final), 1e-12)


def test_the_table_has_one_row_per_configuration() -> None:
    rows = {key: row.name for key, row in TABLE.items()}
    assert rows == {
        (ElmanCell, "tanh"): "elman",
        (ElmanCell, "relu"): "elman",
        (ElmanCell, "identity"): "elman",
        (LSTMCell, "torch"): "lstm",
        (LSTMCell, "layer_norm"): "lstm_ln",
        (GRUCell, "reset_after"): "gru",
    }
    variants = [
        LSTMCell(3, 4, peephole=True),
        LSTMCell(3, 4, coupled_gates=True),
        LSTMCell(3, 4, proj_size=2),
        LSTMCell(3, 4, activation="relu"),
        GRUCell(3, 4, reset_after=False),
    ]
    assert [lookup(cell) for cell in variants] == [None] * len(variants)
    assert configuration(GRUCell(3, 4, reset_after=False)) == (GRUCell, "reset_before")


class _MyCell(ElmanCell):
    """A subclass may change the step, so it never takes ElmanCell's row."""


def test_subclasses_of_a_cell_take_their_own_step() -> None:
    assert lookup(_MyCell(3, 4)) is None
    assert Recurrent(_MyCell(3, 4)).path == "autograd"


def _grad_fn_name(cell: LSTMCell, steps: int, bptt: str = "auto") -> str:
    layer = Recurrent(cell, batch_first=False, bptt=bptt)  # type: ignore[arg-type]
    outputs, _ = layer(torch.randn(steps, 2, 3, requires_grad=True))  # x (T, B, F)
    return type(outputs.grad_fn).__name__


def test_recurrent_chooses_the_row_or_the_step() -> None:
    """Recurrent is the one place of the choice: the row for T ≥ 2, the step for T = 1."""
    assert Recurrent(LSTMCell(3, 4)).path == "lstm"
    assert Recurrent(LSTMCell(3, 4), bptt="autograd").path == "autograd"
    assert Recurrent(LSTMCell(3, 4, peephole=True)).path == "autograd"
    assert "FusedLSTM" in _grad_fn_name(LSTMCell(3, 4), 5)
    assert "FusedLSTM" not in _grad_fn_name(LSTMCell(3, 4), 1)  # streaming: the cell's step
    assert "FusedLSTM" in _grad_fn_name(LSTMCell(3, 4), 1, bptt="hand")
    assert "FusedLSTM" not in _grad_fn_name(LSTMCell(3, 4), 5, bptt="autograd")
    assert [row.min_steps for row in (lookup(ElmanCell(3, 4)), lookup(GRUCell(3, 4)))] == [2, 1]


def test_bptt_hand_needs_a_hand_derived_row() -> None:
    with pytest.raises(ConfigError, match=r"bptt='hand'.*got GRUCell"):
        Recurrent(GRUCell(3, 4), bptt="hand")
    with pytest.raises(ConfigError, match="bptt='hand'"):
        Recurrent(LSTMCell(3, 4, proj_size=2), bptt="hand")
    with pytest.raises(ConfigError, match="expected one of"):
        Recurrent(GRUCell(3, 4), bptt="fast")  # type: ignore[arg-type]

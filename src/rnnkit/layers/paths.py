"""The per-direction paths of the drop-in layers: cell step, hand-derived BPTT, lean GRU loop.

References:
    https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html (what each path reproduces)

Each path runs one layer in one direction over a time-major sequence and has the signature of
`rnnkit.layers.stacked.Runner`: (x (T, B, F), state, lengths) -> (outputs (T, B, H), state).
The layer chooses one per configuration (`rnnkit.layers.dropin`); all give the same numbers
(tests/layers/test_dropin.py).
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from rnnkit.cells.base import LSTMState, RecurrentCell, RNNState, State
from rnnkit.layers.elman_bptt import elman_sequence
from rnnkit.layers.fast_gru import gru_sequence
from rnnkit.layers.fused_lstm import lstm_sequence
from rnnkit.layers.lengths import SequenceLengths, flip_sequences, last_valid
from rnnkit.layers.recurrent import run_cell


def run_autograd(
    x: Tensor, state: State, lengths: SequenceLengths | None, *, cell: RecurrentCell, reverse: bool
) -> tuple[Tensor, State]:
    """The cell's own step in a time loop, differentiated by autograd."""
    return run_cell(cell, x, state, lengths, reverse=reverse)


def run_fused_lstm(
    x: Tensor, state: State, lengths: SequenceLengths | None, *, cell: Any, reverse: bool
) -> tuple[Tensor, State]:
    """A standard LSTM direction with the hand-derived backward (lengths sorted longest first)."""
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    sorted_lengths = None if lengths is None else lengths.lengths
    outputs, hidden, memory = lstm_sequence(
        x, (state.hidden, state.cell), weights, lengths=sorted_lengths, reverse=reverse
    )
    return outputs, LSTMState(hidden, memory)


def run_fast_gru(
    x: Tensor, state: State, lengths: SequenceLengths | None, *, cell: Any, reverse: bool
) -> tuple[Tensor, State]:
    """A reset-after GRU direction in the lean autograd loop of `fast_gru`."""
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    outputs, hidden = gru_sequence(x, state.hidden, weights, lengths, reverse=reverse)
    return outputs, RNNState(hidden)


def run_elman(
    x: Tensor, state: State, lengths: SequenceLengths | None, *, cell: Any, reverse: bool
) -> tuple[Tensor, State]:
    """An Elman direction with the hand-derived BPTT; reversed by flipping each sequence."""
    real = None if lengths is None else lengths.lengths
    if reverse:
        x = flip_sequences(x, real, time_dim=0)
    outputs = elman_sequence(
        x, state.hidden, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh,
        cell.nonlinearity, real,
    )  # fmt: skip
    final = last_valid(outputs, real, time_dim=0)  # h at each sequence's last step
    if reverse:
        outputs = flip_sequences(outputs, real, time_dim=0)
    return outputs, RNNState(final)


PATHS = {
    "autograd": run_autograd,
    "lstm": run_fused_lstm,
    "elman": run_elman,
    "gru": run_fast_gru,
}
"""Path name -> runner; the names are the values of `RecurrentLayer.path`."""

__all__ = ["PATHS", "run_autograd", "run_elman", "run_fast_gru", "run_fused_lstm"]

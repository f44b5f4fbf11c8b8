"""The fast implementations of a recurrent layer's time loop, behind one table.

References:
    https://pytorch.org/docs/stable/notes/extending.html (custom autograd Functions)
    bench/README.md (the measurements behind each row and behind `min_steps`)

`Recurrent` (`rnnkit.layers.recurrent`) runs a cell over a sequence either with the cell's own
step in a Python loop (autograd differentiates it) or with a sequence function from `TABLE`,
looked up by the cell's configuration:

    (ElmanCell, "tanh" | "relu" | "identity")  elman  hand-derived BPTT (`elman_bptt`)
    (LSTMCell, "torch")                          lstm   hand-derived BPTT (`fused_lstm`)
    (LSTMCell, "layer_norm")                     lstm_ln hand-derived BPTT (`layer_norm_lstm`)
    (GRUCell, "reset_after")                     gru    a lean autograd loop (`fast_gru`)

Every other configuration (a peephole or coupled LSTM, a projection, other activations, a
reset-before GRU, any other cell class, and a cell whose regularisers change its step:
layer_norm except in the lstm_ln row, an LSTM with layer_norm and zoneout, and for Elman and
GRU zoneout and recurrent_dropout in training) has no row and runs the cell's step. The LSTM
row runs recurrent_dropout and zoneout itself (`fused_lstm`, on the CPU; the Triton kernel does
not, so on CUDA such a cell takes the row's CPU-style function). The lstm_ln row is a
torch-like LSTMCell with layer_norm=True and no zoneout; it runs recurrent_dropout itself, has
no Triton kernel (its function runs on every device) and sends autocast to the cell's step.
Weight drop keeps every row. A row is given `MaskedCell`, the cell with this forward pass's
masks (`rnnkit.cells.regularisers.SequenceMasks`) and W̃_hh in place of W_hh, and so are its
second-derivative replays. A row applies for
T ≥ its `min_steps`, the one-step rule: for the two hand-derived rows a single step (streaming)
takes the cell's step, which is faster there than the fixed cost of a custom autograd Function;
the GRU row is a plain autograd loop and runs every T, a single step as its `once` (the loop's
step without the loop); the Elman row's `once` is the cell's step with each parameter read once
(nn.Module's attribute lookup costs about a microsecond a name). A one-layer drop-in layer
called with T = 1 goes straight to that step (`Recurrent.one_step`), past the stacking of the
general path (`python -m bench.cells --quick`, the "stream" rows, compares both against
torch.nn).

The CPU loops avoid torch.tanh, several times slower than σ per element on CPU, by
tanh(a) = 2σ(2a) − 1 = 1 − 2σ(−2a) (the LSTM's c̃ and tanh(c_t), Elman's φ = tanh, the GRU's
n_t when no gradient is taken), take every per-step view before the loop, and pass constants
as 0-dim tensors (a Python number is converted to a tensor on every call).

On CUDA (or on the CPU under TRITON_INTERPRET=1, Triton's interpreter), a row's `kernel`, the
persistent Triton kernel of `triton_elman`, `triton_lstm` or `triton_gru`, runs instead of its
CPU sequence function, for H ≤ `triton_common.MAX_HIDDEN` (64) with autocast off and triton
installed; every other case runs the row's function (`FastSequence.for_input`). The kernels are
imported at their first use only.

Each sequence function has one signature, (cell, x (T, B, F), state, lengths, reverse) ->
(outputs (T, B, H), final state), gives the numbers of the cell's step
(tests/layers/test_fast.py), and reorders the batch itself when it needs it sorted.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch.nn.functional as F
from torch import Tensor

from rnnkit.cells.base import LSTMState, RNNState, State
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.regularisers import SequenceMasks
from rnnkit.cells.rnn import ElmanCell
from rnnkit.layers.autocast import autocast_dtype
from rnnkit.layers.fast.elman_bptt import elman_once, elman_sequence
from rnnkit.layers.fast.fast_gru import gru_sequence, gru_step
from rnnkit.layers.fast.fused_lstm import lstm_sequence
from rnnkit.layers.fast.layer_norm_lstm import ln_lstm_sequence
from rnnkit.layers.lengths import SequenceLengths, flip_sequences, last_valid

SequenceFunction = Callable[
    [Any, Tensor, State, SequenceLengths | None, bool], tuple[Tensor, State]
]
"""(cell, x (T, B, F), state, lengths, reverse) -> (outputs (T, B, H), final state)."""


def _weights(cell: Any) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
    return cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh


def elman(
    cell: Any, x: Tensor, state: State, lengths: SequenceLengths | None, reverse: bool
) -> tuple[Tensor, State]:
    """An Elman direction with the hand-derived BPTT; reversed by flipping each sequence."""
    real = None if lengths is None else lengths.lengths
    if reverse:
        x = flip_sequences(x, real, time_dim=0)

    def replay(x: Tensor, hidden0: Tensor, *_: Any) -> Tensor:  # second derivatives
        from rnnkit.layers.recurrent import run_cell  # recurrent imports this module

        return run_cell(cell, x, RNNState(hidden0), lengths)[0]

    outputs = elman_sequence(
        x, state.hidden, *_weights(cell), cell.nonlinearity, real, replay=replay
    )
    final = last_valid(outputs, real, time_dim=0)  # h at each sequence's last step
    if reverse:
        outputs = flip_sequences(outputs, real, time_dim=0)
    return outputs, RNNState(final)


LSTMSequence = Callable[
    [Tensor, tuple[Tensor, Tensor], Tensor | None, Callable[..., Any], Any],
    tuple[Tensor, Tensor, Tensor],
]
"""(x, (h_0, c_0), lengths, replay, (m, d^h, d^c)) -> (outputs, h_n, c_n) on a sorted batch."""


def _sorted_lstm(
    cell: Any,
    x: Tensor,
    state: State,
    lengths: SequenceLengths | None,
    reverse: bool,
    sequence: LSTMSequence,
) -> tuple[Tensor, State]:
    """Run an LSTM `sequence` function on the batch sorted longest first, with the cell's
    step as the replay of its second derivatives, and give the results in the caller's order.

    The hand-derived LSTM loops need the sequences longest first: the batch is put in that
    order (`SequenceLengths.sorting`, computed once per call) and the results put back.
    """
    from rnnkit.layers.recurrent import run_cell  # recurrent imports this module

    sorting = None if lengths is None else lengths.sorting
    hidden0, cell0 = state.hidden, state.cell
    real = None if lengths is None else lengths.lengths
    if sorting is not None:
        real, order, _ = sorting
        order = order.to(x.device)
        x = x.index_select(1, order)  # (T, B, F), longest first
        hidden0, cell0 = hidden0.index_select(0, order), cell0.index_select(0, order)

    masks, regularisers = _lstm_masks(cell, x, sorting)

    def replay(x: Tensor, hidden0: Tensor, cell0: Tensor, *_: Any) -> tuple[Tensor, ...]:
        padding = None if real is None else SequenceLengths.build(real, len(x), x.device)
        initial = LSTMState(hidden0, cell0)
        outputs, final = run_cell(cell, x, initial, padding, reverse=reverse, masks=masks)
        return outputs, final.hidden, final.cell  # second derivatives, on the sorted batch

    outputs, hidden, memory = sequence(x, (hidden0, cell0), real, replay, regularisers)
    if sorting is not None:
        inverse = sorting[2].to(x.device)
        outputs = outputs.index_select(1, inverse)  # (T, B, H), the caller's order
        hidden, memory = hidden.index_select(0, inverse), memory.index_select(0, inverse)
    return outputs, LSTMState(hidden, memory)


def lstm(
    cell: Any, x: Tensor, state: State, lengths: SequenceLengths | None, reverse: bool
) -> tuple[Tensor, State]:
    """A standard LSTM direction with the hand-derived backward of `fused_lstm`."""

    def sequence(x: Tensor, state0: Any, real: Any, replay: Any, regularisers: Any) -> Any:
        return lstm_sequence(x, state0, _weights(cell), lengths=real, reverse=reverse,
                             replay=replay, regularisers=regularisers)  # fmt: skip

    return _sorted_lstm(cell, x, state, lengths, reverse, sequence)


def lstm_ln(
    cell: Any, x: Tensor, state: State, lengths: SequenceLengths | None, reverse: bool
) -> tuple[Tensor, State]:
    """A layer-normalised LSTM direction with the hand-derived backward of `layer_norm_lstm`.

    Under autocast the cell's step runs instead (the normalisations run in float32 there,
    which the one-dtype loop does not reproduce). Zoneout is off in this row.
    """
    from rnnkit.layers.recurrent import run_cell  # recurrent imports this module

    if autocast_dtype(x.device.type) is not None:
        masks = getattr(cell, "sequence_masks", None)
        return run_cell(cell, x, state, lengths, reverse=reverse, masks=masks)
    norms = (cell.gain_ih, cell.gain_hh, cell.gain_cell, cell.bias_cell)

    def sequence(x: Tensor, state0: Any, real: Any, replay: Any, regularisers: Any) -> Any:
        mask = None if regularisers is None else regularisers[0]  # m; d^h, d^c are off
        return ln_lstm_sequence(x, state0, _weights(cell), norms, lengths=real, reverse=reverse,
                                replay=replay, mask=mask)  # fmt: skip

    return _sorted_lstm(cell, x, state, lengths, reverse, sequence)


def _lstm_masks(
    cell: Any, x: Tensor, sorting: Any
) -> tuple[SequenceMasks | None, tuple[Tensor | None, ...] | None]:
    """The pass's masks in the sorted batch order, and (m, d^h, d^c) for `lstm_sequence`.

    In eval mode (no masks) zoneout runs with its expectation, d^h = p_h and d^c = p_c.
    """
    masks: SequenceMasks | None = getattr(cell, "sequence_masks", None)
    p_h, p_c = getattr(cell, "zoneout_pair", (0.0, 0.0))
    if masks is not None and sorting is not None:
        order = sorting[1].to(x.device)
        masks = SequenceMasks(
            None if masks.recurrent is None else masks.recurrent.index_select(0, order),
            None if masks.zoneout_hidden is None else masks.zoneout_hidden.index_select(1, order),
            None if masks.zoneout_cell is None else masks.zoneout_cell.index_select(1, order),
            masks.weight_hh,
        )
    T, B, H = x.shape[0], x.shape[1], cell.hidden_size

    def expectation(p: float) -> Tensor | None:
        return None if p == 0.0 else x.new_full((1, 1, 1), p).expand(T, B, H)  # d = p

    if masks is None:
        regularisers = (None, expectation(p_h), expectation(p_c))
    else:
        regularisers = (masks.recurrent, masks.zoneout_hidden, masks.zoneout_cell)
    return masks, (None if regularisers == (None, None, None) else regularisers)


def gru(
    cell: Any, x: Tensor, state: State, lengths: SequenceLengths | None, reverse: bool
) -> tuple[Tensor, State]:
    """A reset-after GRU direction in the lean autograd loop of `fast_gru`."""
    outputs, hidden = gru_sequence(x, state.hidden, _weights(cell), lengths, reverse=reverse)
    return outputs, RNNState(hidden)


def gru_once(cell: Any, x: Tensor, state: State) -> State:
    """One reset-after GRU step from x (B, F): the step of `gru`'s loop, without the loop."""
    H, weights = cell.hidden_size, cell._parameters  # nn.Module's lookup costs ~1 µs a name
    projected = F.linear(x, weights["weight_ih"], weights["bias_ih"])  # W_ih x_t + b_ih
    gates_in, new_in = projected.split_with_sizes([2 * H, H], -1)
    hidden = gru_step(gates_in, new_in, state.hidden, weights["weight_hh"], weights["bias_hh"])
    return RNNState(hidden)


@dataclass(frozen=True)
class FastSequence:
    """One row of the table: a sequence function and when it applies."""

    name: str  # what `Recurrent.path` reports
    run: SequenceFunction
    hand_derived: bool  # its backward is written by hand (bptt="hand" may ask for it)
    min_steps: int = 2  # below this T the cell's own step is faster (streaming)
    kernel: str | None = None  # "module:function" in this package: the Triton kernel's
    once: Callable[[Any, Tensor, State], State] | None = None  # (cell, x_t (B, F), state)
    """A single step (T = 1, streaming), the numbers of what `run` does for T = 1 (the row's
    loop for min_steps = 1, else the cell's step) in fewer calls; None: the cell's step."""

    def for_input(self, cell: Any, x: Tensor) -> SequenceFunction:
        """The row's Triton kernel where it applies to x (module docstring), else `run`."""
        maybe = x.device.type == "cuda" or "TRITON_INTERPRET" in os.environ  # before any import
        if self.kernel is None or not maybe or autocast_dtype(x.device.type) is not None:
            return self.run
        if getattr(cell, "changes_step", False):  # the LSTM row's zoneout, recurrent dropout
            return self.run
        from rnnkit.layers.fast import triton_common  # imports triton where installed

        on_device = x.device.type == "cuda" or triton_common.interpreting()
        fits = cell.hidden_size <= triton_common.MAX_HIDDEN
        if not (on_device and fits and triton_common.triton_available()):
            return self.run
        module, function = self.kernel.split(":")
        return getattr(importlib.import_module(f"{__name__}.{module}"), function)


ELMAN = FastSequence(
    "elman", elman, hand_derived=True, kernel="triton_elman:elman_triton", once=elman_once
)
TABLE: dict[tuple[type, str], FastSequence] = {
    (ElmanCell, "tanh"): ELMAN,
    (ElmanCell, "relu"): ELMAN,
    (ElmanCell, "identity"): ELMAN,
    (LSTMCell, "torch"): FastSequence("lstm", lstm, True, kernel="triton_lstm:lstm_triton"),
    (LSTMCell, "layer_norm"): FastSequence("lstm_ln", lstm_ln, hand_derived=True),
    (GRUCell, "reset_after"): FastSequence(
        "gru", gru, hand_derived=False, min_steps=1, kernel="triton_gru:gru_triton", once=gru_once
    ),
}
"""{cell configuration -> sequence function}; the only place a fast path is chosen from."""


def configuration(cell: Any) -> tuple[type, str]:
    """The key of `cell` in `TABLE`: its exact class and the variant that decides the row.

    Example:
        >>> configuration(LSTMCell(3, 4)), configuration(LSTMCell(3, 4, peephole=True))
        ((<class 'rnnkit.cells.lstm.LSTMCell'>, 'torch'), (<class 'rnnkit.cells.lstm.LSTMCell'>, 'variant'))
    """  # noqa: E501
    kind = type(cell)
    if kind is LSTMCell and cell.layer_norm:  # the lstm_ln row runs m itself, not d_t
        normalised = cell.is_torch_like and cell.zoneout_pair == (0.0, 0.0)
        return kind, "layer_norm" if normalised else "regularised"
    fused = kind is LSTMCell  # the LSTM row runs m and d_t itself
    if getattr(cell, "changes_step", False) and not fused:  # layer_norm, zoneout, dropout of h
        # (of an Elman or GRU cell, or any other class: the LSTM's are decided above)
        return kind, "regularised"
    if kind is ElmanCell:
        return kind, cell.nonlinearity
    if kind is LSTMCell:
        return kind, "torch" if cell.is_torch_like else "variant"
    if kind is GRUCell:
        return kind, "reset_after" if cell.reset_after else "reset_before"
    return kind, ""


class MaskedCell:
    """A cell with the masks of one forward pass: what a row reads under the regularisers.

    `weight_hh` is W̃_hh under weight drop (else the cell's), `sequence_masks` the pass's
    masks (the LSTM row reads m and d_t there); every other attribute is the cell's. `step`
    runs the cell's step with W̃_hh, or with the masks it is given (the replays of the
    hand-derived backwards call it), so a row and its replay see the same numbers.
    """

    def __init__(self, cell: Any, masks: SequenceMasks) -> None:
        self._cell = cell
        self.sequence_masks = masks
        weight_hh = masks.weight_hh
        self.weight_hh = cell.weight_hh if weight_hh is None else weight_hh  # W̃_hh
        self._weights_only = SequenceMasks(weight_hh=weight_hh)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cell, name)

    def step(self, input_projection: Tensor, state: State, masks: Any = None) -> State:
        """The cell's step with W̃_hh (and the given masks of step t)."""
        masks = self._weights_only if masks is None else masks
        return self._cell.step(input_projection, state, masks)


def lookup(cell: Any) -> FastSequence | None:
    """The row for `cell`, or None when only its own step runs it."""
    return TABLE.get(configuration(cell))


__all__ = [
    "TABLE",
    "FastSequence",
    "MaskedCell",
    "SequenceFunction",
    "configuration",
    "elman",
    "gru",
    "gru_once",
    "lookup",
    "lstm",
    "lstm_ln",
]

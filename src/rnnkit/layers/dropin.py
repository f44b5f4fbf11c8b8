"""RecurrentLayer: the machinery behind rnnkit.RNN / LSTM / GRU, drop-in for torch.nn's layers.

References:
    https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html (arguments, shapes, state layout)

A layer owns one cell per (layer, direction) for the equations and registers the cells'
parameters on itself under torch.nn's names (`rnnkit.layers.torch_interop`), so its state_dict
is torch's. The cells hold the same tensors as plain attributes, re-read at every call. Each
direction runs on one of three paths, chosen by `bptt`:

    "autograd"  the cell's own step in a Python time loop (`run_cell`); autograd differentiates it
    "hand"      a hand-derived backward: `elman_bptt.elman_sequence` (RNN) or
                `fused_lstm.lstm_sequence` (LSTM with torch's options)
    "auto"      the fastest path for the configuration: "hand" where it exists; for a reset-after
                GRU the lean autograd loop of `fast_gru`; else the cell's step as "autograd".
                A single time step (streaming) always takes the cell's step, which measured
                faster there than the fixed cost of a custom autograd Function (bench/README.md).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnkit.cells.base import LSTMState, RecurrentCell, RNNState, State, check_choice
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import checks, torch_interop
from rnnkit.layers.lengths import (
    SequenceLengths,
    check_lengths,
    pack_like,
    sort_by_length,
    unpack_sequence,
)
from rnnkit.layers.paths import PATHS
from rnnkit.layers.stacked import Runner, run_stack
from rnnkit.layers.state import split_layer_state, stack_layer_states

Bptt = Literal["auto", "autograd", "hand"]


def _check_layer_arguments(hidden_size: Any, num_layers: Any, dropout: Any, bptt: Any) -> None:
    """torch.nn.RNNBase's argument checks, as ConfigError with expected vs received."""
    for name, value in (("hidden_size", hidden_size), ("num_layers", num_layers)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(
                f"Received an invalid value for argument `{name}`, expected a positive integer, "
                f"got {value!r}."
            )
    if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout <= 1:
        raise ConfigError(
            f"Received an invalid value for argument `dropout`, expected a number in [0, 1] "
            f"(the probability of zeroing an input of layers 2…L), got {dropout!r}."
        )
    check_choice("bptt", bptt, ("auto", "autograd", "hand"))
    if dropout > 0 and num_layers == 1:  # the same warning as torch.nn
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
            f"expects num_layers greater than 1, but got dropout={dropout} and "
            f"num_layers={num_layers}",
            stacklevel=3,
        )


class RecurrentLayer(nn.Module):
    """Shared constructor, checks and forward of rnnkit.RNN / LSTM / GRU (see those classes)."""

    mode: str  # "RNN", "LSTM" or "GRU": the torch.nn class this one replaces

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        *,
        bias: bool,
        batch_first: bool,
        dropout: float,
        bidirectional: bool,
        bptt: Bptt,
        check_finite: bool,
    ) -> None:
        super().__init__()
        _check_layer_arguments(hidden_size, num_layers, dropout, bptt)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.bptt, self.check_finite = bidirectional, bptt, check_finite
        self.num_directions = 2 if bidirectional else 1

    def _build(self, device: torch.device | str | None, dtype: torch.dtype | None) -> None:
        """Choose the path, make the cells and register their parameters under torch's names.

        The public classes call this at the end of their constructor, once their own options
        are set.
        """
        self.path = self._choose_path(self.bptt)
        cells, bindings = [], []
        for layer in range(self.num_layers):
            features = self.input_size if layer == 0 else self.num_directions * self.state_size
            for direction in range(self.num_directions):
                cell = self.make_cell(features, device=device, dtype=dtype)
                names = []
                for base in list(cell._parameters):
                    parameter = cell._parameters.pop(base)
                    name = torch_interop.parameter_name(base, layer, direction == 1)
                    if parameter is not None:
                        self.register_parameter(name, parameter)
                        names.append((base, name))
                    cell.__dict__[base] = parameter  # a plain attribute, re-bound in _bind
                cells.append(cell)
                bindings.append(names)
        self._cells: tuple[RecurrentCell, ...] = tuple(cells)  # not submodules: no second name
        self._bindings = tuple(bindings)

    # -- hooks the three public classes fill in ------------------------------------------------
    @property
    def state_size(self) -> int:
        """H (or P for a projected LSTM): the size of h_t and of each output direction."""
        return self.hidden_size

    def make_cell(self, input_size: int, **factory: Any) -> RecurrentCell:
        """A fresh cell for one layer and direction."""
        raise TypeError(f"{type(self).__name__} must define make_cell")

    def hand_path(self) -> str | None:
        """The hand-derived path for this configuration ("elman", "lstm") or None."""
        return None

    def fast_path(self) -> str | None:
        """A faster autograd path than the cell's step for this configuration ("gru") or None."""
        return None

    def variant_options(self) -> dict[str, Any]:
        """The options set away from torch.nn's behaviour (empty when torch has this layer)."""
        return {}

    def torch_arguments(self) -> dict[str, Any]:
        """The keyword arguments of the equivalent torch.nn constructor (no device/dtype)."""
        return {
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "bias": self.bias,
            "batch_first": self.batch_first,
            "dropout": self.dropout,
            "bidirectional": self.bidirectional,
        }

    # -- conversions ---------------------------------------------------------------------------
    @classmethod
    def from_torch(cls, module: nn.RNNBase) -> Any:
        """A new layer with the configuration and weights of a torch.nn module of this kind."""
        return torch_interop.from_torch(cls, module)

    def to_torch(self) -> nn.RNNBase:
        """A new torch.nn module with this layer's configuration and weights (see torch_interop)."""
        return torch_interop.to_torch(self)

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """The parameters of each layer and direction in torch.nn's order, as torch's attribute."""
        return [[getattr(self, name) for _, name in names] for names in self._bindings]

    def extra_repr(self) -> str:
        """`LSTM(3, 4, num_layers=2, …)`: the arguments that differ from the defaults, as torch."""
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0,
                    "bidirectional": False, "nonlinearity": "tanh", "proj_size": 0}  # fmt: skip
        options = {**self.torch_arguments(), **self.variant_options()}
        for name, value in options.items():
            if (name in defaults and value != defaults[name]) or name in self.variant_options():
                text += f", {name}={value!r}"
        return text + ("" if self.bptt == "auto" else f", bptt={self.bptt!r}")

    def flatten_parameters(self) -> None:
        """Kept for code written for torch.nn; rnnkit has no flattened cuDNN buffer to rebuild."""

    def _choose_path(self, bptt: Bptt) -> str:
        hand = self.hand_path()
        if bptt == "hand" and hand is None:
            raise ConfigError(
                f"{type(self).__name__}: bptt='hand' exists for RNN and for LSTM with torch's "
                f"options; got {self.variant_options() or 'a GRU'}. Use bptt='autograd'."
            )
        if bptt == "autograd":
            return "autograd"
        return hand or (self.fast_path() if bptt == "auto" else None) or "autograd"

    def _bind(self) -> tuple[RecurrentCell, ...]:
        """Point every cell at the layer's current parameters (they may have been replaced)."""
        for cell, names in zip(self._cells, self._bindings, strict=True):
            for base, name in names:
                cell.__dict__[base] = getattr(self, name)
        return self._cells

    def _runners(self, path: str) -> list[list[Runner]]:
        """One runner per layer and direction, for `path`."""
        run = PATHS[path]
        runners: list[list[Runner]] = []
        for index, cell in enumerate(self._bind()):
            reverse = index % self.num_directions == 1
            runner = functools.partial(run, cell=cell, reverse=reverse)
            if reverse:
                runners[-1].append(runner)
            else:
                runners.append([runner])
        return runners

    # -- forward -------------------------------------------------------------------------------
    def forward(
        self,
        input: Tensor | PackedSequence,  # torch.nn's argument name
        hx: Tensor | tuple[Tensor, Tensor] | None = None,
        *,
        lengths: Tensor | None = None,
    ) -> tuple[Tensor | PackedSequence, Tensor | LSTMState]:
        """Run the stack over a sequence, as torch.nn.RNN / LSTM / GRU's forward.

        Shapes:
            input (T, B, F), (B, T, F) with batch_first, (T, F) unbatched, or a PackedSequence;
            hx (L·D, B, H_out) or, for LSTM, a pair with c_0 (L·D, B, H); lengths (B,);
            returns output (T, B, D·H_out) in the input's layout (a PackedSequence for packed
            input) and h_n (L·D, B, H_out), or (h_n, c_n) as an LSTMState for LSTM.

        Args:
            input: the sequence batch.
            hx: the initial state, zeros when None.
            lengths: the real steps of each sequence of a padded batch, in [1, T]; outputs past
                them are zero and h_n is taken at each sequence's own last step.

        Returns:
            (output, h_n) or (output, (h_n, c_n)).

        Raises:
            ShapeError: wrong rank, feature size, dtype or device of `input`; `hx` not of the
                expected shape (the batch of `input`); bad `lengths`; NaN/inf with
                check_finite=True. The message names the argument and the expected shape.
        """
        x, lengths, layout = self._prepare_input(input, lengths)  # x (T, B, F)
        T = x.shape[0]
        # one step (streaming): the cell's own step beats the fixed cost of a custom Function
        path = "autograd" if T == 1 and self.bptt == "auto" else self.path
        initial = self._initial_state(
            hx, x, unbatched=layout[0] == "unbatched", source=_source(x, layout[0])
        )  # (L·D, B, ·)
        padding, inverse = None, None
        if lengths is not None and bool((lengths < T).any()):
            if path == "lstm" and bool((lengths[1:] > lengths[:-1]).any()):
                lengths, x, initial, inverse = _sorted_batch(lengths, x, initial)
            padding = SequenceLengths.build(lengths, T, x.device)
        states = split_layer_state(initial, self.num_layers, self.num_directions)
        outputs, finals = run_stack(
            self._runners(path), x, states, padding, dropout=self.dropout, training=self.training
        )  # (T, B, D·H)
        final = stack_layer_states(finals)  # fields (L·D, B, H)
        if inverse is not None:  # back to the caller's batch order
            outputs = outputs.index_select(1, inverse.to(x.device))
            final = type(final)(*(s.index_select(1, inverse.to(x.device)) for s in final))
        return self._format(outputs, final, layout)

    def _prepare_input(
        self, input: Any, lengths: Any
    ) -> tuple[Tensor, Tensor | None, tuple[str, Any]]:
        """Time-major x (T, B, F), checked lengths, and how to give the outputs back."""
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            if lengths is not None:
                raise ShapeError(
                    f"{name}: pass lengths either inside a PackedSequence or as `lengths`, "
                    f"not both; got both."
                )
            if tuple(input.data.shape[1:]) != (self.input_size,):
                raise ShapeError(
                    f"{name} PackedSequence data must be (N, F) with F = input_size = "
                    f"{self.input_size}; got {tuple(input.data.shape)}. Check input_size."
                )
            x, lengths = unpack_sequence(input)  # (T, B, F), original batch order
            layout: tuple[str, Any] = ("packed", input)
        else:  # checked as passed, so the message shows the caller's layout and shape
            checks.check_sequence(
                input,
                input_size=self.input_size,
                batch_first=self.batch_first,
                layer=name,
                allow_unbatched=True,
            )
            if input.dim() == 2:  # unbatched (T, F), as torch
                if lengths is not None:
                    raise ShapeError(
                        f"{name}: unbatched (T, F) input takes no lengths; got lengths."
                    )
                x, layout = input.unsqueeze(1), ("unbatched", None)
            else:
                x = input.transpose(0, 1) if self.batch_first else input  # (T, B, F)
                layout = ("batch_first" if self.batch_first else "time_major", None)
        checks.check_sequence(x, input_size=self.input_size, batch_first=False, layer=name)
        checks.check_dtype(x, self.weight_ih_l0, argument="input", layer=name)
        if self.check_finite:
            checks.check_finite(x, argument="input", layer=name)
        if lengths is not None:
            lengths = check_lengths(
                lengths, batch_size=x.shape[1], steps=x.shape[0], source=_source(x, layout[0])
            )
        return x, lengths, layout

    def _initial_state(self, hx: Any, x: Tensor, *, unbatched: bool, source: str = "") -> State:
        """h_0 (and c_0) as a state with fields (L·D, B, ·): zeros, or the checked `hx`.

        `source` names the input B was read from (`_source`): hx is (L·D, B, H) whatever
        batch_first is, as in torch, so the message says which axis of the input B is.
        """
        name, B = type(self).__name__, x.shape[1]
        rows = self.num_layers * self.num_directions
        sizes = [self.state_size] + ([self.hidden_size] if self.mode == "LSTM" else [])
        state_type = LSTMState if self.mode == "LSTM" else RNNState
        if hx is None:
            return state_type(*(x.new_zeros(rows, B, size) for size in sizes))
        if self.mode == "LSTM":
            if not isinstance(hx, tuple | list) or len(hx) != 2:
                raise ShapeError(
                    f"{name} `hx` must be a pair (h_0, c_0); got {checks.shape_of(hx)}."
                )
            tensors, names = list(hx), ["hx[0]", "hx[1]"]
        else:
            tensors, names = [hx], ["hx"]
        for tensor, argument, size in zip(tensors, names, sizes, strict=True):
            expected, meaning = (
                ((rows, size), "(L·D, H)") if unbatched else ((rows, B, size), "(L·D, B, H)")
            )
            checks.check_layer_state(
                tensor,
                argument=argument,
                expected=expected,
                layer=name,
                meaning=meaning,
                source=source,
            )
            checks.check_dtype(tensor, x, argument=argument, layer=name)
            if self.check_finite:
                checks.check_finite(tensor, argument=argument, layer=name)
        return state_type(*(t.unsqueeze(1) if unbatched else t for t in tensors))

    def _format(
        self, outputs: Tensor, final: State, layout: tuple[str, Any]
    ) -> tuple[Tensor | PackedSequence, Tensor | LSTMState]:
        """Outputs and h_n (or (h_n, c_n)) in the caller's layout."""
        kind, template = layout
        result: Tensor | PackedSequence = outputs
        if kind == "packed":
            result = pack_like(outputs, template)
        elif kind == "unbatched":
            result = outputs.squeeze(1)  # (T, D·H)
            final = type(final)(*(s.squeeze(1) for s in final))  # (L·D, H)
        elif kind == "batch_first":
            result = outputs.transpose(0, 1)  # (B, T, D·H)
        return result, (LSTMState(*final) if self.mode == "LSTM" else final.hidden)


def _source(x: Tensor, kind: str) -> str:
    """The caller's input as it was passed, for messages; x is the time-major (T, B, F) copy."""
    if kind == "packed":
        return f"input, a PackedSequence of {x.shape[1]} sequences"
    if kind == "unbatched":
        return f"input unbatched (T, F) = {(x.shape[0], x.shape[2])}"
    batch_first = kind == "batch_first"
    shape = x.transpose(0, 1).shape if batch_first else x.shape
    return checks.describe_input(tuple(shape), batch_first=batch_first)


def _sorted_batch(
    lengths: Tensor, x: Tensor, initial: State
) -> tuple[Tensor, Tensor, State, Tensor]:
    """The batch reordered longest first (the fused LSTM needs it), and the inverse order."""
    lengths, order, inverse = sort_by_length(lengths)
    order = order.to(x.device)
    x = x.index_select(1, order)  # (T, B, F)
    initial = type(initial)(*(field.index_select(1, order) for field in initial))
    return lengths, x, initial, inverse


__all__ = ["Bptt", "RecurrentLayer"]

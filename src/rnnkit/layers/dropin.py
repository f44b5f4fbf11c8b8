"""RecurrentLayer: the machinery behind rnnkit.RNN / LSTM / GRU, drop-in for torch.nn's layers.

References:
    https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html (arguments, shapes, state layout)

A drop-in layer is a composition of the general layers, built from torch.nn's arguments:

    stack = Stacked([Recurrent(cell) or Bidirectional(cell→, cell←) for each of the L layers])

The cells are real submodules that own their parameters, and the layer registers the same
Parameter objects under torch.nn's names (`weight_ih_l1_reverse` is
`stack.layers.1.backward_layer.cell.weight_ih`). `named_parameters()` and `parameters()` list
each once, under torch's name and in torch's order; `state_dict()` leaves the cells' second
names out, loading hands the cells the layer's own parameters (so no key is missing twice), and
assigning `layer.weight_hh_l0` (load_state_dict(assign=True), weight_norm) assigns the cell's
too. So `state_dict()`, `all_weights`, checkpoints and `from_torch` / `to_torch` are torch's.
(This is done by overriding `state_dict` and `_load_from_state_dict`, torch's extension point
for old checkpoint formats, not by hooks: registered hooks would be pickled with a saved model
and make `torch.load(weights_only=True)` refuse it.)

`bptt` ("auto", "autograd", "hand") goes to every `Recurrent`, which runs the cell's own step or
the fast sequence function of `rnnkit.layers.fast.TABLE`.

The regularisers `layer_norm`, `recurrent_dropout`, `zoneout`, `weight_drop` go to every cell
(equations in the cells' docstrings); `input_dropout` and `output_dropout` are locked masks, one
per sequence for all steps, on the stack's input x and on its output sequence (`Stacked`). All
are off by default, and off they leave every number as it was.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnkit.cells.base import LSTMState, RecurrentCell, RNNState, State, check_choice
from rnnkit.cells.regularisers import check_probability
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import checks, torch_interop
from rnnkit.layers.bidirectional import Bidirectional
from rnnkit.layers.lengths import SequenceLengths, pack_like, unpack_sequence
from rnnkit.layers.recurrent import Bptt, Recurrent
from rnnkit.layers.stacked import Stacked


class ArgumentTypeError(ConfigError, TypeError):
    """A layer size of the wrong type (2.5, "4"); also a TypeError, as torch.nn.RNNBase raises."""


def _check_layer_arguments(hidden_size: Any, num_layers: Any, dropout: Any, bptt: Any) -> None:
    """torch.nn.RNNBase's argument checks, as ConfigError with expected vs received."""
    for name, value in (("hidden_size", hidden_size), ("num_layers", num_layers)):
        if isinstance(value, bool) or not isinstance(value, int):  # torch: TypeError
            raise ArgumentTypeError(
                f"Received an invalid value for argument `{name}`, expected a positive integer, "
                f"got {value!r} of type {type(value).__name__}."
            )
        if value < 1:
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


SIDES = ("forward_layer", "backward_layer")  # the two `Recurrent`s of a `Bidirectional`


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
        layer_norm: bool = False,
        recurrent_dropout: float = 0.0,
        zoneout: float | tuple[float, float] = 0.0,
        weight_drop: float = 0.0,
        input_dropout: float = 0.0,
        output_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        _check_layer_arguments(hidden_size, num_layers, dropout, bptt)
        self.layer_norm, self.recurrent_dropout = layer_norm, recurrent_dropout  # the cells check
        self.zoneout, self.weight_drop = zoneout, weight_drop
        self._locked_at_build = (
            check_probability("input_dropout", input_dropout),
            check_probability("output_dropout", output_dropout),
        )  # held by the stack once it is built
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self._dropout_at_build = float(dropout)  # held by the stack once it is built
        self.bidirectional, self.bptt, self.check_finite = bidirectional, bptt, check_finite
        self.num_directions = 2 if bidirectional else 1

    def _build(self, device: torch.device | str | None, dtype: torch.dtype | None) -> None:
        """Compose the stack from fresh cells and map torch's parameter names onto it.

        The public classes call this at the end of their constructor, once their own options
        are set.
        """
        layers: list[Recurrent | Bidirectional] = []
        torch_names: dict[str, str] = {}  # torch's name -> the cell's parameter in the stack
        for layer in range(self.num_layers):
            features = self.input_size if layer == 0 else self.num_directions * self.state_size
            cells = [self.make_cell(features, device=device, dtype=dtype)
                     for _ in range(self.num_directions)]  # fmt: skip
            if self.num_directions == 2:
                layers.append(Bidirectional(*cells, batch_first=False, bptt=self.bptt))
                paths = [f"stack.layers.{layer}.{side}.cell" for side in SIDES]
            else:
                layers.append(Recurrent(cells[0], batch_first=False, bptt=self.bptt))
                paths = [f"stack.layers.{layer}.cell"]
            for direction, (cell, path) in enumerate(zip(cells, paths, strict=True)):
                for base, parameter in cell.named_parameters(recurse=False):  # torch's order
                    name = torch_interop.parameter_name(base, layer, direction == 1)
                    self.register_parameter(name, parameter)  # the same object, torch's name
                    torch_names[name] = f"{path}.{base}"
        input_dropout, output_dropout = self._locked_at_build
        self.stack = Stacked(
            layers, dropout=self._dropout_at_build, batch_first=False,
            input_dropout=input_dropout, output_dropout=output_dropout,
        )  # fmt: skip
        self._torch_names = torch_names

    # -- hooks the three public classes fill in ------------------------------------------------
    @property
    def state_size(self) -> int:
        """H (or P for a projected LSTM): the size of h_t and of each output direction."""
        return self.hidden_size

    def make_cell(self, input_size: int, **factory: Any) -> RecurrentCell:
        """A fresh cell for one layer and direction."""
        raise TypeError(f"{type(self).__name__} must define make_cell")

    def variant_options(self) -> dict[str, Any]:
        """The options set away from torch.nn's behaviour (empty when torch has this layer)."""
        return {}

    def cell_regularisers(self) -> dict[str, Any]:
        """The regularisers every cell of the stack gets, as keyword arguments."""
        return {
            "layer_norm": self.layer_norm,
            "recurrent_dropout": self.recurrent_dropout,
            "zoneout": self.zoneout,
            "weight_drop": self.weight_drop,
        }

    def regulariser_options(self) -> dict[str, Any]:
        """The regularisers that are on (torch.nn has none of them), for repr and to_torch."""
        options = {
            **self.cell_regularisers(),
            "input_dropout": self.input_dropout,
            "output_dropout": self.output_dropout,
        }
        off = (False, 0.0, (0.0, 0.0))  # the defaults, and zoneout=(0, 0)
        return {key: value for key, value in options.items() if value not in off}

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

    # -- torch's names on the composition -----------------------------------------------------
    @property
    def cells(self) -> list[RecurrentCell]:
        """The cells in torch.nn's (layer, direction) order: l0, l0_reverse, l1, …"""
        return [loop.cell for k in range(self.num_layers) for loop in self.stack.directions(k)]

    @property
    def dropout(self) -> float:
        """p, the probability of zeroing an input of layers 2…L in training (the stack's)."""
        return self.stack.dropout

    @dropout.setter
    def dropout(self, value: float) -> None:
        self.stack.dropout = float(value)

    @property
    def input_dropout(self) -> float:
        """p of the locked dropout on the stack's input sequence (the stack's)."""
        return self.stack.input_dropout

    @input_dropout.setter
    def input_dropout(self, value: float) -> None:
        self.stack.input_dropout = check_probability("input_dropout", value)

    @property
    def output_dropout(self) -> float:
        """p of the locked dropout on the stack's output sequence (the stack's)."""
        return self.stack.output_dropout

    @output_dropout.setter
    def output_dropout(self, value: float) -> None:
        self.stack.output_dropout = check_probability("output_dropout", value)

    @property
    def path(self) -> str:
        """What runs a sequence of T > 1 steps: "elman", "lstm", "lstm_ln", "gru"
        (rnnkit.layers.fast) or "autograd" (the cell's own step)."""
        return self.stack.directions(0)[0].path

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """The parameters of each layer and direction in torch.nn's order, as torch's attribute."""
        groups: dict[str, list[str]] = {}  # cell -> torch's names of its parameters
        for name, path in self._torch_names.items():
            groups.setdefault(path.rpartition(".")[0], []).append(name)
        return [[getattr(self, name) for name in names] for names in groups.values()]

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """torch.nn's state_dict: torch's keys in torch's order, without the cells' second names.

        torch calls this method of every submodule with its prefix, so a model holding the layer
        gets the same keys (`encoder.rnn.weight_ih_l0`).
        """
        state = super().state_dict(*args, **kwargs)
        prefix = kwargs.get("prefix", args[1] if len(args) > 1 else "")
        for path in self._torch_names.values():
            state.pop(prefix + path, None)
        return state

    def _load_from_state_dict(
        self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        """Load torch's keys, then hand each cell the layer's parameter under its second name.

        The cells then load their own object onto itself (with assign=True: keep it), so they
        report no missing key; a key missing here is reported once, under torch's name.
        """
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        for name, path in self._torch_names.items():
            parameter = getattr(self, name)
            if isinstance(parameter, nn.Parameter):  # not a tensor computed by weight_norm
                state_dict[prefix + path] = parameter

    def __setattr__(self, name: str, value: Any) -> None:
        """Assigning `layer.weight_hh_l0` assigns the cell's weight_hh too.

        A Parameter replaces both (load_state_dict(assign=True)); a plain tensor, such as the
        weight that `torch.nn.utils.weight_norm` computes before each call, takes the place of
        the cell's parameter.
        """
        super().__setattr__(name, value)
        path = self.__dict__.get("_torch_names", {}).get(name)
        if path is not None:
            owner, _, base = path.rpartition(".")
            cell = self.get_submodule(owner)
            if not isinstance(value, nn.Parameter) and isinstance(
                getattr(cell, base, None), nn.Parameter
            ):
                delattr(cell, base)  # a computed tensor stands in for the parameter
            setattr(cell, base, value)

    def __repr__(self) -> str:
        """`LSTM(3, 4, num_layers=2)`, as torch.nn prints its layers."""
        return f"{type(self).__name__}({self.extra_repr()})"

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
        if lengths is None:
            single = self._one_step(input, hx)  # streaming: one layer, one step (T = 1)
            if single is not None:
                return single
        x, padding, layout = self._prepare_input(input, lengths)  # x (T, B, F)
        initial = self._initial_state(
            hx, x, unbatched=layout[0] == "unbatched", source=_source(x, layout[0])
        )  # (L·D, B, ·)
        outputs, final = self.stack.run(x, initial, padding)  # (T, B, D·H), (L·D, B, H)
        return self._format(outputs, final, layout)

    def _one_step(self, input: Any, hx: Any) -> tuple[Tensor, Tensor | LSTMState] | None:
        """`forward` for one step of a one-layer, one-direction layer, or None for the full path.

        Streaming (one call per time step, the state carried) is dominated by the fixed cost of
        a call, so for T = 1 with nothing to report this checks the input and hx in a few
        comparisons and runs `Recurrent.one_step` on them directly, skipping the stacking of
        the general path (`Stacked.run`). Anything else (other shapes, dtypes or devices, which
        the full path turns into its messages; PackedSequence, unbatched input, check_finite,
        locked dropout in training, autocast, several layers or directions, B = 0) returns None
        before any random draw, and `forward` runs as for any T. The results are the full
        path's: output (1, B, H) or (B, 1, H), h_n (1, B, H) a tensor of its own, c_n.
        """
        steps_axis = 1 if self.batch_first else 0
        if (
            type(input) is not Tensor
            or input.dim() != 3
            or input.shape[steps_axis] != 1
            or self.num_layers != 1
            or self.bidirectional
            or self.check_finite
        ):
            return None
        # nn.Module's attribute lookup of a submodule or parameter costs about a microsecond a
        # name, as much as a small kernel, so this route reads its dictionaries directly
        stack = self._modules["stack"]
        if self.training and (stack.input_dropout or stack.output_dropout):
            return None  # locked dropout: the general path draws its masks
        loop = stack._modules["layers"]._modules["0"]  # the one Recurrent
        weight = loop._modules["cell"]._parameters["weight_ih"]
        B = input.shape[1 - steps_axis]
        if (
            B == 0
            or input.shape[2] != self.input_size
            or input.dtype != weight.dtype
            or not _same_device(input, weight)
            or torch.is_autocast_enabled("cpu" if input.is_cpu else input.device.type)
        ):
            return None
        state = self._one_step_state(hx, input, B)
        if state is None:
            return None
        new = loop.one_step(input.select(steps_axis, 0), state)  # x_1 (B, F)
        if new is None:
            return None
        output = new.hidden.unsqueeze(steps_axis)  # (1, B, H) or (B, 1, H)
        time_major = output if steps_axis == 0 else new.hidden.unsqueeze(0)
        hidden_n = time_major.clone()  # (1, B, H), a copy: not a view of the output
        if self.mode == "LSTM":
            return output, LSTMState(hidden_n, new.cell.unsqueeze(0))
        return output, hidden_n

    def _one_step_state(self, hx: Any, like: Tensor, batch_size: int) -> State | None:
        """h_0 (and c_0) of one layer and direction, fields (B, ·); None where hx does not fit."""
        lstm = self.mode == "LSTM"
        if hx is None:
            hidden = like.new_zeros(batch_size, self.state_size)
            if lstm:
                return LSTMState(hidden, like.new_zeros(batch_size, self.hidden_size))
            return RNNState(hidden)
        if not lstm:
            fits = self._fits(hx, like, batch_size, self.state_size)
            return RNNState(hx[0]) if fits else None
        if not isinstance(hx, tuple | list) or len(hx) != 2:
            return None
        hidden, cell = hx
        sizes = (batch_size, self.state_size), (batch_size, self.hidden_size)
        if self._fits(hidden, like, *sizes[0]) and self._fits(cell, like, *sizes[1]):
            return LSTMState(hidden[0], cell[0])
        return None

    @staticmethod
    def _fits(tensor: Any, like: Tensor, batch_size: int, size: int) -> bool:
        """Whether one state tensor is (1, B, size) in the dtype and on the device of `like`."""
        return (
            isinstance(tensor, Tensor)
            and tensor.shape == (1, batch_size, size)
            and tensor.dtype == like.dtype
            and _same_device(tensor, like)
        )

    def _prepare_input(
        self, input: Any, lengths: Any
    ) -> tuple[Tensor, SequenceLengths | None, tuple[str, Any]]:
        """Time-major x (T, B, F), checked lengths, and how to give the outputs back."""
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            if lengths is not None:
                raise ShapeError(
                    f"{name}: pass lengths either inside a PackedSequence or as `lengths`, "
                    f"not both; got both."
                )
            if tuple(input.data.shape[1:]) != (self.input_size,):
                raise checks.LayerMismatchError(
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
        T, B = x.shape[:2]
        padding = SequenceLengths.checked(
            lengths, batch_size=B, steps=T, device=x.device, source=_source(x, layout[0])
        )
        return x, padding, layout

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
            if not isinstance(hx, tuple | list) or len(hx) != 2:  # torch: RuntimeError
                raise checks.LayerMismatchError(
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


def _same_device(a: Tensor, b: Tensor) -> bool:
    """a.device == b.device, without making the two device objects in the usual CPU case."""
    return (a.is_cpu and b.is_cpu) or a.device == b.device


def _source(x: Tensor, kind: str) -> str:
    """The caller's input as it was passed, for messages; x is the time-major (T, B, F) copy."""
    if kind == "packed":
        return f"input, a PackedSequence of {x.shape[1]} sequences"
    if kind == "unbatched":
        return f"input unbatched (T, F) = {(x.shape[0], x.shape[2])}"
    batch_first = kind == "batch_first"
    shape = x.transpose(0, 1).shape if batch_first else x.shape
    return checks.describe_input(tuple(shape), batch_first=batch_first)


__all__ = ["Bptt", "RecurrentLayer"]

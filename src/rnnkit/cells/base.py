"""Shape legend, recurrent states and the protocol every rnnkit cell follows.

A cell computes one time step and nothing else; the time loop belongs to the layer
(`rnnkit.layers.recurrent`). Every cell splits its step into two parts so the layer can hoist
the input projection of all time steps into one matrix product:

    a_t = W_ih x_t + b_ih            project_input: (…, F) -> (…, G)   any leading dims
    state_t = f(a_t, state_{t-1})    step: the recurrence, W_hh h_{t-1} + b_hh and the gates

`forward(x_t, state)` is `step(project_input(x_t), state)`.

The regularisers of the recurrence (`layer_norm`, `recurrent_dropout`, `zoneout`, `weight_drop`,
options of every cell; equations in each cell's docstring) need random masks that are drawn
once per sequence, not once per step. They travel by one mechanism: the owner of the time loop
draws them for a whole forward pass and hands each step its slice,

    masks = cell.begin_sequence(T, B, like=x)    None in eval mode or with no random option
    state_t = step(a_t, state_{t-1}, masks.at(t))  the same m and W̃_hh at every t, d_t per step

(`rnnkit.cells.regularisers.SequenceMasks`). A step without masks is the deterministic step of
eval mode: no dropout, W_hh itself, zoneout's expectation. `forward` in training mode draws
fresh masks for its one step; a hand-written loop that wants per-sequence masks calls
`begin_sequence` itself and passes `masks=masks.at(t)`.

Shape legend (used in every docstring and `# (B, T, H)` comment of rnnkit):
    B batch, T time steps, F input features, E embedding size, H hidden size,
    P projection size (LSTM `proj_size`), G stacked gate rows (e.g. 4H for LSTM),
    L layers, D directions (1 or 2), V vocabulary size, C classes.
The state of one step is (B, H); the state of a layer stack is (L·D, B, H) as in torch.nn.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any, Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.cells.regularisers import (
    SequenceMasks,
    bernoulli,
    check_probability,
    check_zoneout,
    dropout_mask,
)
from rnnkit.errors import ConfigError, ShapeError

ActivationName = Literal["tanh", "sigmoid", "relu", "identity"]
LAYER_NORM_EPS = 1e-5  # ε of every layer normalisation in the cells (torch.nn.LayerNorm's)


def identity(x: Tensor) -> Tensor:
    """φ(a) = a, the linear activation (a named function, so cells deep-copy and pickle)."""
    return x


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "identity": identity,
}


def _tanh_derivative(pre: Tensor) -> Tensor:
    return 1.0 - torch.tanh(pre) ** 2  # tanh'(a) = 1 − tanh²(a)


def _sigmoid_derivative(pre: Tensor) -> Tensor:
    gate = torch.sigmoid(pre)
    return gate * (1.0 - gate)  # σ'(a) = σ(a)(1 − σ(a))


def _relu_derivative(pre: Tensor) -> Tensor:
    return (pre > 0).to(pre.dtype)  # relu'(a) = 1[a > 0], taking 0 at the kink as torch does


def _identity_derivative(pre: Tensor) -> Tensor:
    return torch.ones_like(pre)  # identity'(a) = 1


ACTIVATION_DERIVATIVES: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": _tanh_derivative,
    "sigmoid": _sigmoid_derivative,
    "relu": _relu_derivative,
    "identity": _identity_derivative,
}
"""φ'(a) as a function of the pre-activation a, for each name in ACTIVATIONS (used by the
hand-written BPTT and the Jacobian analysis: ∂h_t/∂h_{t-1} = diag(φ'(a_t)) W_hh)."""


def check_positive_int(argument: str, value: Any) -> int:
    """Return `value` if it is a positive int (not a bool); else ConfigError naming `argument`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"Received an invalid value for argument `{argument}`, "
            f"expected a positive integer, got {value!r}."
        )
    return value


def check_choice(argument: str, value: Any, choices: Iterable[str]) -> str:
    """Return `value` if it is one of `choices`, else raise ConfigError naming `argument`."""
    allowed = list(choices)
    if value not in allowed:
        raise ConfigError(
            f"Received an invalid value for argument `{argument}`, "
            f"expected one of {allowed}, got {value!r}."
        )
    return value


def regulariser_repr(cell: Any) -> str:
    """The regularisers a cell has on for its repr, e.g. `, layer_norm=True, zoneout=0.1`."""
    options = {"layer_norm": False, "recurrent_dropout": 0.0, "zoneout": 0.0, "weight_drop": 0.0}
    return "".join(
        f", {name}={getattr(cell, name)!r}"
        for name, default in options.items()
        if getattr(cell, name) != default
    )


class RNNState(NamedTuple):
    """State of an Elman RNN or GRU cell: h_t (B, H)."""

    hidden: Tensor


class LSTMState(NamedTuple):
    """State of an LSTM cell: h_t (B, H or P) and c_t (B, H); unpacks like torch's (h, c)."""

    hidden: Tensor
    cell: Tensor


State = RNNState | LSTMState


class RecurrentCell(nn.Module, ABC):
    """Base class of rnnkit cells: one time step, split into input projection and recurrence.

    Subclasses set `input_size`, `hidden_size`, `state_size` (size of `hidden`, H or P),
    `gate_size` (G, rows of `weight_ih`), `gate_names` (the H-row blocks of `weight_ih` and
    `weight_hh`, top to bottom, e.g. ("input", "forget", "candidate", "output")) and
    `state_type` (RNNState or LSTMState), and implement `step`; `make_parameters` creates
    the weights under torch's names.
    `step` is the hot path and checks nothing; `forward` checks shapes first.
    """

    input_size: int
    hidden_size: int
    state_size: int
    gate_size: int
    gate_names: tuple[str, ...]
    state_type: type[RNNState] | type[LSTMState]
    layer_norm: bool = False  # the regularisers' defaults: off (see `make_regularisers`)
    recurrent_dropout: float = 0.0
    zoneout: float | tuple[float, float] = 0.0
    weight_drop: float = 0.0
    zoneout_pair: tuple[float, float] = (0.0, 0.0)  # (p_h, p_c)

    def init_state(
        self,
        batch_size: int,
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> State:
        """h_0 = 0 of shape (B, state_size), by default in the parameters' dtype and device.

        The LSTM cell overrides this to add c_0.
        """
        dtype = dtype or self.weight_ih.dtype
        device = device or self.weight_ih.device
        return RNNState(torch.zeros(batch_size, self.state_size, dtype=dtype, device=device))

    def __prepare_scriptable__(self) -> RecurrentCell:
        """torch.jit.script calls this on every submodule: rnnkit's cells and layers refuse it.

        Raises:
            NotImplementedError: always, naming the tools that do take them.
        """
        raise NotImplementedError(
            f"torch.jit.script: rnnkit's recurrent cells and layers are not TorchScript (here "
            f"{self!r}; TorchScript is deprecated in torch 2.13). Use torch.compile(model, "
            f"fullgraph=True) or torch.export.export(model, args), which trace them (with "
            f"torch.onnx.export(..., dynamo=True) for ONNX), or torch.jit.trace."
        )

    def project_input(self, x: Tensor) -> Tensor:
        """W_ih x + b_ih for all gates at every leading position: (…, F) -> (…, G).

        With layer_norm, LN(W_ih x; g_ih, b_ih): the bias b_ih is the normalisation's shift.
        """
        if self.layer_norm:
            product = F.linear(x, self.weight_ih)  # W_ih x_t
            return F.layer_norm(product, (self.gate_size,), self.gain_ih, self.bias_ih,
                                eps=LAYER_NORM_EPS)  # LN(W_ih x_t; g_ih, b_ih)  # fmt: skip
        return F.linear(x, self.weight_ih, self.bias_ih)  # W_i· x_t + b_i·

    def make_regularisers(
        self,
        *,
        layer_norm: bool,
        recurrent_dropout: float,
        zoneout: float | tuple[float, float],
        weight_drop: float,
        factory: dict,
    ) -> None:
        """Check and store the regularisers; with layer_norm create the gains g_ih, g_hh (G,)
        (and for an LSTM the gain and shift of LN(c_t): gain_cell, bias_cell (H,)).

        Called by each cell's `__init__` after `make_parameters`, so torch's parameters come
        first in `named_parameters()`; `rnnkit.cells.init.reset_parameters` sets gains to 1 and
        shifts to 0, as Ba et al. 2016.
        """
        has_cell = self.state_type is LSTMState
        if not isinstance(layer_norm, bool):
            raise ConfigError(
                f"Received an invalid value for argument `layer_norm`, expected True or False, "
                f"got {layer_norm!r}."
            )
        self.layer_norm = layer_norm
        self.recurrent_dropout = check_probability("recurrent_dropout", recurrent_dropout)
        self.zoneout_pair = check_zoneout(zoneout, has_cell=has_cell)  # (p_h, p_c)
        p_h, p_c = self.zoneout_pair
        self.zoneout = p_h if p_h == p_c or not has_cell else (p_h, p_c)
        self.weight_drop = check_probability("weight_drop", weight_drop)
        if layer_norm:
            G, H = self.gate_size, self.hidden_size
            self.gain_ih = nn.Parameter(torch.empty(G, **factory))  # g_ih
            self.gain_hh = nn.Parameter(torch.empty(G, **factory))  # g_hh
            if has_cell:
                self.gain_cell = nn.Parameter(torch.empty(H, **factory))  # g_c
                self.bias_cell = nn.Parameter(torch.empty(H, **factory))  # b_c

    @property
    def changes_step(self) -> bool:
        """Whether an option changes the step's equations now (`rnnkit.layers.fast` decides
        which rows still run the cell: the LSTM row runs zoneout and recurrent dropout).

        layer_norm and zoneout always (zoneout's eval step is its expectation); recurrent
        dropout in training only. weight_drop does not: the fast rows take W̃_hh.
        """
        dropping = self.training and self.recurrent_dropout > 0.0
        return self.layer_norm or self.zoneout_pair != (0.0, 0.0) or dropping

    def begin_sequence(self, steps: int, batch_size: int, *, like: Tensor) -> SequenceMasks | None:
        """Draw the masks of one forward pass over `steps` steps (module docstring).

        Returns None in eval mode or when no random option is on. Masks are in the dtype and
        device of `like` (W̃_hh in the weights'); the draws come in a fixed order (m, d^h, d^c,
        M) from torch's default generator, so a seed makes them reproducible.

        Shapes:
            recurrent (B, S); zoneout_hidden (T, B, S); zoneout_cell (T, B, H); weight_hh (G, S).
        """
        p_h, p_c = self.zoneout_pair
        random = self.recurrent_dropout or p_h or p_c or self.weight_drop
        if not self.training or not random:
            return None
        B, S, H, T = batch_size, self.state_size, self.hidden_size, steps
        recurrent = None
        if self.recurrent_dropout:
            recurrent = dropout_mask((B, S), self.recurrent_dropout, like)  # m
        zoneout_hidden = bernoulli((T, B, S), p_h, like) if p_h else None  # d^h_t
        zoneout_cell = bernoulli((T, B, H), p_c, like) if p_c else None  # d^c_t
        weight_hh = None
        if self.weight_drop:
            mask = dropout_mask(tuple(self.weight_hh.shape), self.weight_drop, self.weight_hh)
            weight_hh = self.weight_hh * mask  # W̃_hh = M ⊙ W_hh / (1 − p)
        return SequenceMasks(recurrent, zoneout_hidden, zoneout_cell, weight_hh)

    def recurrent_term(
        self, hidden_prev: Tensor, masks: SequenceMasks | None, rows: slice | None = None
    ) -> Tensor:
        """W_hh h_{t-1} + b_hh (rows of it), with W̃_hh under weight drop and LN with layer_norm.

        `hidden_prev` is the h_{t-1} that enters the product (the caller applies m); with
        layer_norm the result is LN(W_hh h_{t-1}; g_hh, b_hh) over the rows taken.
        """
        weight = self.weight_hh if masks is None or masks.weight_hh is None else masks.weight_hh
        bias = self.bias_hh
        if rows is not None:
            weight, bias = weight[rows], None if bias is None else bias[rows]
        if not self.layer_norm:
            return F.linear(hidden_prev, weight, bias)  # W_hh h_{t-1} + b_hh
        gain = self.gain_hh if rows is None else self.gain_hh[rows]
        product = F.linear(hidden_prev, weight)  # W_hh h_{t-1}
        return F.layer_norm(product, (product.shape[-1],), gain, bias, eps=LAYER_NORM_EPS)

    @staticmethod
    def dropped(hidden_prev: Tensor, masks: SequenceMasks | None) -> Tensor:
        """m ⊙ h_{t-1}, the h_{t-1} the recurrence reads under recurrent dropout (else itself)."""
        if masks is None or masks.recurrent is None:
            return hidden_prev
        return masks.recurrent * hidden_prev  # m ⊙ h_{t-1}

    @staticmethod
    def zone(new: Tensor, old: Tensor, p: float, mask: Tensor | None) -> Tensor:
        """d ⊙ old + (1 − d) ⊙ new: zoneout with the step's mask d_t, or d = p without one."""
        if p == 0.0:
            return new
        keep = p if mask is None else mask  # d_t in training, its expectation p in eval
        return keep * old + (1.0 - keep) * new

    def make_parameters(self, recurrent_size: int, *, bias: bool, factory: dict) -> None:
        """weight_ih (G, F), weight_hh (G, recurrent_size), bias_ih, bias_hh (G,) or None."""
        G, F_in = self.gate_size, self.input_size
        self.weight_ih = nn.Parameter(torch.empty(G, F_in, **factory))  # W_i· stacked
        self.weight_hh = nn.Parameter(torch.empty(G, recurrent_size, **factory))  # W_h· stacked
        for name in ("bias_ih", "bias_hh"):  # b_i·, b_h·
            parameter = nn.Parameter(torch.empty(G, **factory)) if bias else None
            self.register_parameter(name, parameter)

    @abstractmethod
    def step(
        self, input_projection: Tensor, state: State, masks: SequenceMasks | None = None
    ) -> State:
        """One recurrence step from a projected input (B, G), the previous state and the masks
        of this step (None: the deterministic step of eval mode)."""

    def forward(
        self, x_t: Tensor, state: State | None = None, *, masks: SequenceMasks | None = None
    ) -> State:
        """One time step: x_t and the previous state (zeros if None) -> the new state.

        In training mode without `masks`, the step's masks are drawn for this one step.

        Shapes:
            x_t (B, F); state.hidden (B, state_size), state.cell (B, H) for an LSTM.

        Args:
            x_t: the input at step t.
            state: h_{t-1} (and c_{t-1}) as this cell's `state_type`, or None for zeros.
            masks: the masks of this step (`begin_sequence(...).at(t)`), or None.

        Returns:
            The state at step t, of the same type.

        Raises:
            ShapeError: x_t is not (B, F), or the state's type or shapes do not match.
        """
        self.check_step_input(x_t, state)
        if state is None:
            state = self.init_state(x_t.shape[0], dtype=x_t.dtype, device=x_t.device)
        device = x_t.device.type
        if device != "cpu" and torch.is_autocast_enabled(device):  # torch.nn's cells run in D
            low = torch.get_autocast_dtype(device)  # there (on the CPU they promote, as ours)
            state = type(state)(*(field.to(low) for field in state))
        if masks is None:
            drawn = self.begin_sequence(1, x_t.shape[0], like=x_t)
            masks = None if drawn is None else drawn.at(0)
        return self.step(self.project_input(x_t), state, masks)

    def gate_rows(self, gate: str) -> slice:
        """The rows of `weight_ih`, `weight_hh` and the biases that belong to `gate`."""
        index = self.gate_names.index(check_choice("gate", gate, self.gate_names))
        return slice(index * self.hidden_size, (index + 1) * self.hidden_size)

    def check_step_input(self, x_t: Tensor, state: State | None) -> None:
        """Raise ShapeError unless x_t is (B, F) and `state` is None or a matching state."""
        name = type(self).__name__
        F = self.input_size
        if x_t.dim() != 2 or x_t.shape[1] != F:
            raise ShapeError(
                f"{name} input x_t must be (B, {F}); got {tuple(x_t.shape)}. "
                f"Check input_size, or use a layer for (T, B, F) sequences."
            )
        if state is None:
            return
        fields = ", ".join(self.state_type._fields)
        if not isinstance(state, self.state_type):
            raise ShapeError(
                f"{name} state must be {self.state_type.__name__}({fields}); "
                f"got {type(state).__name__}. Wrap it, e.g. {self.state_type.__name__}(*state)."
            )
        B = x_t.shape[0]
        for field, tensor in zip(state._fields, state, strict=True):
            size = self.state_size if field == "hidden" else self.hidden_size
            if tuple(tensor.shape) != (B, size):
                raise ShapeError(
                    f"{name} state.{field} must be (B, {size}) = ({B}, {size}) for x_t of batch "
                    f"{B}; got {tuple(tensor.shape)}. Check the batch size and hidden_size."
                )

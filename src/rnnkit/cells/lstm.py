"""The LSTM cell, with peephole, coupled input-forget gate and projection variants.

References:
    https://doi.org/10.1162/neco.1997.9.8.1735 (Hochreiter & Schmidhuber 1997)
    https://doi.org/10.1162/089976600300015015 (Gers, Schmidhuber & Cummins 2000, forget gate)
    https://doi.org/10.1109/IJCNN.2000.861302 (Gers & Schmidhuber 2000, peepholes)
    https://arxiv.org/abs/1503.04069 (Greff et al. 2017, coupled input-forget gate)
    https://arxiv.org/abs/1402.1128 (Sak, Senior & Beaufays 2014, projection)
    https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html (parameter names and layout)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.cells.base import (
    ACTIVATIONS,
    LSTMState,
    RecurrentCell,
    check_choice,
    check_positive_int,
)
from rnnkit.cells.init import reset_parameters
from rnnkit.errors import ConfigError


class LSTMCell(RecurrentCell):
    """One step of the long short-term memory cell.

    i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)        input gate
    f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)        forget gate  (Gers et al. 2000)
    c̃_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     candidate (torch docs: g_t)
    o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)        output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t  (Hochreiter & Schmidhuber 1997; Gers et al. 2000 for f_t)
    h_t = o_t ⊙ tanh(c_t)

    Variants (each an argument; they combine freely):
    peephole=True: the gates also see the cell  (Gers & Schmidhuber 2000)
        i_t = σ(… + w_ci ⊙ c_{t-1}),  f_t = σ(… + w_cf ⊙ c_{t-1}),  o_t = σ(… + w_co ⊙ c_t)
    coupled_gates=True: one gate decides both forgetting and writing  (Greff et al. 2017, CIFG)
        i_t = 1 − f_t,  so  c_t = f_t ⊙ c_{t-1} + (1 − f_t) ⊙ c̃_t
    proj_size=P > 0: the output is projected to P features  (Sak et al. 2014)
        h_t = W_hr (o_t ⊙ tanh(c_t)), and W_h· multiplies this (B, P) h_{t-1}
    activation / recurrent_activation: tanh above (candidate and output squashing of c_t) is
        `activation`, σ (the gates) is `recurrent_activation`; with both "identity" the cell is
        the linear LSTM of hand-worked lecture examples.

    where
        x_t the input, h_{t-1} and c_{t-1} the previous hidden and cell state (zeros at t = 1),
        σ the logistic sigmoid, ⊙ the element-wise (Hadamard) product,
        W_i·, W_h· rows of weight_ih, weight_hh for the gate · ∈ {i, f, g, o},
        b_i·, b_h· the two biases (torch keeps two; only their sum matters),
        w_ci, w_cf, w_co diagonal peephole weights (vectors), W_hr the projection.

    Parameter layout: torch.nn.LSTM's. Gate rows are stacked i|f|g|o in `weight_ih` (4H, F),
    `weight_hh` (4H, H or P), `bias_ih`, `bias_hh` (4H,), plus `weight_hr` (P, H) when
    proj_size > 0, so a torch state_dict loads with `load_state_dict`. Peephole weights are
    `weight_ci`, `weight_cf`, `weight_co` (H,). With coupled_gates=True there is no input gate:
    rows are stacked f|g|o (3H) and there is no `weight_ci`; such a cell has no torch counterpart.
    Options torch lacks are None/absent in the state_dict when off.

    Shapes:
        x_t (B, F); hidden h_t (B, P if proj_size else H); cell c_t (B, H).
        G = 4H (3H with coupled_gates) stacked gate rows.

    Args:
        input_size: F, features of x_t.
        hidden_size: H, size of c_t (and of h_t without projection).
        bias: if False, no b_i· and b_h· (None), as in torch.
        proj_size: P, 0 for none; otherwise 0 < P < H, as torch.nn.LSTM requires.
        peephole: add the diagonal peephole connections w_ci, w_cf, w_co.
        coupled_gates: tie the input gate to the forget gate, i_t = 1 − f_t.
        activation: candidate and output squashing, one of "tanh", "sigmoid", "relu", "identity".
        recurrent_activation: gate function, one of the same names.
        device: where to create the parameters.
        dtype: dtype of the parameters.

    Returns:
        `forward(x_t, state)` returns LSTMState(hidden=h_t, cell=c_t).

    Example (the time loop belongs to the caller):
        >>> import torch
        >>> cell = LSTMCell(3, 8, proj_size=2, peephole=True)
        >>> x = torch.randn(10, 5, 3)  # (T, B, F)
        >>> state = cell.init_state(5)
        >>> for x_t in x:
        ...     state = cell(x_t, state)
        >>> state.hidden.shape, state.cell.shape  # (B, P), (B, H)
        (torch.Size([5, 2]), torch.Size([5, 8]))

    References:
        Hochreiter & Schmidhuber 1997, "Long short-term memory", Neural Computation 9(8).
        Gers, Schmidhuber & Cummins 2000, "Learning to forget: continual prediction with LSTM",
        Neural Computation 12(10).
        Gers & Schmidhuber 2000, "Recurrent nets that time and count", IJCNN 2000.
        Greff, Srivastava, Koutník, Steunebrink & Schmidhuber 2017, "LSTM: a search space
        odyssey", IEEE Transactions on Neural Networks and Learning Systems 28(10).
        Sak, Senior & Beaufays 2014, "Long short-term memory recurrent neural network
        architectures for large scale acoustic modeling", Interspeech 2014.
    """

    state_type = LSTMState

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        bias: bool = True,
        proj_size: int = 0,
        peephole: bool = False,
        coupled_gates: bool = False,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)  # F
        self.hidden_size = check_positive_int("hidden_size", hidden_size)  # H
        if isinstance(proj_size, bool) or not isinstance(proj_size, int):
            raise ConfigError(
                f"Received an invalid value for argument `proj_size`, expected an integer "
                f"0 ≤ proj_size < hidden_size = {hidden_size}, got {proj_size!r}."
            )
        if proj_size != 0 and not 0 < proj_size < hidden_size:
            raise ConfigError(
                f"Received an invalid value for argument `proj_size`, expected 0 (no projection) "
                f"or 0 < proj_size < hidden_size = {hidden_size}, got {proj_size!r}."
            )
        self.proj_size = proj_size  # P
        self.state_size = proj_size or hidden_size  # P or H
        self.bias, self.peephole, self.coupled_gates = bias, peephole, coupled_gates
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.recurrent_activation = check_choice(
            "recurrent_activation", recurrent_activation, ACTIVATIONS
        )
        self.gate_names = ("forget", "candidate", "output")
        if not coupled_gates:
            self.gate_names = ("input", *self.gate_names)
        self.gate_size = len(self.gate_names) * hidden_size  # G = 4H, or 3H when coupled
        self._make_parameters({"device": device, "dtype": dtype})
        self.reset_parameters()

    def _make_parameters(self, factory: dict) -> None:
        """Create the parameters in torch.nn.LSTM's layout (None for the options left off)."""
        H = self.hidden_size
        self.make_parameters(self.state_size, bias=self.bias, factory=factory)
        optional = {
            "weight_hr": (self.proj_size, H) if self.proj_size else None,  # W_hr
            "weight_ci": (H,) if self.peephole and not self.coupled_gates else None,  # w_ci
            "weight_cf": (H,) if self.peephole else None,  # w_cf
            "weight_co": (H,) if self.peephole else None,  # w_co
        }
        for name, shape in optional.items():
            parameter = None if shape is None else nn.Parameter(torch.empty(shape, **factory))
            self.register_parameter(name, parameter)

    @property
    def _squash(self) -> Callable[[Tensor], Tensor]:
        """tanh in the equations, looked up by name (a saved cell pickles no function)."""
        return ACTIVATIONS[self.activation]

    @property
    def _gate(self) -> Callable[[Tensor], Tensor]:
        """σ in the equations, looked up by name (a saved cell pickles no function)."""
        return ACTIVATIONS[self.recurrent_activation]

    def reset_parameters(self) -> None:
        """U(−1/√H, 1/√H) for every parameter, as torch (see `rnnkit.cells.init`)."""
        reset_parameters(self)

    def init_state(
        self,
        batch_size: int,
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> LSTMState:
        """h_0 = 0 (B, P or H) and c_0 = 0 (B, H), by default in the parameters' dtype/device."""
        factory = {
            "dtype": dtype or self.weight_ih.dtype,
            "device": device or self.weight_ih.device,
        }
        return LSTMState(
            hidden=torch.zeros(batch_size, self.state_size, **factory),
            cell=torch.zeros(batch_size, self.hidden_size, **factory),
        )

    def step(self, input_projection: Tensor, state: LSTMState) -> LSTMState:
        """(h_t, c_t) from the projected input (B, G) and (h_{t-1}, c_{t-1}); no checks."""
        hidden_prev, cell_prev = state
        gates = input_projection + F.linear(hidden_prev, self.weight_hh, self.bias_hh)  # (B, G)
        if self.coupled_gates:
            forget_pre, candidate_pre, output_pre = gates.chunk(3, dim=-1)  # 3 × (B, H)
            if self.peephole:
                forget_pre = forget_pre + self.weight_cf * cell_prev  # + w_cf ⊙ c_{t-1}
            forget_gate = self._gate(forget_pre)  # f_t
            input_gate = 1.0 - forget_gate  # i_t = 1 − f_t
        else:
            input_pre, forget_pre, candidate_pre, output_pre = gates.chunk(4, dim=-1)  # 4 × (B, H)
            if self.peephole:
                input_pre = input_pre + self.weight_ci * cell_prev  # + w_ci ⊙ c_{t-1}
                forget_pre = forget_pre + self.weight_cf * cell_prev  # + w_cf ⊙ c_{t-1}
            input_gate = self._gate(input_pre)  # i_t
            forget_gate = self._gate(forget_pre)  # f_t
        candidate = self._squash(candidate_pre)  # c̃_t
        cell = forget_gate * cell_prev + input_gate * candidate  # c_t
        if self.peephole:
            output_pre = output_pre + self.weight_co * cell  # + w_co ⊙ c_t
        output_gate = self._gate(output_pre)  # o_t
        hidden = output_gate * self._squash(cell)  # h_t
        if self.weight_hr is not None:
            hidden = F.linear(hidden, self.weight_hr)  # h_t = W_hr (o_t ⊙ tanh(c_t)), (B, P)
        return LSTMState(hidden=hidden, cell=cell)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}, bias={self.bias}"
        options = {
            "proj_size": (self.proj_size, 0),
            "peephole": (self.peephole, False),
            "coupled_gates": (self.coupled_gates, False),
            "activation": (self.activation, "tanh"),
            "recurrent_activation": (self.recurrent_activation, "sigmoid"),
        }
        for name, (value, default) in options.items():
            if value != default:
                text += f", {name}={value!r}"
        return text


__all__ = ["LSTMCell"]

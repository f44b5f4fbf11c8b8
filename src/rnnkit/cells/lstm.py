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
    LAYER_NORM_EPS,
    LSTMState,
    RecurrentCell,
    check_choice,
    check_positive_int,
    regulariser_repr,
)
from rnnkit.cells.init import reset_parameters
from rnnkit.cells.regularisers import SequenceMasks
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

    Regularisers (keyword options, all off by default; masks as in `rnnkit.cells.regularisers`):
    layer_norm=True: the input and recurrent pre-activations normalised separately over all G
        gate rows, and c_t over its H units before the output squashing, as haste's
        LayerNormLSTM  (Ba, Kiros & Hinton 2016)
        [i_t f_t c̃_t o_t] pre-activations = LN(W_ih x_t; g_ih, b_ih) + LN(W_h· h_{t-1}; g_hh, b_hh)
        h_t = o_t ⊙ tanh(LN(c_t; g_c, b_c)),  c_t itself is carried unnormalised
        LN(a; g, b) = g ⊙ (a − mean(a)) / √(var(a) + ε) + b, the biases acting as the shifts
    recurrent_dropout=p: W_h· h_{t-1} becomes W_h· (m ⊙ h_{t-1}), one m per sequence
        (Gal & Ghahramani 2016; one mask shared by the four gates); eval: m = 1
    weight_drop=p: W_h· becomes W̃_hh = M ⊙ W_hh / (1 − p), one M per forward pass
        (Wan et al. 2013; Merity et al. 2017, AWD-LSTM); eval: W_hh
    zoneout=p or (p_h, p_c): each unit keeps its old value with probability p_h (p_c)
        (Krueger et al. 2017), where ĉ_t, ĥ_t are the c_t, h_t of the equations above
        c_t = d^c_t ⊙ c_{t-1} + (1 − d^c_t) ⊙ ĉ_t,   h_t = d^h_t ⊙ h_{t-1} + (1 − d^h_t) ⊙ ĥ_t
        (ĥ_t reads the unzoned ĉ_t, as the paper); eval: d^h_t = p_h, d^c_t = p_c

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
        layer_norm: layer normalisation (adds gain_ih, gain_hh (G,), gain_cell, bias_cell (H,)).
        recurrent_dropout: p of the per-sequence dropout of h_{t-1} in the recurrence, [0, 1).
        zoneout: p, or (p_h, p_c), of keeping each unit's old h (and c), [0, 1].
        weight_drop: p of DropConnect on W_hh, [0, 1).
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
        Ba, Kiros & Hinton 2016, "Layer normalization", arXiv:1607.06450.
        Gal & Ghahramani 2016, "A theoretically grounded application of dropout in recurrent
        neural networks", NeurIPS 2016.
        Krueger et al. 2017, "Zoneout: regularizing RNNs by randomly preserving hidden
        activations", ICLR 2017.
        Wan, Zeiler, Zhang, LeCun & Fergus 2013, "Regularization of neural networks using
        DropConnect", ICML 2013.
        Merity, Keskar & Socher 2017, "Regularizing and optimizing LSTM language models",
        arXiv:1708.02182.
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
        layer_norm: bool = False,
        recurrent_dropout: float = 0.0,
        zoneout: float | tuple[float, float] = 0.0,
        weight_drop: float = 0.0,
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
        factory = {"device": device, "dtype": dtype}
        self._make_parameters(factory)
        self.make_regularisers(
            layer_norm=layer_norm, recurrent_dropout=recurrent_dropout, zoneout=zoneout,
            weight_drop=weight_drop, factory=factory,
        )  # fmt: skip
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

    def step(
        self, input_projection: Tensor, state: LSTMState, masks: SequenceMasks | None = None
    ) -> LSTMState:
        """(h_t, c_t) from the projected input (B, G), (h_{t-1}, c_{t-1}) and the step's masks;
        no checks."""
        hidden_prev, cell_prev = state
        plain = masks is None and not self.changes_step  # the plain equations (the hot path)
        if plain:
            recurrent = F.linear(hidden_prev, self.weight_hh, self.bias_hh)  # W_h· h_{t-1} + b_h·
        else:  # (LN of) W̃_hh (m ⊙ h_{t-1}) + b_hh
            recurrent = self.recurrent_term(self.dropped(hidden_prev, masks), masks)
        gates = input_projection + recurrent  # (B, G)
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
        squashed = self._squash(cell if not self.layer_norm else self.normalised_cell(cell))
        hidden = output_gate * squashed  # h_t = o_t ⊙ tanh(c_t), or o_t ⊙ tanh(LN(c_t))
        if self.weight_hr is not None:
            hidden = F.linear(hidden, self.weight_hr)  # h_t = W_hr (o_t ⊙ tanh(c_t)), (B, P)
        if not plain and self.zoneout_pair != (0.0, 0.0):
            p_h, p_c = self.zoneout_pair
            keep_h, keep_c = (None, None) if masks is None else masks[1:3]  # d^h_t, d^c_t
            hidden = self.zone(hidden, hidden_prev, p_h, keep_h)  # h_t, zoneout
            cell = self.zone(cell, cell_prev, p_c, keep_c)  # c_t, zoneout
        return LSTMState(hidden=hidden, cell=cell)

    def normalised_cell(self, cell: Tensor) -> Tensor:
        """LN(c_t; g_c, b_c) over the H units (layer_norm=True)."""
        H = self.hidden_size
        return F.layer_norm(cell, (H,), self.gain_cell, self.bias_cell, eps=LAYER_NORM_EPS)

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
        return text + regulariser_repr(self)


__all__ = ["LSTMCell"]

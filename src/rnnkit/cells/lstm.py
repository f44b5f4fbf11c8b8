"""The LSTM cell, with peephole, projection and the gate variants of Greff et al. 2017.

References:
    https://doi.org/10.1162/neco.1997.9.8.1735 (Hochreiter & Schmidhuber 1997)
    https://doi.org/10.1162/089976600300015015 (Gers, Schmidhuber & Cummins 2000, forget gate)
    https://doi.org/10.1109/IJCNN.2000.861302 (Gers & Schmidhuber 2000, peepholes)
    https://arxiv.org/abs/1503.04069 (Greff et al. 2017, "LSTM: a search space odyssey":
        coupled input-forget gate and the variants NIG, NFG, NOG, NIAF, NOAF, NP, FGR)
    https://arxiv.org/abs/1402.1128 (Sak, Senior & Beaufays 2014, projection)
    https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html (parameter names and layout)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

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

GREFF_GATES = ("input", "forget", "output")  # the three σ gates, in the order of `weight_gg`


class LSTMGateState(NamedTuple):
    """State of an LSTM cell with full gate recurrence (Greff et al. 2017, FGR): h_t (B, H or P),
    c_t (B, H) and the gate activations i_t, f_t, o_t (B, H) that the next step reads."""

    hidden: Tensor
    cell: Tensor
    input_gate: Tensor
    forget_gate: Tensor
    output_gate: Tensor


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
        the linear LSTM of hand-worked lecture examples. `input_activation` (the tanh of c̃_t,
        Greff's g) and `output_activation` (the tanh of c_t, Greff's h) override `activation`
        for one of the two.

    The variants of Greff et al. 2017 ("LSTM: a search space odyssey", §3; their baseline V is
    this cell with peephole=True), each one argument:
    input_gate=False (NIG): i_t = 1, so c_t = f_t ⊙ c_{t-1} + c̃_t; no input-gate rows, no w_ci
    forget_gate=False (NFG): f_t = 1, so c_t = c_{t-1} + i_t ⊙ c̃_t (the 1997 LSTM); no rows, w_cf
    output_gate=False (NOG): o_t = 1, so h_t = tanh(c_t); no output-gate rows, no w_co
    input_activation="identity" (NIAF): c̃_t = W_ig x_t + b_ig + W_hg h_{t-1} + b_hg, linear
    output_activation="identity" (NOAF): h_t = o_t ⊙ c_t
    peephole=False (NP) against peephole=True (V); coupled_gates=True (CIFG) as above
    full_gate_recurrence=True (FGR): each gate also reads the previous step's gates through
        nine H × H matrices R_·· (Greff's eq. for FGR), stacked as `weight_gg` (3H, 3H):
        i_t = σ(… + R_ii i_{t-1} + R_fi f_{t-1} + R_oi o_{t-1}),  f_t and o_t alike,
        so the state carries (h_t, c_t, i_t, f_t, o_t) as `LSTMGateState` (gates 0 at t = 0);
        it needs all three gates (Greff adds it to V).
    recurrent_activation="relu" gives the "ReLU gates" of the lecture's question: gates in
    [0, ∞) no longer bound c_t, which σ's (0, 1) does.

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
        w_ci, w_cf, w_co diagonal peephole weights (vectors), W_hr the projection,
        R_·· the gate-to-gate matrices of FGR.

    Parameter layout: torch.nn.LSTM's. Gate rows are stacked i|f|g|o in `weight_ih` (4H, F),
    `weight_hh` (4H, H or P), `bias_ih`, `bias_hh` (4H,), plus `weight_hr` (P, H) when
    proj_size > 0, so a torch state_dict loads with `load_state_dict`. Peephole weights are
    `weight_ci`, `weight_cf`, `weight_co` (H,). With coupled_gates=True there is no input gate:
    rows are stacked f|g|o (3H) and there is no `weight_ci`; such a cell has no torch counterpart.
    Each gate removed by input_gate, forget_gate or output_gate=False likewise drops its H rows
    (in the order i|f|g|o of those left, `gate_names`) and its peephole weight. FGR adds
    `weight_gg` (3H, 3H), rows i|f|o receiving, columns i_{t-1}|f_{t-1}|o_{t-1} sent.
    Options torch lacks are None/absent in the state_dict when off.

    Shapes:
        x_t (B, F); hidden h_t (B, P if proj_size else H); cell c_t (B, H); FGR's gates (B, H).
        G = 4H stacked gate rows, minus H for each gate removed (3H with coupled_gates).

    Args:
        input_size: F, features of x_t.
        hidden_size: H, size of c_t (and of h_t without projection).
        bias: if False, no b_i· and b_h· (None), as in torch.
        proj_size: P, 0 for none; otherwise 0 < P < H, as torch.nn.LSTM requires.
        peephole: add the diagonal peephole connections w_ci, w_cf, w_co.
        coupled_gates: tie the input gate to the forget gate, i_t = 1 − f_t.
        activation: candidate and output squashing, one of "tanh", "sigmoid", "relu", "identity".
        recurrent_activation: gate function, one of the same names.
        input_gate: keep i_t (False: NIG, i_t = 1).
        forget_gate: keep f_t (False: NFG, f_t = 1).
        output_gate: keep o_t (False: NOG, o_t = 1).
        input_activation: squashing of c̃_t, None for `activation` ("identity": NIAF).
        output_activation: squashing of c_t in h_t, None for `activation` ("identity": NOAF).
        full_gate_recurrence: FGR, the gates read the previous step's gates.
        layer_norm: layer normalisation (adds gain_ih, gain_hh (G,), gain_cell, bias_cell (H,)).
        recurrent_dropout: p of the per-sequence dropout of h_{t-1} in the recurrence, [0, 1).
        zoneout: p, or (p_h, p_c), of keeping each unit's old h (and c), [0, 1].
        weight_drop: p of DropConnect on W_hh, [0, 1).
        device: where to create the parameters.
        dtype: dtype of the parameters.

    Returns:
        `forward(x_t, state)` returns LSTMState(hidden=h_t, cell=c_t), or with FGR
        LSTMGateState(hidden=h_t, cell=c_t, input_gate=i_t, forget_gate=f_t, output_gate=o_t).

    Raises:
        ConfigError: an option of the wrong type, or a contradictory set: coupled_gates with
            input_gate=False or forget_gate=False (i_t = 1 − f_t needs both), or FGR without
            all three gates.

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
        input_gate: bool = True,
        forget_gate: bool = True,
        output_gate: bool = True,
        input_activation: str | None = None,
        output_activation: str | None = None,
        full_gate_recurrence: bool = False,
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
        self._check_variants(
            peephole=peephole, coupled_gates=coupled_gates, input_gate=input_gate,
            forget_gate=forget_gate, output_gate=output_gate,
            full_gate_recurrence=full_gate_recurrence,
        )  # fmt: skip
        self.input_gate, self.forget_gate, self.output_gate = input_gate, forget_gate, output_gate
        self.full_gate_recurrence = full_gate_recurrence
        self.input_activation = check_choice(
            "input_activation", activation if input_activation is None else input_activation,
            ACTIVATIONS,
        )  # fmt: skip
        self.output_activation = check_choice(
            "output_activation", activation if output_activation is None else output_activation,
            ACTIVATIONS,
        )  # fmt: skip
        present = {
            "input": input_gate and not coupled_gates,
            "forget": forget_gate,
            "candidate": True,
            "output": output_gate,
        }
        self.gate_names = tuple(name for name, kept in present.items() if kept)  # i|f|g|o left
        self.gate_size = len(self.gate_names) * hidden_size  # G = 4H, less H per gate removed
        factory = {"device": device, "dtype": dtype}
        self._make_parameters(factory)
        self.make_regularisers(
            layer_norm=layer_norm, recurrent_dropout=recurrent_dropout, zoneout=zoneout,
            weight_drop=weight_drop, factory=factory,
        )  # fmt: skip
        if full_gate_recurrence:  # set after make_regularisers, which reads "has a cell" from it
            self.state_type = LSTMGateState
        self.reset_parameters()

    @staticmethod
    def _check_variants(**flags: Any) -> None:
        """ConfigError for a flag that is not a bool, or for a contradictory combination."""
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise ConfigError(
                    f"Received an invalid value for argument `{name}`, expected True or False, "
                    f"got {value!r}."
                )
        if flags["coupled_gates"] and not (flags["input_gate"] and flags["forget_gate"]):
            raise ConfigError(
                "coupled_gates=True (CIFG, i_t = 1 − f_t) contradicts input_gate=False (NIG, "
                "i_t = 1) and needs the forget gate; got "
                f"input_gate={flags['input_gate']}, forget_gate={flags['forget_gate']}."
            )
        gates = ("input_gate", "forget_gate", "output_gate")
        if flags["full_gate_recurrence"] and (
            flags["coupled_gates"] or not all(flags[name] for name in gates)
        ):
            raise ConfigError(
                "full_gate_recurrence=True (FGR, Greff et al. 2017) feeds i_{t-1}, f_{t-1}, "
                "o_{t-1} back to the gates and needs all three, uncoupled; got "
                + ", ".join(f"{name}={flags[name]}" for name in (*gates, "coupled_gates"))
                + "."
            )

    def _make_parameters(self, factory: dict) -> None:
        """Create the parameters in torch.nn.LSTM's layout (None for the options left off)."""
        H = self.hidden_size
        self.make_parameters(self.state_size, bias=self.bias, factory=factory)
        peep = {gate: self.peephole and gate in self.gate_names for gate in GREFF_GATES}
        optional = {
            "weight_hr": (self.proj_size, H) if self.proj_size else None,  # W_hr
            "weight_ci": (H,) if peep["input"] else None,  # w_ci
            "weight_cf": (H,) if peep["forget"] else None,  # w_cf
            "weight_co": (H,) if peep["output"] else None,  # w_co
            "weight_gg": (3 * H, 3 * H) if self.full_gate_recurrence else None,  # R_·· of FGR
        }
        for name, shape in optional.items():
            parameter = None if shape is None else nn.Parameter(torch.empty(shape, **factory))
            self.register_parameter(name, parameter)

    @property
    def _squash_input(self) -> Callable[[Tensor], Tensor]:
        """The tanh of c̃_t, looked up by name (a saved cell pickles no function)."""
        return ACTIVATIONS[self.input_activation]

    @property
    def _squash_output(self) -> Callable[[Tensor], Tensor]:
        """The tanh of c_t in h_t, looked up by name."""
        return ACTIVATIONS[self.output_activation]

    @property
    def is_torch_like(self) -> bool:
        """Whether the step computes torch.nn.LSTM's equations (σ gates i|f|g|o, tanh, no
        peephole, coupling, projection, removed gate or gate recurrence): the one condition
        under which `rnnkit.layers.fast` may run the fused torch-like LSTM row."""
        standard = (self.input_activation, self.output_activation, self.recurrent_activation)
        return (
            standard == ("tanh", "tanh", "sigmoid")
            and self.gate_names == ("input", "forget", "candidate", "output")
            and not (self.peephole or self.coupled_gates or self.proj_size)
            and not self.full_gate_recurrence
        )

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
        """h_0 = 0 (B, P or H) and c_0 = 0 (B, H), by default in the parameters' dtype/device;
        with FGR also i_0 = f_0 = o_0 = 0 (B, H)."""
        factory = {
            "dtype": dtype or self.weight_ih.dtype,
            "device": device or self.weight_ih.device,
        }
        hidden = torch.zeros(batch_size, self.state_size, **factory)
        fields = 2 + len(GREFF_GATES) if self.full_gate_recurrence else 2
        zeros = [torch.zeros(batch_size, self.hidden_size, **factory) for _ in range(1, fields)]
        return self.state_type(hidden, *zeros)  # c_0 (and i_0, f_0, o_0 with FGR)

    def step(
        self, input_projection: Tensor, state: LSTMState, masks: SequenceMasks | None = None
    ) -> LSTMState:
        """(h_t, c_t) from the projected input (B, G), (h_{t-1}, c_{t-1}) and the step's masks;
        no checks. With FGR the state also carries (i_t, f_t, o_t)."""
        hidden_prev, cell_prev = state[0], state[1]
        plain = masks is None and not self.changes_step  # the plain equations (the hot path)
        if plain:
            recurrent = F.linear(hidden_prev, self.weight_hh, self.bias_hh)  # W_h· h_{t-1} + b_h·
        else:  # (LN of) W̃_hh (m ⊙ h_{t-1}) + b_hh
            recurrent = self.recurrent_term(self.dropped(hidden_prev, masks), masks)
        gates = input_projection + recurrent  # (B, G)
        pre = dict(zip(self.gate_names, gates.chunk(len(self.gate_names), dim=-1), strict=True))
        if self.full_gate_recurrence:  # + R_i· i_{t-1} + R_f· f_{t-1} + R_o· o_{t-1}  (FGR)
            previous = torch.cat(tuple(state[2:]), dim=-1)  # [i_{t-1} f_{t-1} o_{t-1}] (B, 3H)
            terms = F.linear(previous, self.weight_gg).chunk(3, dim=-1)  # 3 × (B, H)
            for gate, term in zip(GREFF_GATES, terms, strict=True):
                pre[gate] = pre[gate] + term
        if self.peephole:
            if self.weight_ci is not None:
                pre["input"] = pre["input"] + self.weight_ci * cell_prev  # + w_ci ⊙ c_{t-1}
            if self.weight_cf is not None:
                pre["forget"] = pre["forget"] + self.weight_cf * cell_prev  # + w_cf ⊙ c_{t-1}
        candidate = self._squash_input(pre["candidate"])  # c̃_t (NIAF: linear)
        # A gate a variant removes is 1 and left out of the products (None here)
        forget_gate = self._gate(pre["forget"]) if self.forget_gate else None  # f_t (NFG: 1)
        if self.coupled_gates:
            input_gate = 1.0 - forget_gate  # i_t = 1 − f_t  (CIFG)
        else:
            input_gate = self._gate(pre["input"]) if self.input_gate else None  # i_t (NIG: 1)
        kept = cell_prev if forget_gate is None else forget_gate * cell_prev  # f_t ⊙ c_{t-1}
        written = candidate if input_gate is None else input_gate * candidate  # i_t ⊙ c̃_t
        cell = kept + written  # c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t
        squashed = self._squash_output(cell if not self.layer_norm else self.normalised_cell(cell))
        output_gate = None  # o_t = 1  (NOG)
        if self.output_gate:
            output_pre = pre["output"]
            if self.weight_co is not None:
                output_pre = output_pre + self.weight_co * cell  # + w_co ⊙ c_t
            output_gate = self._gate(output_pre)  # o_t
        # h_t = o_t ⊙ tanh(c_t) (NOAF: o_t ⊙ c_t; NOG: tanh(c_t)), or o_t ⊙ tanh(LN(c_t))
        hidden = squashed if output_gate is None else output_gate * squashed
        if self.weight_hr is not None:
            hidden = F.linear(hidden, self.weight_hr)  # h_t = W_hr (o_t ⊙ tanh(c_t)), (B, P)
        if not plain and self.zoneout_pair != (0.0, 0.0):
            p_h, p_c = self.zoneout_pair
            keep_h, keep_c = (None, None) if masks is None else masks[1:3]  # d^h_t, d^c_t
            hidden = self.zone(hidden, hidden_prev, p_h, keep_h)  # h_t, zoneout
            cell = self.zone(cell, cell_prev, p_c, keep_c)  # c_t, zoneout
        if self.full_gate_recurrence:  # it has all three gates (checked in __init__)
            return LSTMGateState(hidden, cell, input_gate, forget_gate, output_gate)
        return LSTMState(hidden=hidden, cell=cell)

    def normalised_cell(self, cell: Tensor) -> Tensor:
        """LN(c_t; g_c, b_c) over the H units (layer_norm=True)."""
        H = self.hidden_size
        return F.layer_norm(cell, (H,), self.gain_cell, self.bias_cell, eps=LAYER_NORM_EPS)

    def options(self) -> dict[str, Any]:
        """The keyword options that differ from their defaults: `LSTMCell(F, H, **options)`
        builds a cell of the same configuration (regularisers aside), and `extra_repr` shows
        them."""
        options = {
            "bias": (self.bias, True),
            "proj_size": (self.proj_size, 0),
            "peephole": (self.peephole, False),
            "coupled_gates": (self.coupled_gates, False),
            "activation": (self.activation, "tanh"),
            "recurrent_activation": (self.recurrent_activation, "sigmoid"),
            "input_gate": (self.input_gate, True),
            "forget_gate": (self.forget_gate, True),
            "output_gate": (self.output_gate, True),
            "input_activation": (self.input_activation, self.activation),
            "output_activation": (self.output_activation, self.activation),
            "full_gate_recurrence": (self.full_gate_recurrence, False),
        }
        return {name: value for name, (value, default) in options.items() if value != default}

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}, bias={self.bias}"
        for name, value in self.options().items():
            if name != "bias":
                text += f", {name}={value!r}"
        return text + regulariser_repr(self)


__all__ = ["GREFF_GATES", "LSTMCell", "LSTMGateState"]

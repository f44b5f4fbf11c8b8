"""The GRU cell in torch's reset-after form and in Cho et al.'s original reset-before form.

References:
    https://arxiv.org/abs/1406.1078 (Cho et al. 2014)
    https://pytorch.org/docs/stable/generated/torch.nn.GRU.html (parameter names, reset-after form)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.cells.base import RecurrentCell, RNNState, check_positive_int, regulariser_repr
from rnnkit.cells.init import reset_parameters
from rnnkit.cells.regularisers import SequenceMasks


class GRUCell(RecurrentCell):
    """One step of the gated recurrent unit.

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)       reset gate  (Cho et al. 2014)
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)       update gate
    reset_after=True (default; torch.nn.GRU and cuDNN): the reset scales the recurrent product
        n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))
    reset_after=False (Cho et al. 2014 as the lecture writes it, h̃ = tanh(W·[r ⊙ h_{t-1}, x_t])):
        n_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t-1}) + b_hn)
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    where
        x_t the input, h_{t-1} the previous state (zeros at t = 1), n_t (h̃_t in Cho et al.)
        the candidate state, σ the logistic sigmoid, ⊙ the element-wise product,
        W_i·, W_h· rows of weight_ih, weight_hh for · ∈ {r, z, n}, b_i·, b_h· the two biases.

    z_t is the fraction of the old state kept, as in Cho et al. and torch. Some texts (e.g.
    Chung et al. 2014) swap z_t and 1 − z_t, h_t = z_t ⊙ n_t + (1 − z_t) ⊙ h_{t-1}; the two
    conventions describe the same model with the update gate's sign flipped.

    Regularisers (keyword options, all off by default; masks as in `rnnkit.cells.regularisers`):
    layer_norm=True: the input pre-activations normalised over all 3H rows, the recurrent ones
        over all 3H rows with reset_after (reset-before: over the 2H rows of r, z, and the H of
        n on their own, as they are two products)  (Ba, Kiros & Hinton 2016)
        W_i· x_t + b_i· becomes LN(W_ih x_t; g_ih, b_ih),
        W_h· h_{t-1} + b_h· becomes LN(W_hh h_{t-1}; g_hh, b_hh),
        LN(a; g, b) = g ⊙ (a − mean(a)) / √(var(a) + ε) + b, the biases acting as the shifts
    recurrent_dropout=p: the h_{t-1} inside the products W_h· h_{t-1} (and W_hn (r_t ⊙ h_{t-1}))
        becomes m ⊙ h_{t-1}, one m per sequence; the z_t ⊙ h_{t-1} term keeps h_{t-1}
        (Gal & Ghahramani 2016); eval: m = 1
    weight_drop=p: W_hh becomes W̃_hh = M ⊙ W_hh / (1 − p), one M per forward pass
        (Wan et al. 2013; Merity et al. 2017); eval: W_hh
    zoneout=p: h_t = d_t ⊙ h_{t-1} + (1 − d_t) ⊙ ĥ_t, ĥ_t the h_t above, d_t ~ Bernoulli(p)
        per unit and step (Krueger et al. 2017); eval: h_t = p h_{t-1} + (1 − p) ĥ_t

    The two forms differ only when r_t ≠ 1 meets b_hn ≠ 0 or a W_hn that mixes units; they
    share parameters but give different numbers, so a model trained in one form must run in it.
    Parameters have torch.nn.GRUCell's names and layout: rows stacked r|z|n in `weight_ih`
    (3H, F), `weight_hh` (3H, H), `bias_ih`, `bias_hh` (3H,). With reset_after=True a torch
    state_dict loads with `load_state_dict` and gives torch's numbers.

    Shapes:
        x_t (B, F); h_{t-1}, h_t (B, H). G = 3H stacked gate rows.

    Args:
        input_size: F, features of x_t.
        hidden_size: H, size of h_t.
        bias: if False, no biases (None), as in torch.
        reset_after: where the reset gate acts (see above).
        layer_norm: normalise the pre-activations (adds gain_ih, gain_hh (3H,)).
        recurrent_dropout: p of the per-sequence dropout of h_{t-1} in the recurrence, [0, 1).
        zoneout: p of keeping each unit's h_{t-1}, [0, 1].
        weight_drop: p of DropConnect on W_hh, [0, 1).
        device: where to create the parameters.
        dtype: dtype of the parameters.

    Returns:
        `forward(x_t, state)` returns RNNState(hidden=h_t).

    Example (the time loop belongs to the caller):
        >>> import torch
        >>> cell = GRUCell(3, 4, reset_after=False)
        >>> x = torch.randn(10, 2, 3)  # (T, B, F)
        >>> state = cell.init_state(2)
        >>> for x_t in x:
        ...     state = cell(x_t, state)
        >>> state.hidden.shape  # (B, H)
        torch.Size([2, 4])

    References:
        Cho, van Merriënboer, Gulcehre, Bahdanau, Bougares, Schwenk & Bengio 2014, "Learning
        phrase representations using RNN encoder-decoder for statistical machine translation",
        EMNLP 2014.
        Chung, Gulcehre, Cho & Bengio 2014, "Empirical evaluation of gated recurrent neural
        networks on sequence modeling", NIPS 2014 Deep Learning Workshop.
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

    gate_names = ("reset", "update", "new")
    state_type = RNNState

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        bias: bool = True,
        reset_after: bool = True,
        layer_norm: bool = False,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        weight_drop: float = 0.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)  # F
        self.hidden_size = check_positive_int("hidden_size", hidden_size)  # H
        self.state_size = hidden_size  # H
        self.gate_size = 3 * hidden_size  # G = 3H
        self.bias = bias
        self.reset_after = reset_after
        factory = {"device": device, "dtype": dtype}
        self.make_parameters(hidden_size, bias=bias, factory=factory)
        self.make_regularisers(
            layer_norm=layer_norm, recurrent_dropout=recurrent_dropout, zoneout=zoneout,
            weight_drop=weight_drop, factory=factory,
        )  # fmt: skip
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(−1/√H, 1/√H) for every parameter, as torch (see `rnnkit.cells.init`)."""
        reset_parameters(self)

    def step(
        self, input_projection: Tensor, state: RNNState, masks: SequenceMasks | None = None
    ) -> RNNState:
        """h_t from the projected input (B, 3H), h_{t-1} (B, H) and the step's masks; no checks."""
        if masks is not None or self.changes_step:
            return self._regularised_step(input_projection, state, masks)
        hidden_prev = state.hidden
        H = self.hidden_size
        reset_in, update_in, new_in = input_projection.chunk(3, dim=-1)  # 3 × (B, H)
        if self.reset_after:
            recurrent = F.linear(hidden_prev, self.weight_hh, self.bias_hh)  # (B, 3H)
            reset_rec, update_rec, new_rec = recurrent.chunk(3, dim=-1)  # 3 × (B, H)
            reset_gate = torch.sigmoid(reset_in + reset_rec)  # r_t
            update_gate = torch.sigmoid(update_in + update_rec)  # z_t
            new = torch.tanh(new_in + reset_gate * new_rec)  # n_t, reset after W_hn h
        else:
            bias_rz = None if self.bias_hh is None else self.bias_hh[: 2 * H]
            bias_n = None if self.bias_hh is None else self.bias_hh[2 * H :]
            recurrent = F.linear(hidden_prev, self.weight_hh[: 2 * H], bias_rz)  # (B, 2H)
            reset_rec, update_rec = recurrent.chunk(2, dim=-1)  # 2 × (B, H)
            reset_gate = torch.sigmoid(reset_in + reset_rec)  # r_t
            update_gate = torch.sigmoid(update_in + update_rec)  # z_t
            new_rec = F.linear(reset_gate * hidden_prev, self.weight_hh[2 * H :], bias_n)
            new = torch.tanh(new_in + new_rec)  # n_t, reset before W_hn
        hidden = (1.0 - update_gate) * new + update_gate * hidden_prev  # h_t
        return RNNState(hidden)

    def _regularised_step(
        self, input_projection: Tensor, state: RNNState, masks: SequenceMasks | None
    ) -> RNNState:
        """The step with the regularisers of the class docstring (masks None: eval's step)."""
        hidden_prev = state.hidden
        H = self.hidden_size
        hidden_in = self.dropped(hidden_prev, masks)  # m ⊙ h_{t-1}
        reset_in, update_in, new_in = input_projection.chunk(3, dim=-1)  # 3 × (B, H)
        if self.reset_after:
            recurrent = self.recurrent_term(hidden_in, masks)  # (B, 3H)
            reset_rec, update_rec, new_rec = recurrent.chunk(3, dim=-1)  # 3 × (B, H)
            reset_gate = torch.sigmoid(reset_in + reset_rec)  # r_t
            update_gate = torch.sigmoid(update_in + update_rec)  # z_t
            new = torch.tanh(new_in + reset_gate * new_rec)  # n_t, reset after W_hn h
        else:
            recurrent = self.recurrent_term(hidden_in, masks, slice(0, 2 * H))  # (B, 2H)
            reset_rec, update_rec = recurrent.chunk(2, dim=-1)  # 2 × (B, H)
            reset_gate = torch.sigmoid(reset_in + reset_rec)  # r_t
            update_gate = torch.sigmoid(update_in + update_rec)  # z_t
            new_rec = self.recurrent_term(reset_gate * hidden_in, masks, slice(2 * H, 3 * H))
            new = torch.tanh(new_in + new_rec)  # n_t, reset before W_hn
        hidden = (1.0 - update_gate) * new + update_gate * hidden_prev  # ĥ_t
        mask = None if masks is None else masks.zoneout_hidden
        return RNNState(self.zone(hidden, hidden_prev, self.zoneout_pair[0], mask))  # h_t

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, bias={self.bias}, "
            f"reset_after={self.reset_after}"
        ) + regulariser_repr(self)


__all__ = ["GRUCell"]

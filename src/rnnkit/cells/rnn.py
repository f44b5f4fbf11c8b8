"""The Elman recurrent cell, h_t = φ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), φ tanh/relu/identity.

References:
    https://doi.org/10.1207/s15516709cog1402_1 (Elman 1990)
    https://pytorch.org/docs/stable/generated/torch.nn.RNNCell.html (parameter names and layout)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.cells.base import (
    ACTIVATIONS,
    RecurrentCell,
    RNNState,
    check_choice,
    check_positive_int,
    regulariser_repr,
)
from rnnkit.cells.init import reset_parameters
from rnnkit.cells.regularisers import SequenceMasks

NONLINEARITIES = ("tanh", "relu", "identity")


class ElmanCell(RecurrentCell):
    """One step of the Elman ("simple", "vanilla") recurrent network.

    h_t = φ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)  (Elman 1990)

    where
        x_t      input at step t,
        h_{t-1}  previous hidden state (zeros at t = 1),
        W_ih     input-to-hidden weights, W_hh hidden-to-hidden (recurrent) weights,
        b_ih, b_hh  biases (two, as torch keeps them; only their sum matters),
        φ        the `nonlinearity`: tanh, relu or identity (a linear RNN).

    Regularisers (keyword options, all off by default; masks as in `rnnkit.cells.regularisers`):
    layer_norm=True: both pre-activations normalised over their H units  (Ba et al. 2016)
        h̃_t = φ(LN(W_ih x_t; g_ih, b_ih) + LN(W_hh h_{t-1}; g_hh, b_hh)),
        LN(a; g, b) = g ⊙ (a − mean(a)) / √(var(a) + ε) + b, the biases acting as the shifts
    recurrent_dropout=p: W_hh h_{t-1} becomes W_hh (m ⊙ h_{t-1}), one m per sequence
        (Gal & Ghahramani 2016); eval: m = 1
    weight_drop=p: W_hh becomes W̃_hh = M ⊙ W_hh / (1 − p), one M per forward pass
        (Wan et al. 2013; Merity et al. 2017); eval: W_hh
    zoneout=p: h_t = d_t ⊙ h_{t-1} + (1 − d_t) ⊙ h̃_t, d_t ~ Bernoulli(p) per unit and step
        (Krueger et al. 2017); eval: h_t = p h_{t-1} + (1 − p) h̃_t
    where h̃_t is the h_t of the plain equation above.

    The parameters have exactly torch.nn.RNNCell's names and layout, so
    `cell.load_state_dict(torch.nn.RNNCell(...).state_dict())` copies a torch cell.

    Shapes:
        x_t (B, F); h_{t-1}, h_t (B, H); weight_ih (H, F), weight_hh (H, H), biases (H,).
        G = H (one block, `gate_names` = ("hidden",)).

    Args:
        input_size: F, features of x_t.
        hidden_size: H, size of h_t.
        bias: if False, b_ih and b_hh are absent (None), as in torch.
        nonlinearity: φ, one of "tanh", "relu", "identity".
        layer_norm: normalise both pre-activations (adds gain_ih, gain_hh (H,)).
        recurrent_dropout: p of the per-sequence dropout of h_{t-1} in the recurrence, [0, 1).
        zoneout: p of keeping each unit's h_{t-1}, [0, 1].
        weight_drop: p of DropConnect on W_hh, [0, 1).
        device: where to create the parameters.
        dtype: dtype of the parameters.

    Returns:
        `forward(x_t, state)` returns RNNState(hidden=h_t).

    Example (the time loop belongs to the caller):
        >>> import torch
        >>> cell = ElmanCell(3, 4)
        >>> x = torch.randn(10, 2, 3)  # (T, B, F)
        >>> state = cell.init_state(2)  # h_0 = 0, (B, H)
        >>> for x_t in x:
        ...     state = cell(x_t, state)
        >>> state.hidden.shape  # (B, H)
        torch.Size([2, 4])

    References:
        Elman 1990, "Finding structure in time", Cognitive Science 14(2):179-211.
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

    gate_names = ("hidden",)
    state_type = RNNState

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        bias: bool = True,
        nonlinearity: str = "tanh",
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
        self.gate_size = hidden_size  # G = H
        self.bias = bias
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
        factory = {"device": device, "dtype": dtype}
        self.make_parameters(hidden_size, bias=bias, factory=factory)
        self.make_regularisers(
            layer_norm=layer_norm, recurrent_dropout=recurrent_dropout, zoneout=zoneout,
            weight_drop=weight_drop, factory=factory,
        )  # fmt: skip
        self.reset_parameters()

    @property
    def _phi(self) -> Callable[[Tensor], Tensor]:
        """φ, looked up by its name: a saved cell pickles the name, never a function."""
        return ACTIVATIONS[self.nonlinearity]

    def reset_parameters(self) -> None:
        """U(−1/√H, 1/√H) for every parameter, as torch (see `rnnkit.cells.init`)."""
        reset_parameters(self)

    def step(
        self, input_projection: Tensor, state: RNNState, masks: SequenceMasks | None = None
    ) -> RNNState:
        """h_t from the projected input (B, H), h_{t-1} (B, H) and the step's masks; no checks."""
        if masks is None and not self.changes_step:  # the plain equation (the hot path)
            recurrent = F.linear(state.hidden, self.weight_hh, self.bias_hh)  # W_hh h_{t-1} + b_hh
            return RNNState(self._phi(input_projection + recurrent))  # h_t
        hidden_in = self.dropped(state.hidden, masks)  # m ⊙ h_{t-1}
        recurrent = self.recurrent_term(hidden_in, masks)  # (LN of) W̃_hh (m ⊙ h_{t-1}) + b_hh
        hidden = self._phi(input_projection + recurrent)  # h̃_t
        mask = None if masks is None else masks.zoneout_hidden
        return RNNState(self.zone(hidden, state.hidden, self.zoneout_pair[0], mask))  # h_t

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, bias={self.bias}, "
            f"nonlinearity={self.nonlinearity!r}"
        ) + regulariser_repr(self)


__all__ = ["NONLINEARITIES", "ElmanCell"]

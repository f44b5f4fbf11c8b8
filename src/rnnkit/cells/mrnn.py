"""The multiplicative RNN cell: each input picks its own recurrent matrix through m_t.

References:
    https://www.cs.utoronto.ca/~ilya/pubs/2011/LANG-RNN.pdf (Sutskever, Martens & Hinton 2011)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.cells.base import RecurrentCell, RNNState, check_positive_int
from rnnkit.cells.init import reset_parameters

if TYPE_CHECKING:
    from rnnkit.cells.regularisers import SequenceMasks


class MultiplicativeCell(RecurrentCell):
    """What the mRNN and the mLSTM share: the factor state m_t = (W_mx x_t) ⊙ (W_mh h_{t-1}).

    Subclasses set `gate_names`, `state_type` and `gate_size` (the rows of W_·x) and define the
    rest of `step`; the projected input is [W_·x x_t + b_ih | W_mx x_t], (…, gate_size + M).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        gate_size: int,
        *,
        multiplicative_size: int | None,
        bias: bool,
        factory: dict,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)  # F
        self.hidden_size = check_positive_int("hidden_size", hidden_size)  # H
        M = hidden_size if multiplicative_size is None else multiplicative_size
        self.multiplicative_size = check_positive_int("multiplicative_size", M)  # M
        self.state_size = hidden_size  # H
        self.gate_size = gate_size  # rows of weight_ih; the projection adds M
        self.bias = bias
        self.make_parameters(M, bias=bias, factory=factory)  # W_·x, W_·m, b_ih, b_hh
        self.weight_mx = nn.Parameter(torch.empty(M, input_size, **factory))  # W_mx
        self.weight_mh = nn.Parameter(torch.empty(M, hidden_size, **factory))  # W_mh
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(−1/√H, 1/√H) for every parameter, as the other cells (`rnnkit.cells.init`)."""
        reset_parameters(self)

    def project_input(self, x: Tensor) -> Tensor:
        """[W_·x x + b_ih | W_mx x] at every leading position: (…, F) -> (…, gate_size + M)."""
        gates_in = F.linear(x, self.weight_ih, self.bias_ih)  # W_·x x_t + b_ih
        factor_in = F.linear(x, self.weight_mx)  # W_mx x_t
        return torch.cat([gates_in, factor_in], dim=-1)

    def factor(self, input_projection: Tensor, hidden_prev: Tensor) -> tuple[Tensor, Tensor]:
        """(W_·x x_t + b_ih, W_·m m_t + b_hh), both (B, gate_size), from the projected input."""
        gates_in, factor_in = input_projection.split(
            [self.gate_size, self.multiplicative_size], dim=-1
        )  # (B, gate_size), (B, M)
        factor = factor_in * F.linear(hidden_prev, self.weight_mh)  # m_t, (B, M)
        return gates_in, F.linear(factor, self.weight_hh, self.bias_hh)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}, bias={self.bias}"
        if self.multiplicative_size != self.hidden_size:
            text += f", multiplicative_size={self.multiplicative_size}"
        return text


class MRNNCell(MultiplicativeCell):
    """One step of the multiplicative RNN (mRNN).

    m_t = (W_mx x_t) ⊙ (W_mh h_{t-1})                    (Sutskever, Martens & Hinton 2011)
    h_t = tanh(W_hx x_t + b_ih + W_hm m_t + b_hh)

    where
        x_t      input at step t, h_{t-1} previous hidden state (zeros at t = 1),
        m_t      the multiplicative (factor) state: each input gives its own recurrent matrix
                 W_hm diag(W_mx x_t) W_mh, a factored form of the tensor W_hh^(x_t),
        W_mx     input-to-factor weights `weight_mx` (M, F), W_mh factor weights `weight_mh` (M, H),
        W_hx     input-to-hidden weights `weight_ih` (H, F),
        W_hm     factor-to-hidden weights `weight_hh` (H, M) (the place of W_hh in an Elman cell),
        b_ih, b_hh  biases (two, as torch keeps them; only their sum b matters),
        ⊙        the element-wise product.

    Parameters: H(F + M) + 2H + M(F + H); with M = H (the default) that is 2H(F + H) + 2H, twice
    an Elman cell's weights. `project_input` computes both input products for all steps at once,
    so the projection is (…, H + M): W_hx x_t + b_ih, then W_mx x_t.

    Shapes:
        x_t (B, F); h_{t-1}, h_t (B, H); m_t (B, M); the projected input (B, H + M)
        (`gate_size` = H counts the rows of W_hx, as in an Elman cell).

    Args:
        input_size: F, features of x_t.
        hidden_size: H, size of h_t.
        multiplicative_size: M, size of m_t; None for M = H.
        bias: if False, b_ih and b_hh are absent (None).
        device: where to create the parameters.
        dtype: dtype of the parameters.

    Returns:
        `forward(x_t, state)` returns RNNState(hidden=h_t).

    Example (the time loop belongs to the caller):
        >>> import torch
        >>> cell = MRNNCell(3, 4, multiplicative_size=6)
        >>> x = torch.randn(10, 2, 3)  # (T, B, F)
        >>> state = cell.init_state(2)  # h_0 = 0, (B, H)
        >>> for x_t in x:
        ...     state = cell(x_t, state)
        >>> state.hidden.shape  # (B, H)
        torch.Size([2, 4])

    References:
        Sutskever, Martens & Hinton 2011, "Generating text with recurrent neural networks",
        ICML 2011.
    """

    gate_names = ("hidden",)
    state_type = RNNState

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        multiplicative_size: int | None = None,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        factory = {"device": device, "dtype": dtype}
        gate_size = hidden_size  # H: W_hx (H, F), W_hm (H, M)
        super().__init__(
            input_size, hidden_size, gate_size,
            multiplicative_size=multiplicative_size, bias=bias, factory=factory,
        )  # fmt: skip

    def step(
        self, input_projection: Tensor, state: RNNState, masks: SequenceMasks | None = None
    ) -> RNNState:
        """h_t from the projected input (B, H + M) and h_{t-1} (B, H); no checks (hot path).

        The mRNN has no regularisers, so `masks` (the protocol's) is always None and unused.
        """
        hidden_in, recurrent = self.factor(input_projection, state.hidden)  # W_hm m_t + b_hh
        return RNNState(torch.tanh(hidden_in + recurrent))  # h_t


__all__ = ["MRNNCell", "MultiplicativeCell"]

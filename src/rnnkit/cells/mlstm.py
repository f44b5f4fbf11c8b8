"""The multiplicative LSTM cell: the gates read x_t and m_t = (W_mx x_t) ⊙ (W_mh h_{t-1}).

References:
    https://arxiv.org/abs/1609.07959 (Krause, Lu, Murray & Renals 2016)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from rnnkit.cells.base import LSTMState
from rnnkit.cells.mrnn import MultiplicativeCell

if TYPE_CHECKING:
    from rnnkit.cells.regularisers import SequenceMasks


class MLSTMCell(MultiplicativeCell):
    """One step of the multiplicative LSTM (mLSTM), as Krause et al. write it.

    m_t = (W_mx x_t) ⊙ (W_mh h_{t-1})                    (Krause et al. 2016, from the mRNN)
    ĥ_t = W_hx x_t + b_ih,g + W_hm m_t + b_hh,g          candidate, linear (no tanh)
    i_t = σ(W_ix x_t + b_ih,i + W_im m_t + b_hh,i)       input gate
    f_t = σ(W_fx x_t + b_ih,f + W_fm m_t + b_hh,f)       forget gate
    o_t = σ(W_ox x_t + b_ih,o + W_om m_t + b_hh,o)       output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ ĥ_t
    h_t = tanh(c_t ⊙ o_t)                                output gate inside the tanh

    where
        x_t the input, h_{t-1} and c_{t-1} the previous hidden and cell state (zeros at t = 1),
        m_t the multiplicative state, which takes the place of h_{t-1} in every gate, so each
        input character picks its own recurrent transition (as in the mRNN, `MRNNCell`),
        σ the logistic sigmoid, ⊙ the element-wise product,
        W_·x rows of `weight_ih` (4H, F), W_·m rows of `weight_hh` (4H, M), stacked
        i|f|g|o as in torch.nn.LSTM (g = ĥ), W_mx `weight_mx` (M, F), W_mh `weight_mh` (M, H),
        b_ih, b_hh the two biases (4H,) (torch keeps two; only their sum matters).

    Unlike `LSTMCell` (and the mLSTM code of later papers, which keep the standard LSTM tail
    c̃_t = tanh(…), h_t = o_t ⊙ tanh(c_t)), Krause et al. leave the candidate linear and put the
    output gate inside the tanh; this cell follows the paper.

    Parameters: 4H(F + M) + 8H + M(F + H); with M = H (the default) 5H(F + H) + 8H, that is an
    LSTM's 4H(F + H) + 8H plus H(F + H). `project_input` computes both input products for all
    steps at once: the projection is (…, 4H + M), the gate inputs W_·x x_t + b_ih then W_mx x_t.

    Shapes:
        x_t (B, F); hidden h_t (B, H); cell c_t (B, H); m_t (B, M); the projected input
        (B, 4H + M) (`gate_size` = 4H counts the rows of W_·x, as in an LSTM cell).

    Args:
        input_size: F, features of x_t.
        hidden_size: H, size of h_t and c_t.
        multiplicative_size: M, size of m_t; None for M = H (the paper's choice).
        bias: if False, no b_ih and b_hh (None).
        device: where to create the parameters.
        dtype: dtype of the parameters.

    Returns:
        `forward(x_t, state)` returns LSTMState(hidden=h_t, cell=c_t).

    Example (the time loop belongs to the caller):
        >>> import torch
        >>> cell = MLSTMCell(3, 4)
        >>> x = torch.randn(10, 2, 3)  # (T, B, F)
        >>> state = cell.init_state(2)
        >>> for x_t in x:
        ...     state = cell(x_t, state)
        >>> state.hidden.shape, state.cell.shape  # (B, H), (B, H)
        (torch.Size([2, 4]), torch.Size([2, 4]))

    References:
        Krause, Lu, Murray & Renals 2016, "Multiplicative LSTM for sequence modelling",
        arXiv:1609.07959 (ICLR 2017 workshop track).
        Sutskever, Martens & Hinton 2011, "Generating text with recurrent neural networks",
        ICML 2011.
    """

    gate_names = ("input", "forget", "candidate", "output")
    state_type = LSTMState

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
        gate_size = 4 * hidden_size  # 4H: rows i|f|g|o of W_·x and W_·m
        super().__init__(
            input_size, hidden_size, gate_size,
            multiplicative_size=multiplicative_size, bias=bias, factory=factory,
        )  # fmt: skip

    def init_state(
        self,
        batch_size: int,
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> LSTMState:
        """h_0 = 0 and c_0 = 0, both (B, H), by default in the parameters' dtype and device."""
        hidden = super().init_state(batch_size, dtype=dtype, device=device).hidden
        return LSTMState(hidden=hidden, cell=torch.zeros_like(hidden))

    def step(
        self, input_projection: Tensor, state: LSTMState, masks: SequenceMasks | None = None
    ) -> LSTMState:
        """(h_t, c_t) from the projected input (B, 4H + M) and (h_{t-1}, c_{t-1}); no checks.

        The mLSTM has no regularisers, so `masks` (the protocol's) is always None and unused.
        """
        hidden_prev, cell_prev = state
        gates_in, recurrent = self.factor(input_projection, hidden_prev)  # W_·m m_t + b_hh
        gates = gates_in + recurrent  # (B, 4H)
        input_pre, forget_pre, candidate, output_pre = gates.chunk(4, dim=-1)  # 4 × (B, H); ĥ_t
        input_gate = torch.sigmoid(input_pre)  # i_t
        forget_gate = torch.sigmoid(forget_pre)  # f_t
        output_gate = torch.sigmoid(output_pre)  # o_t
        cell = forget_gate * cell_prev + input_gate * candidate  # c_t
        hidden = torch.tanh(cell * output_gate)  # h_t
        return LSTMState(hidden=hidden, cell=cell)


__all__ = ["MLSTMCell"]

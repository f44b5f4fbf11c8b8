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

from rnnkit.cells.base import ACTIVATIONS, RecurrentCell, RNNState, check_choice, check_positive_int
from rnnkit.cells.init import reset_parameters

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
        self.make_parameters(hidden_size, bias=bias, factory={"device": device, "dtype": dtype})
        self.reset_parameters()

    @property
    def _phi(self) -> Callable[[Tensor], Tensor]:
        """φ, looked up by its name: a saved cell pickles the name, never a function."""
        return ACTIVATIONS[self.nonlinearity]

    def reset_parameters(self) -> None:
        """U(−1/√H, 1/√H) for every parameter, as torch (see `rnnkit.cells.init`)."""
        reset_parameters(self)

    def step(self, input_projection: Tensor, state: RNNState) -> RNNState:
        """h_t from the projected input (B, H) and h_{t-1} (B, H); no checks (hot path)."""
        recurrent = F.linear(state.hidden, self.weight_hh, self.bias_hh)  # W_hh h_{t-1} + b_hh
        hidden = self._phi(input_projection + recurrent)  # h_t
        return RNNState(hidden)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, bias={self.bias}, "
            f"nonlinearity={self.nonlinearity!r}"
        )


__all__ = ["NONLINEARITIES", "ElmanCell"]

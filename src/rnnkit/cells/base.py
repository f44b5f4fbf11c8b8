"""Shape legend, recurrent states and the protocol every rnnkit cell follows.

A cell computes one time step and nothing else; the time loop belongs to the layer
(`rnnkit.layers.recurrent`). Every cell splits its step into two parts so the layer can hoist
the input projection of all time steps into one matrix product:

    a_t = W_ih x_t + b_ih            project_input: (…, F) -> (…, G)   any leading dims
    state_t = f(a_t, state_{t-1})    step: the recurrence, W_hh h_{t-1} + b_hh and the gates

`forward(x_t, state)` is `step(project_input(x_t), state)`.

Shape legend (used in every docstring and `# (B, T, H)` comment of rnnkit):
    B batch, T time steps, F input features, E embedding size, H hidden size,
    P projection size (LSTM `proj_size`), G stacked gate rows (e.g. 4H for LSTM),
    L layers, D directions (1 or 2), V vocabulary size, C classes.
The state of one step is (B, H); the state of a layer stack is (L·D, B, H) as in torch.nn.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Literal, NamedTuple

import torch
from torch import Tensor, nn

ActivationName = Literal["tanh", "sigmoid", "relu", "identity"]

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "identity": lambda x: x,
}


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

    Subclasses set `input_size`, `hidden_size`, `state_size` (size of `hidden`, H or P) and
    `gate_size` (G, rows of `weight_ih`), and implement `init_state`, `project_input`, `step`.
    """

    input_size: int
    hidden_size: int
    state_size: int
    gate_size: int

    @abstractmethod
    def init_state(
        self,
        batch_size: int,
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> State:
        """The zero state for a batch of `batch_size`."""

    @abstractmethod
    def project_input(self, x: Tensor) -> Tensor:
        """W_ih x + b_ih for every leading position: (…, F) -> (…, G)."""

    @abstractmethod
    def step(self, input_projection: Tensor, state: State) -> State:
        """One recurrence step from a projected input (B, G) and the previous state."""

    def forward(self, x_t: Tensor, state: State | None = None) -> State:
        """One time step: x_t (B, F) and the previous state (zeros if None) -> the new state."""
        if state is None:
            state = self.init_state(x_t.shape[0], dtype=x_t.dtype, device=x_t.device)
        return self.step(self.project_input(x_t), state)

"""Adaptive Computation Time (ACT): a wrapper that lets any rnnkit cell ponder several steps
per input, with a learned halting unit and a ponder cost (Graves 2016).

References:
    https://arxiv.org/abs/1603.08983 (Graves 2016, "Adaptive Computation Time for Recurrent
    Neural Networks", section 2, equations (1)-(14))
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.cells.base import LSTMState, RecurrentCell, State, check_positive_int
from rnnkit.errors import ConfigError, ShapeError

HALTING_BIAS = 1.0  # b_h at initialisation: σ(1) ≈ 0.73, so N(t) = 2 at the start of training


class ACTStep(NamedTuple):
    """What one ACT step returns.

    state:        s_t = Σ_n p^n_t s^n_t, the cell's state type, fields (B, ·).
    ponder_cost:  ρ_t = N(t) + R(t), (B,), differentiable through R(t).
    steps:        N(t), (B,) int64, the ponder steps taken (1 … max_ponder).
    halting:      p^n_t, (B, max_b N(t)), zero after a row's N(t); each row sums to 1.
    """

    state: State
    ponder_cost: Tensor
    steps: Tensor
    halting: Tensor


def check_epsilon(epsilon: float) -> float:
    """Return ε if it is a float in (0, 1), else raise ConfigError naming `epsilon`."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float):
        raise ConfigError(
            f"Received an invalid value for argument `epsilon`, expected a number in (0, 1), "
            f"got {epsilon!r}."
        )
    if not 0.0 < epsilon < 1.0:
        raise ConfigError(
            f"Received an invalid value for argument `epsilon`, expected 0 < epsilon < 1 "
            f"(the paper uses 0.01), got {epsilon!r}."
        )
    return float(epsilon)


class ACTCell(nn.Module):
    """One input step of an ACT network: the wrapped cell ponders N(t) steps on x_t.

    s^n_t = S(s^{n-1}_t, x^n_t),  s^0_t = s_{t-1}                       (Graves 2016, eq. 3)
    x^n_t = [x_t ; δ_{n,1}]   the input plus a flag that is 1 on the first ponder step only
    h^n_t = σ(W_h s^n_t + b_h)                                  halting unit  (eq. 5)
    N(t) = min{M, min{n' : Σ_{n=1}^{n'} h^n_t ≥ 1 − ε}}        ponder steps  (eq. 6, cap M)
    R(t) = 1 − Σ_{n=1}^{N(t)−1} h^n_t                            remainder  (eq. 7)
    p^n_t = R(t) if n = N(t), h^n_t if n < N(t)                 halting probabilities  (eq. 8)
    s_t = Σ_{n=1}^{N(t)} p^n_t s^n_t                              state  (eq. 9)
    y_t = Σ_{n=1}^{N(t)} p^n_t y^n_t                              output  (eq. 10)
    ρ_t = N(t) + R(t)                                            ponder cost  (eq. 11)

    where S is the wrapped cell, ε a small constant (0.01 in the paper) that lets N(t) = 1,
    M = `max_ponder` the upper limit on the steps, and σ the logistic sigmoid. The output y^n_t
    of an rnnkit cell is its hidden state, and a model's output layer y = W_y h + b_y is linear,
    so eq. (10) is that layer applied to the averaged hidden state of eq. (9). For an LSTM the
    state is (h, c): both are averaged, and the halting unit reads their concatenation [h; c].
    N(t) is a step function of the h^n_t, so gradients reach the halting unit only through
    R(t) in p^N_t and ρ_t: ∂ρ_t/∂h^n_t = −1 for n < N(t), 0 for n = N(t) (eq. 14).

    Batching: every row ponders its own N(t). All rows run each ponder step; a row that has
    halted gets p^n_t = 0 from then on, and the loop stops once every row has halted.
    b_h starts positive, at 1 (`halting_bias`), so that pondering starts short (N(t) = 2).
    The wrapped cell's random regularisers (recurrent dropout, zoneout, weight drop) are not
    supported; layer normalisation is.

    Shapes:
        x_t (B, F) with F = cell.input_size − 1 (the last input of the cell is the flag);
        state fields (B, state_size) as the wrapped cell's; halting weight (1, S) with
        S = state_size (+ hidden_size for an LSTM).

    Args:
        cell: the rnnkit cell S to wrap, built with input_size = F + 1.
        max_ponder: M, the most ponder steps per input (the paper uses 100).
        epsilon: ε in (0, 1).
        halting_bias: the initial b_h.

    Returns:
        `forward(x_t, state)` returns ACTStep(state, ponder_cost, steps, halting).

    Example:
        >>> from rnnkit.cells import ElmanCell
        >>> act = ACTCell(ElmanCell(3 + 1, 8), max_ponder=10)
        >>> out = act(torch.randn(2, 3))  # x_t (B, F)
        >>> out.state.hidden.shape, out.ponder_cost.shape, out.steps.dtype
        (torch.Size([2, 8]), torch.Size([2]), torch.int64)
        >>> bool(torch.allclose(out.halting.sum(1), torch.ones(2)))
        True

    References:
        Graves 2016, "Adaptive Computation Time for Recurrent Neural Networks",
        arXiv:1603.08983.
    """

    def __init__(
        self,
        cell: RecurrentCell,
        *,
        max_ponder: int = 100,
        epsilon: float = 0.01,
        halting_bias: float = HALTING_BIAS,
    ) -> None:
        super().__init__()
        if not isinstance(cell, RecurrentCell):
            raise ConfigError(
                f"Received an invalid value for argument `cell`, expected an rnnkit "
                f"RecurrentCell (e.g. ElmanCell, LSTMCell, GRUCell), got {type(cell).__name__}."
            )
        if cell.input_size < 2:
            raise ConfigError(
                f"ACTCell needs a cell with input_size = F + 1 ≥ 2 (the last input is the "
                f"first-step flag); got input_size={cell.input_size}. Build the cell with one "
                f"more input than x_t has."
            )
        if cell.recurrent_dropout or cell.weight_drop or any(cell.zoneout_pair):
            raise ConfigError(
                f"ACTCell does not support the wrapped cell's random regularisers (recurrent "
                f"dropout, zoneout, weight drop); got {cell!r}. Build the cell without them."
            )
        self.cell = cell
        self.max_ponder = check_positive_int("max_ponder", max_ponder)  # M
        self.epsilon = check_epsilon(epsilon)  # ε
        self.input_size = cell.input_size - 1  # F
        self.hidden_size = cell.hidden_size  # H
        self.state_size = cell.state_size
        self.state_type = cell.state_type
        features = cell.state_size + (cell.hidden_size if cell.state_type is LSTMState else 0)
        factory = {"dtype": cell.weight_ih.dtype, "device": cell.weight_ih.device}
        self.halting = nn.Linear(features, 1, **factory)  # W_h (1, S), b_h (1,)
        with torch.no_grad():
            self.halting.bias.fill_(halting_bias)  # b_h

    def init_state(
        self,
        batch_size: int,
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> State:
        """s_0 = 0, the wrapped cell's initial state."""
        return self.cell.init_state(batch_size, dtype=dtype, device=device)

    def project_input(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The cell's input projection of x^1 = [x; 1] and of x^n = [x; 0], n > 1: (…, F) ->
        two (…, G), for any leading dims (a layer hoists them for all t at once)."""
        flag = x.new_ones(*x.shape[:-1], 1)
        first = self.cell.project_input(torch.cat([x, flag], dim=-1))  # W_ih x^1_t + b_ih
        rest = self.cell.project_input(torch.cat([x, 0.0 * flag], dim=-1))  # W_ih x^n_t + b_ih
        return first, rest

    def halting_unit(self, state: State) -> Tensor:
        """h^n_t = σ(W_h s^n_t + b_h) of a state, (B,)."""
        features = torch.cat(list(state), dim=-1) if len(state) > 1 else state[0]  # (B, S)
        return torch.sigmoid(self.halting(features)).squeeze(-1)  # h^n_t

    def ponder(
        self, first: Tensor, rest: Tensor, state: State, active: Tensor | None = None
    ) -> ACTStep:
        """The ponder loop from the two projected inputs (B, G) and s_{t-1}; no checks.

        `active` (B,) bool marks the rows that take this step (a layer passes False on padded
        steps): the others keep s_{t-1} and get N(t) = 0, ρ_t = 0 and p^n_t = 0.
        """
        B = first.shape[0]
        threshold = 1.0 - self.epsilon  # 1 − ε
        cumulative = first.new_zeros(B)  # Σ_{n'<n} h^{n'}_t of the rows still pondering
        if active is None:
            running = torch.ones(B, dtype=torch.bool, device=first.device)
        else:
            running = active.to(first.device, torch.bool)
        previous = state
        steps = torch.zeros(B, dtype=torch.long, device=first.device)  # N(t)
        remainder = first.new_zeros(B)  # R(t)
        mean: list[Tensor] = [torch.zeros_like(field) for field in state]  # Σ p^n_t s^n_t
        probabilities: list[Tensor] = []
        for n in range(1, self.max_ponder + 1):
            state = self.cell.step(first if n == 1 else rest, state)  # s^n_t  (eq. 3)
            halt = self.halting_unit(state)  # h^n_t  (eq. 5)
            if n == self.max_ponder:
                stopping = running  # the cap M halts every row still pondering
            else:
                stopping = running & (cumulative + halt >= threshold)  # n = N(t)  (eq. 6)
            left = 1.0 - cumulative  # R(t) for the rows stopping now  (eq. 7)
            zero = torch.zeros_like(halt)
            p = torch.where(stopping, left, torch.where(running, halt, zero))  # p^n_t  (eq. 8)
            mean = [m + p.unsqueeze(-1) * field for m, field in zip(mean, state, strict=True)]
            probabilities.append(p)
            remainder = torch.where(stopping, left, remainder)
            steps = torch.where(stopping, torch.full_like(steps, n), steps)
            cumulative = cumulative + torch.where(running & ~stopping, halt, zero)
            running = running & ~stopping
            if not bool(running.any()):
                break  # every row has halted
        ponder_cost = steps.to(remainder.dtype) + remainder  # ρ_t = N(t) + R(t)  (eq. 11)
        halting = torch.stack(probabilities, dim=1)  # (B, max N(t))
        if active is not None:  # rows that took no step keep s_{t-1}
            keep = ~active.to(first.device, torch.bool).unsqueeze(-1)  # (B, 1)
            mean = [torch.where(keep, old, new) for old, new in zip(previous, mean, strict=True)]
        return ACTStep(self.state_type(*mean), ponder_cost, steps, halting)  # s_t  (eq. 9)

    def forward(self, x_t: Tensor, state: State | None = None) -> ACTStep:
        """One input step: x_t and s_{t-1} (zeros if None) -> ACTStep(s_t, ρ_t, N(t), p^n_t).

        Shapes:
            x_t (B, F); state fields (B, state_size) (and (B, H) for an LSTM's cell).

        Raises:
            ShapeError: x_t is not (B, F), or the state does not match the cell.
        """
        name = type(self).__name__
        if x_t.dim() != 2 or x_t.shape[1] != self.input_size:
            raise ShapeError(
                f"{name} input x_t must be (B, {self.input_size}); got {tuple(x_t.shape)}. The "
                f"wrapped cell has input_size F + 1 = {self.cell.input_size} (the flag is added "
                f"here)."
            )
        flagged = x_t.new_zeros(x_t.shape[0], self.cell.input_size)
        self.cell.check_step_input(flagged, state)
        if state is None:
            state = self.init_state(x_t.shape[0], dtype=x_t.dtype, device=x_t.device)
        return self.ponder(*self.project_input(x_t), state)

    def extra_repr(self) -> str:
        return f"max_ponder={self.max_ponder}, epsilon={self.epsilon}"


def ponder_penalty(ponder_cost: Tensor, tau: float, *, batch_first: bool = False) -> Tensor:
    """τ P(x), the term ACT adds to the task loss, averaged over the batch.

    P(x) = Σ_t ρ_t                 total ponder cost of a sequence  (Graves 2016, eq. 12)
    L̂(x, y) = L(x, y) + τ P(x)    the loss ACT minimises  (eq. 13)

    Shapes:
        ponder_cost (B,) for one step, or (T, B) ((B, T) with batch_first) with zeros on
        padded steps; returns a scalar.

    Raises:
        ConfigError: τ is negative or not finite.
    """
    if isinstance(tau, bool) or not isinstance(tau, int | float) or not 0 <= tau < math.inf:
        raise ConfigError(
            f"Received an invalid value for argument `tau`, expected a finite τ ≥ 0, got {tau!r}."
        )
    if ponder_cost.dim() == 2:
        ponder_cost = ponder_cost.sum(dim=1 if batch_first else 0)  # P(x), (B,)
    return tau * ponder_cost.mean()


__all__ = ["HALTING_BIAS", "ACTCell", "ACTStep", "check_epsilon", "ponder_penalty"]

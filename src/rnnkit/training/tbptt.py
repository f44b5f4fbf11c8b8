"""Truncated backpropagation through time, BPTT(k1, k2): update every k1 steps, look back k2.

Full BPTT runs the whole sequence forward and backpropagates through all T steps, so memory
grows with T and the weights change once per sequence. Truncated BPTT (Williams & Peng 1990)
runs forward k1 steps at a time, and after each k1 steps backpropagates the loss of those k1
outputs through the last k2 ≥ k1 steps only; the hidden state carries on across chunks but
gradients stop at the truncation point:

    h_s ← detach(h_s)                             state k2 steps back, a constant
    L_j = (1/k1) Σ_{t ∈ (τ_j − k1, τ_j]} L_t       loss of the k1 newest outputs
    ∂L_j/∂θ = Σ_{t = τ_j − k2 + 1}^{τ_j} ∂L_j/∂h_t · ∂h_t/∂θ   only the last k2 steps
    θ ← θ − η ∂L_j/∂θ

where τ_j = j·k1 is the end of chunk j and L_t the loss at step t. Here every window is re-run
forward from the detached state saved at its start s_j = max(0, τ_j − k2), with the current θ,
and scored only on its last k1 steps; the state at s_{j+1} is saved (detached) for the next
window. With k1 = k2 this is the common "detach every k1 steps" loop, the saved state is the
window's final state and nothing is re-run.

References:
    Williams & Peng 1990, "An efficient gradient-based algorithm for on-line training of
    recurrent network trajectories", Neural Computation 2(4)
    Sutskever 2013, "Training recurrent neural networks", PhD thesis, §2.8.6 (BPTT(k1, k2))
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn

from rnnkit.training.objective import Objective, StepResult
from rnnkit.training.tensor_trees import detach_state


class Window(NamedTuple):
    """One update of truncated BPTT over steps [start, stop) of a batch."""

    start: int  # s_j, first step re-run from the saved state
    stop: int  # τ_j, one past the last step
    loss_from: int  # first scored step, counted from `start`
    carry: int  # s_{j+1}, the step whose state the next window starts from


def plan_windows(num_steps: int, k1: int, k2: int) -> list[Window]:
    """The windows of BPTT(k1, k2) over `num_steps` steps; the last chunk may be shorter.

    Example:
        >>> plan_windows(7, 2, 3)  # doctest: +NORMALIZE_WHITESPACE
        [Window(start=0, stop=2, loss_from=0, carry=1),
         Window(start=1, stop=4, loss_from=1, carry=3),
         Window(start=3, stop=6, loss_from=1, carry=4),
         Window(start=4, stop=7, loss_from=2, carry=7)]
    """
    stops = [*range(k1, num_steps, k1), num_steps]  # τ_j
    starts = [max(0, stop - k2) for stop in stops]  # s_j = max(0, τ_j − k2)
    windows = []
    for j, stop in enumerate(stops):
        chunk_start = stops[j - 1] if j else 0  # τ_j − k1
        carry = starts[j + 1] if j + 1 < len(stops) else num_steps
        windows.append(Window(starts[j], stop, chunk_start - starts[j], carry))
    return windows


def run_window(
    objective: Objective, model: nn.Module, batch: Any, state: Any, window: Window
) -> tuple[StepResult, Any]:
    """Forward one window from its saved `state`; returns its result and the next saved state.

    The result's loss covers the last k1 steps and is still attached to the graph (the caller
    backpropagates it). The next state h_{s_{j+1}} is detached; when it lies inside the window
    it comes from a forward pass without gradients over [s_j, s_{j+1}) with the same weights.
    """
    piece = objective.slice_time(batch, window.start, window.stop)
    result = objective.loss(model, piece, state, loss_from=window.loss_from)
    if window.carry == window.stop:
        return result, detach_state(result.state)
    if window.carry == window.start:
        return result, state
    with torch.no_grad():
        context = objective.slice_time(batch, window.start, window.carry)
        next_state = objective.loss(model, context, state).state
    return result, detach_state(next_state)

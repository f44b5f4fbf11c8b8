"""The Pascanu, Mikolov & Bengio (2013) regulariser Ω, which keeps gradients from vanishing.

References:
    https://arxiv.org/abs/1211.5063 (Pascanu, Mikolov & Bengio 2013, section 3.3, eq. 9)

With δ_t = ∂L/∂h_t, one step of back-propagation maps δ_{t+1} to δ_{t+1} · ∂h_{t+1}/∂h_t.
Ω penalises every step that changes the norm of what it carries back (eq. 9):

    Ω = Σ_t ( ‖δ_{t+1} · ∂h_{t+1}/∂h_t‖ / ‖δ_{t+1}‖ − 1 )²,    t = 0…T−1

As in the paper, δ_{t+1} is treated as a constant (detached) and only the Jacobian
∂h_{t+1}/∂h_t is differentiated, so ∂Ω/∂W_hh pushes each ratio toward 1: the Jacobians then
preserve the norm of the error signal in the directions it actually takes.
The row vector δ_{t+1} · ∂h_{t+1}/∂h_t is a vector-Jacobian product, computed by
`torch.autograd.grad(h_{t+1}, h_t, grad_outputs=δ_{t+1}, create_graph=True)` without forming
the Jacobian.

Choices made here (the paper leaves them open):
    - Batches: the ratio is taken per sample b and averaged over the batch,
      Ω = Σ_t mean_b ( ‖δ_{t+1,b} J_{t+1,b}‖ / ‖δ_{t+1,b}‖ − 1 )², so each sample's ratio is a
      property of its own Jacobian and one sample with a large δ does not dominate.
    - ‖δ_{t+1,b}‖ = 0 (L does not depend on h_{t+1} for that sample): the ratio is undefined and
      that sample's term is skipped; the mean runs over the remaining samples of step t, and a
      step where every sample is skipped adds 0.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from rnnkit.cells.base import RecurrentCell, RNNState
from rnnkit.errors import ConfigError, ShapeError


def _step_term(hidden_next: Tensor, hidden: Tensor, delta: Tensor) -> Tensor:
    """mean_b (‖δ_b J_b‖ / ‖δ_b‖ − 1)² over samples with δ_b ≠ 0, for one step; 0 if none."""
    (carried,) = torch.autograd.grad(
        hidden_next, hidden, grad_outputs=delta, create_graph=True
    )  # δ_{t+1} · ∂h_{t+1}/∂h_t, (B, H)
    delta_norm = torch.linalg.vector_norm(delta, dim=-1)  # ‖δ_{t+1,b}‖, (B,)
    valid = delta_norm > 0  # skip samples where the ratio is undefined
    ratio = torch.linalg.vector_norm(carried, dim=-1) / torch.where(valid, delta_norm, 1.0)
    squared = torch.where(valid, (ratio - 1.0) ** 2, 0.0)  # (‖δJ‖/‖δ‖ − 1)², (B,)
    return squared.sum() / valid.sum().clamp(min=1)


def pascanu_regulariser(hidden_states: list[Tensor], grads: list[Tensor]) -> Tensor:
    """Ω = Σ_t mean_b ( ‖δ_{t+1} · ∂h_{t+1}/∂h_t‖ / ‖δ_{t+1}‖ − 1 )²  (Pascanu et al. 2013, eq. 9).

    δ_{t+1} = ∂L/∂h_{t+1} is a constant; Ω is differentiable in whatever h_{t+1} was computed
    from (W_hh, …) through the vector-Jacobian products, taken with create_graph=True.

    Shapes:
        hidden_states: T + 1 tensors (B, H), h_0…h_T, each h_{t+1} computed from h_t in the
        graph (h_0 must require grad). grads: T + 1 tensors (B, H), grads[t] = ∂L/∂h_t,
        aligned with hidden_states; grads[0] is not used. Returns a scalar.

    Args:
        hidden_states: the hidden states of one time loop, kept in the graph.
        grads: ∂L/∂h_t for each state, detached (detached here again if not).

    Returns:
        Ω, a 0-dim tensor; 0 for T = 0.

    Raises:
        ShapeError: the lists differ in length or a gradient's shape differs from its state's.

    Example:
        >>> h0 = torch.zeros(2, 3, requires_grad=True)
        >>> h1 = 0.5 * h0  # ∂h_1/∂h_0 = I/2, so every ratio is 0.5
        >>> float(pascanu_regulariser([h0, h1], [torch.ones(2, 3), torch.ones(2, 3)]))  # (0.5 − 1)²
        0.25
    """
    if len(hidden_states) != len(grads):
        raise ShapeError(
            f"pascanu_regulariser needs one gradient per hidden state (h_0…h_T); got "
            f"{len(hidden_states)} states and {len(grads)} gradients. Align grads[t] = ∂L/∂h_t."
        )
    for t, (hidden, grad) in enumerate(zip(hidden_states, grads, strict=True)):
        if hidden.shape != grad.shape:
            raise ShapeError(
                f"pascanu_regulariser: grads[{t}] must have the shape of h_{t}, "
                f"{tuple(hidden.shape)}; got {tuple(grad.shape)}."
            )
    omega = hidden_states[0].new_zeros(())
    with torch.enable_grad():
        for t in range(len(hidden_states) - 1):
            delta = grads[t + 1].detach()  # δ_{t+1}, a constant as in the paper
            omega = omega + _step_term(hidden_states[t + 1], hidden_states[t], delta)
    return omega


def _run_cell(cell: RecurrentCell, x: Tensor) -> list[Tensor]:
    """h_0…h_T of `cell` over x (T, B, F), with h_0 = 0 a leaf that requires grad."""
    state = cell.init_state(x.shape[1], dtype=x.dtype, device=x.device)
    hidden0 = state.hidden.detach().requires_grad_(True)  # h_0 in the graph, for ∂h_1/∂h_0
    state = RNNState(hidden0)
    hiddens = [hidden0]
    for projection in cell.project_input(x).unbind(0):  # T × (B, G)
        state = cell.step(projection, state)
        hiddens.append(state.hidden)  # h_t, (B, H)
    return hiddens


def regularised_run(
    cell: RecurrentCell, x: Tensor, loss_fn: Callable[[Tensor], Tensor], weight: float
) -> tuple[Tensor, Tensor, Tensor]:
    """Run `cell` over x and return (L + weight·Ω, L, Ω), ready for `.backward()`.

    L = loss_fn(h_1…h_T); δ_t = ∂L/∂h_t is the total derivative from one `autograd.grad`
    (through every later step), detached; Ω is `pascanu_regulariser` of the loop's states.
    Only cells whose state is h alone (Elman, GRU) are supported: for an LSTM ∂h_{t+1}/∂h_t
    would ignore the path through c_t.

    Shapes:
        x (T, B, F); `loss_fn` receives the outputs h_1…h_T stacked as (T, B, H) and returns a
        scalar. Returns three scalars.

    Args:
        cell: an rnnkit cell with `RNNState` (ElmanCell, GRUCell), starting from h_0 = 0.
        x: the input sequence, time first.
        loss_fn: maps the outputs to the scalar loss L.
        weight: the weight λ ≥ 0 of Ω in the total L + λΩ.

    Returns:
        (L + weight·Ω, L, Ω), all in the graph of the cell's parameters.

    Raises:
        ConfigError: the cell's state is not RNNState, or weight is negative.
        ShapeError: x is not (T, B, F) with the cell's input size.

    Example:
        >>> from rnnkit.cells import ElmanCell
        >>> total, loss, omega = regularised_run(
        ...     ElmanCell(3, 4), torch.randn(5, 2, 3), lambda y: y.pow(2).mean(), weight=0.1
        ... )
        >>> bool(torch.isclose(total, loss + 0.1 * omega))
        True
    """
    if cell.state_type is not RNNState:
        raise ConfigError(
            f"regularised_run needs a cell whose state is h alone (ElmanCell, GRUCell); got "
            f"{type(cell).__name__} with {cell.state_type.__name__}. For an LSTM use "
            f"rnnkit.analysis.jacobian on the full state (h, c)."
        )
    if weight < 0:
        raise ConfigError(f"regularised_run weight must be ≥ 0; got {weight}.")
    if x.dim() != 3 or x.shape[-1] != cell.input_size:
        raise ShapeError(
            f"regularised_run input must be (T, B, F) with F = {cell.input_size}; got "
            f"{tuple(x.shape)}. Transpose a batch-first input with x.transpose(0, 1)."
        )
    with torch.enable_grad():
        hiddens = _run_cell(cell, x)
        loss = loss_fn(torch.stack(hiddens[1:]))  # L from (T, B, H)
        grads = torch.autograd.grad(loss, hiddens, retain_graph=True, allow_unused=True)
        grads = [
            torch.zeros_like(h) if g is None else g.detach()
            for h, g in zip(hiddens, grads, strict=True)
        ]
        omega = pascanu_regulariser(hiddens, grads)
    return loss + weight * omega, loss, omega


__all__ = ["pascanu_regulariser", "regularised_run"]

"""The Pascanu, Mikolov & Bengio (2013) regulariser Ω, which keeps gradients from vanishing.

References:
    https://arxiv.org/abs/1211.5063 (Pascanu, Mikolov & Bengio 2013, section 3.3, eq. 9)

With δ_t = ∂L/∂h_t, one step of back-propagation maps δ_{t+1} to δ_{t+1} · ∂h_{t+1}/∂h_t.
Ω penalises every step that changes the norm of what it carries back (eq. 9):

    Ω = Σ_t ( ‖δ_{t+1} · ∂h_{t+1}/∂h_t‖ / ‖δ_{t+1}‖ − 1 )²,    t = 0…T−1

As in the paper, δ_{t+1} is treated as a constant (detached) and only the Jacobian
∂h_{t+1}/∂h_t is differentiated, so ∂Ω/∂W_hh pushes each ratio toward 1: the Jacobians then
preserve the norm of the error signal in the directions it actually takes.

Two gradients of the same Ω are offered. The paper (eq. 10) takes immediate partial
derivatives ∂⁺, holding h_t constant as well: `tape_regulariser` and `PascanuObjective` (the
trainer's loss term) do that, re-running every step from a detached h_t in one batch.
`pascanu_regulariser` on a connected loop (`regularised_run`) also differentiates through
h_t's own dependence on the weights (the total derivative). Both are checked by gradcheck.
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
from typing import Any

import torch
from torch import Tensor, nn

from rnnkit.analysis.tape import CellSteps, record_steps
from rnnkit.cells.base import RecurrentCell, RNNState
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.training.objective import Objective, StepResult


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
    _check_rnn_state(cell, "regularised_run")
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


def _check_rnn_state(cell: RecurrentCell, where: str) -> None:
    if cell.state_type is not RNNState:
        raise ConfigError(
            f"{where} needs cells whose state is h alone (ElmanCell, GRUCell); got "
            f"{type(cell).__name__} with {cell.state_type.__name__}. For an LSTM use "
            f"rnnkit.analysis.jacobian on the full state (h, c)."
        )


def _cell_regulariser(steps: CellSteps, deltas: list[Tensor]) -> Tensor:
    """Ω of one cell's recorded steps, all steps in one batched vector-Jacobian product.

    Step t is recomputed as h̃_{t+1} = step(W_ih x_{t+1} + b, h̃_t) from a detached copy h̃_t of
    h_t, on a batch of T·B rows; rows are independent, so one `autograd.grad` with
    grad_outputs δ_{t+1} gives δ_{t+1} · ∂h_{t+1}/∂h_t for every t at once, in the graph of
    the cell's parameters (create_graph=True). Terms as in `pascanu_regulariser`.
    """
    previous = torch.stack([state.hidden for state in steps.previous]).detach()  # h_t (T, B, H)
    previous.requires_grad_(True)
    projected = torch.stack(steps.projections)  # (T, B, G)
    rows = previous.shape[0] * previous.shape[1]
    recomputed = steps.cell.step(projected.reshape(rows, -1), RNNState(previous.view(rows, -1)))
    delta = torch.stack(deltas).detach()  # δ_{t+1}, (T, B, H), a constant as in the paper
    (carried,) = torch.autograd.grad(
        recomputed.hidden, previous, grad_outputs=delta.view(rows, -1), create_graph=True
    )  # δ_{t+1} · ∂h_{t+1}/∂h_t, (T, B, H)
    delta_norm = torch.linalg.vector_norm(delta, dim=-1)  # (T, B)
    valid = delta_norm > 0
    ratio = torch.linalg.vector_norm(carried, dim=-1) / torch.where(valid, delta_norm, 1.0)
    squared = torch.where(valid, (ratio - 1.0) ** 2, 0.0)  # (T, B)
    return (squared.sum(dim=1) / valid.sum(dim=1).clamp(min=1)).sum()  # Σ_t mean_b


def tape_regulariser(tape: list[CellSteps], loss: Tensor) -> Tensor:
    """Ω summed over every cell of a recorded forward pass (`rnnkit.analysis.tape`).

    δ_t = ∂L/∂h_t for every recorded h_t comes from one `autograd.grad` (the graph is kept for
    the caller's backward); then each cell's Ω is one batched vector-Jacobian product
    (`_cell_regulariser`). Equal to `pascanu_regulariser` of each cell's own loop.

    Raises:
        ConfigError: a recorded cell's state is not h alone (an LSTM).
    """
    for steps in tape:
        _check_rnn_state(steps.cell, "the Pascanu regulariser")
    recorded = [steps for steps in tape if steps.states]
    hiddens = [state.hidden for steps in recorded for state in steps.states]
    if not hiddens:
        return loss.new_zeros(())
    deltas = torch.autograd.grad(loss, hiddens, retain_graph=True, allow_unused=True)
    deltas = [torch.zeros_like(h) if d is None else d for h, d in zip(hiddens, deltas, strict=True)]
    omega, start = loss.new_zeros(()), 0
    for steps in recorded:
        count = len(steps.states)
        omega = omega + _cell_regulariser(steps, deltas[start : start + count])
        start += count
    return omega


class PascanuObjective(Objective):
    """An objective plus λ·Ω: the Pascanu et al. (2013) regulariser as a loss term of the trainer.

    L_total = L + λ Ω, Ω over every step of every Elman/GRU cell of the model (any rnnkit
    layer, drop-in layers included: they run their cells' own steps while recorded). Ω is
    added only where gradients are taken; evaluation reports the base loss. The last Ω is kept
    in `last_omega` for logging.

    Args:
        base: the task's objective, whose loss is regularised.
        weight: λ ≥ 0.

    Example:
        >>> from rnnkit.layers import RNN
        >>> class LastStep(Objective):
        ...     def loss(self, model, batch, state, *, loss_from=0):
        ...         outputs, _ = model(batch)
        ...         return StepResult(outputs[-1].pow(2).mean(), batch.shape[1])
        >>> objective = PascanuObjective(LastStep(), weight=0.5)
        >>> result = objective.loss(RNN(3, 4), torch.randn(6, 2, 3), None)
        >>> bool(torch.isclose(result.loss, objective.last_base + 0.5 * objective.last_omega))
        True
    """

    def __init__(self, base: Objective, weight: float) -> None:
        if weight < 0:
            raise ConfigError(f"PascanuObjective weight λ must be ≥ 0; got {weight}.")
        self.base, self.weight = base, float(weight)
        self.carry_state = base.carry_state
        self.unit = base.unit  # throughput and plots count the base objective's units
        self.loss_name, self.loss_unit = f"{base.loss_name} + λΩ", base.loss_unit
        self.last_omega: Tensor | None = None
        self.last_base: Tensor | None = None

    def loss(self, model: nn.Module, batch: Any, state: Any, *, loss_from: int = 0) -> StepResult:
        """The base loss plus λ·Ω of the steps the model ran for this batch."""
        if self.weight == 0.0 or not torch.is_grad_enabled():
            return self.base.loss(model, batch, state, loss_from=loss_from)
        with record_steps(model) as tape:
            result = self.base.loss(model, batch, state, loss_from=loss_from)
        omega = tape_regulariser(tape, result.loss)
        self.last_base, self.last_omega = result.loss.detach(), omega.detach()
        return result._replace(loss=result.loss + self.weight * omega)

    def evaluate(self, model: nn.Module, batches: Any) -> dict[str, float]:
        """The base objective's metrics (no Ω)."""
        return self.base.evaluate(model, batches)

    def time_length(self, batch: Any) -> int:
        """As the base objective."""
        return self.base.time_length(batch)

    def slice_time(self, batch: Any, start: int, stop: int) -> Any:
        """As the base objective."""
        return self.base.slice_time(batch, start, stop)


__all__ = ["PascanuObjective", "pascanu_regulariser", "regularised_run", "tape_regulariser"]

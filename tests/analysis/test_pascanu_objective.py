"""Ω from the step tape (batched) and as a trainer objective, against the per-step reference."""

from __future__ import annotations

import pytest
import torch

from rnnkit.analysis.regulariser import (
    PascanuObjective,
    _cell_regulariser,
    _run_cell,
    pascanu_regulariser,
    regularised_run,
    tape_regulariser,
)
from rnnkit.analysis.tape import record_steps
from rnnkit.cells import ElmanCell, GRUCell
from rnnkit.cells.base import RNNState
from rnnkit.errors import ConfigError
from rnnkit.layers import GRU, LSTM, RNN, Recurrent
from rnnkit.training.objective import Objective, StepResult

F_IN, H, B, T = 3, 5, 4, 6


def _loss(outputs: torch.Tensor) -> torch.Tensor:
    return (torch.sin(outputs) * outputs).sum()


class _SequenceLoss(Objective):
    """L = _loss(outputs) of a (T, B, F) batch; the model is any rnnkit layer, time-major."""

    def loss(self, model, batch, state, *, loss_from=0):
        outputs, _ = model(batch)
        return StepResult(_loss(outputs), batch.shape[1])


def _immediate_reference(cell, x) -> torch.Tensor:
    """Ω with immediate partial derivatives ∂⁺ (Pascanu et al. 2013, eq. 10), step by step.

    Each term re-runs step t from a detached h_t, so only the Jacobian ∂h_{t+1}/∂h_t at the
    fixed point (x_{t+1}, h_t) is differentiated; the value is that of the connected loop.
    """
    hiddens = _run_cell(cell, x)  # h_0…h_T, connected
    deltas = torch.autograd.grad(_loss(torch.stack(hiddens[1:])), hiddens, allow_unused=True)
    projections = cell.project_input(x).unbind(0)
    omega = torch.zeros(())
    for t, projection in enumerate(projections):
        start = hiddens[t].detach().requires_grad_(True)
        following = cell.step(projection, RNNState(start)).hidden
        pair = [start, following]
        omega = omega + pascanu_regulariser(pair, [torch.zeros_like(start), deltas[t + 1]])
    return omega


@pytest.mark.parametrize("cell_cls", [ElmanCell, GRUCell])
def test_tape_omega_equals_per_step_reference(cell_cls, float64) -> None:
    cell = cell_cls(F_IN, H)
    x = torch.randn(T, B, F_IN)
    _, _, connected = regularised_run(cell, x, _loss, weight=1.0)
    layer = Recurrent(cell, batch_first=False)
    with record_steps(layer) as tape:
        outputs, _ = layer(x)
    omega = tape_regulariser(tape, _loss(outputs))
    assert connected > 1e-3
    torch.testing.assert_close(omega, connected, rtol=1e-10, atol=1e-12)  # the same value
    reference = _immediate_reference(cell, x)
    torch.testing.assert_close(omega, reference, rtol=1e-10, atol=1e-12)
    parameters = list(cell.parameters())
    got = torch.autograd.grad(omega, parameters)
    for grad, want in zip(got, torch.autograd.grad(reference, parameters), strict=True):
        torch.testing.assert_close(grad, want, rtol=1e-9, atol=1e-12)


def test_gradcheck_tape_omega_wrt_weight_hh(float64) -> None:
    cell = ElmanCell(2, 3)
    x = torch.randn(4, 2, 2)
    layer = Recurrent(cell, batch_first=False)
    with record_steps(layer) as tape:
        layer(x)
    steps = tape[0]
    steps.projections = [p.detach() for p in steps.projections]  # W_ih x_t + b fixed
    deltas = [torch.randn(2, 3) for _ in steps.states]  # constants, as Ω treats δ_{t+1}
    weight = cell.weight_hh.detach().clone().requires_grad_(True)
    del cell.weight_hh  # a plain tensor attribute from here, so gradcheck can vary it

    def omega_of(weight_hh: torch.Tensor) -> torch.Tensor:
        cell.weight_hh = weight_hh
        return _cell_regulariser(steps, deltas)

    assert omega_of(weight) > 1e-3
    assert torch.autograd.gradcheck(omega_of, (weight,))


@pytest.mark.parametrize("layer_cls", [RNN, GRU])
def test_objective_adds_weighted_omega_to_the_gradient(layer_cls, float64) -> None:
    layer = layer_cls(F_IN, H, num_layers=2, bidirectional=True)
    x = torch.randn(T, B, F_IN)
    objective = PascanuObjective(_SequenceLoss(), weight=0.3)
    result = objective.loss(layer, x, None)
    assert objective.last_omega > 1e-3
    torch.testing.assert_close(result.loss, objective.last_base + 0.3 * objective.last_omega)
    grads = torch.autograd.grad(result.loss, list(layer.parameters()))
    with record_steps(layer) as tape:
        outputs, _ = layer(x)
    base = _loss(outputs)
    total = base + 0.3 * tape_regulariser(tape, base)
    expected = torch.autograd.grad(total, list(layer.parameters()))
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want)
    with torch.no_grad():  # evaluation: the base loss only
        torch.testing.assert_close(objective.loss(layer, x, None).loss, base.detach())


def test_lstm_and_negative_weight_are_errors() -> None:
    objective = PascanuObjective(_SequenceLoss(), weight=1.0)
    with pytest.raises(ConfigError, match="LSTMState"):
        objective.loss(LSTM(F_IN, H), torch.randn(T, B, F_IN), None)
    with pytest.raises(ConfigError, match="≥ 0"):
        PascanuObjective(_SequenceLoss(), weight=-1.0)

"""The Pascanu et al. 2013 regulariser Ω against closed-form Jacobians, gradcheck and SGD."""

from __future__ import annotations

import pytest
import torch

from rnnkit.analysis.jacobian import state_jacobians
from rnnkit.analysis.regulariser import pascanu_regulariser, regularised_run
from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.cells.base import RNNState
from rnnkit.errors import ConfigError, ShapeError

F_IN, H, B, T = 3, 5, 4, 6


def _loss(outputs: torch.Tensor) -> torch.Tensor:
    """A loss at every step, so δ_t ≠ 0 for all t: Σ_t Σ_b Σ_i sin(h)·h."""
    return (torch.sin(outputs) * outputs).sum()


def test_omega_matches_closed_form_jacobians(float64) -> None:
    cell = ElmanCell(F_IN, H)
    x = torch.randn(T, B, F_IN)
    _, _, omega = regularised_run(cell, x, _loss, weight=1.0)
    # δ_t by autograd on a fresh run, J_t = ∂h_t/∂h_{t-1} = diag(φ'(a_t)) W_hh in closed form
    hiddens = [torch.zeros(B, H)]
    for projection in cell.project_input(x).unbind(0):
        hiddens.append(cell.step(projection, RNNState(hiddens[-1])).hidden)
    deltas = torch.autograd.grad(_loss(torch.stack(hiddens[1:])), hiddens[1:])
    jacobians = state_jacobians(cell, x)  # (T, B, H, H), index t for J_{t+1}
    expected = torch.zeros(())
    for t in range(T):
        carried = torch.einsum("bi,bij->bj", deltas[t], jacobians[t])  # δ_{t+1} J_{t+1}
        ratio = carried.norm(dim=-1) / deltas[t].norm(dim=-1)  # (B,)
        expected = expected + ((ratio - 1.0) ** 2).mean()
    assert expected > 0.1  # a non-trivial value to match
    torch.testing.assert_close(omega, expected, rtol=1e-10, atol=1e-12)


def _orthogonal_identity_cell(scale: float) -> ElmanCell:
    cell = ElmanCell(F_IN, H, nonlinearity="identity")
    q, _ = torch.linalg.qr(torch.randn(H, H))
    with torch.no_grad():
        cell.weight_hh.copy_(scale * q)
    return cell


def test_omega_is_zero_for_orthogonal_linear_cell(float64) -> None:
    x = torch.randn(T, B, F_IN)
    _, _, omega = regularised_run(_orthogonal_identity_cell(1.0), x, _loss, weight=1.0)
    assert omega.abs() < 1e-20
    # the same cell with W_hh = 0.5 Q shrinks every δ by 0.5: Ω = T (0.5 − 1)²
    _, _, half = regularised_run(_orthogonal_identity_cell(0.5), x, _loss, weight=1.0)
    torch.testing.assert_close(half, torch.tensor(T * 0.25), rtol=1e-12, atol=1e-12)


def test_gradcheck_omega_wrt_weight_hh(float64) -> None:
    cell = ElmanCell(2, 3)
    x = torch.randn(4, 2, 2)
    projections = cell.project_input(x).detach()  # (T, B, H), W_ih x_t + b_ih fixed
    deltas = [torch.randn(2, 3) for _ in range(5)]  # constants, as Ω treats δ_{t+1}

    def omega_of(weight_hh: torch.Tensor) -> torch.Tensor:
        hiddens = [torch.zeros(2, 3, requires_grad=True)]
        for projection in projections.unbind(0):  # h_t = tanh(a_t + W_hh h_{t-1})
            hiddens.append(torch.tanh(projection + hiddens[-1] @ weight_hh.T))
        return pascanu_regulariser(hiddens, deltas)

    weight_hh = cell.weight_hh.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(omega_of, (weight_hh,))


def test_sgd_step_on_omega_moves_ratios_toward_one(float64) -> None:
    cell = ElmanCell(F_IN, H)
    with torch.no_grad():
        cell.weight_hh.mul_(0.5)
    x = torch.randn(T, B, F_IN)
    _, _, before = regularised_run(cell, x, _loss, weight=1.0)
    gradient = torch.autograd.grad(before, cell.weight_hh)[0]
    assert gradient.abs().max() > 0  # Ω reaches W_hh through the vector-Jacobian products
    with torch.no_grad():
        cell.weight_hh.sub_(0.05 * gradient)
    _, _, after = regularised_run(cell, x, _loss, weight=1.0)
    assert after < before


def test_zero_gradient_samples_and_steps_are_skipped(float64) -> None:
    h0 = torch.zeros(2, 3, requires_grad=True)
    weight = (0.5 * torch.eye(3)).requires_grad_(True)
    h1 = h0 @ weight.T  # ratio 0.5 → (0.5 − 1)² = 0.25
    h2 = 2.0 * h1  # ratio 2 → (2 − 1)² = 1
    ones, zeros = torch.ones(2, 3), torch.zeros(2, 3)
    one_sample = torch.stack([torch.ones(3), torch.zeros(3)])  # sample 1 has δ = 0
    assert pascanu_regulariser([h0, h1, h2], [zeros, ones, ones]).item() == pytest.approx(1.25)
    assert pascanu_regulariser([h0, h1, h2], [zeros, zeros, ones]).item() == pytest.approx(1.0)
    omega = pascanu_regulariser([h0, h1, h2], [zeros, one_sample, one_sample])
    assert omega.item() == pytest.approx(1.25)  # mean over the one valid sample, not halved
    (gradient,) = torch.autograd.grad(omega, weight)
    assert torch.isfinite(gradient).all()
    assert gradient.abs().max() > 0


def test_total_is_loss_plus_weighted_omega_and_gru_runs(float64) -> None:
    x = torch.randn(T, B, F_IN)
    total, loss, omega = regularised_run(GRUCell(F_IN, H), x, _loss, weight=0.3)
    torch.testing.assert_close(total, loss + 0.3 * omega)
    assert omega > 0
    total.backward()  # the regularised loss trains like any loss


def test_errors() -> None:
    x = torch.randn(T, B, F_IN)
    with pytest.raises(ConfigError, match="LSTMState"):
        regularised_run(LSTMCell(F_IN, H), x, _loss, weight=1.0)
    with pytest.raises(ConfigError, match="≥ 0"):
        regularised_run(ElmanCell(F_IN, H), x, _loss, weight=-1.0)
    with pytest.raises(ShapeError, match=r"\(T, B, F\)"):
        regularised_run(ElmanCell(F_IN, H), x[0], _loss, weight=1.0)
    h = [torch.zeros(B, H, requires_grad=True)] * 3
    with pytest.raises(ShapeError, match="one gradient per hidden state"):
        pascanu_regulariser(h, [torch.zeros(B, H)] * 2)
    with pytest.raises(ShapeError, match=r"grads\[1\]"):
        pascanu_regulariser(h, [torch.zeros(B, H), torch.zeros(B, 2), torch.zeros(B, H)])

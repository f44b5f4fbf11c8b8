"""Per-step gradient norms against autograd.grad on stored hidden states and the Jacobian chain."""

from __future__ import annotations

import pytest
import torch

from rnnkit.analysis.gradients import step_gradient_norms
from rnnkit.analysis.jacobian import state_jacobians
from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.cells.base import RNNState
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import GRU, LSTM, RNN, Recurrent, Stacked

F_IN, H, B, T = 3, 5, 4, 8


def _reference_norms(cells, x, loss_fn) -> torch.Tensor:
    """Run the cells layer by layer (time-major), then autograd.grad of L on every stored h_t."""
    hiddens_per_layer = []
    outputs = x
    for cell in cells:
        state = cell.init_state(x.shape[1])
        hiddens = []
        for x_t in outputs:
            state = cell(x_t, state)
            hiddens.append(state.hidden)
        hiddens_per_layer.append(hiddens)
        outputs = torch.stack(hiddens)
    flat = [h for hiddens in hiddens_per_layer for h in hiddens]
    gradients = torch.autograd.grad(loss_fn(outputs), flat)
    return torch.stack([g.norm() for g in gradients]).view(len(cells), -1)


def _weighted_loss(outputs: torch.Tensor) -> torch.Tensor:
    weights = torch.linspace(0.1, 1.0, outputs.shape[0]).view(-1, 1, 1)  # every step, unequal
    return (weights * outputs**2).sum()


def test_cell_matches_autograd(float64: torch.dtype) -> None:
    cell = LSTMCell(F_IN, H)
    x = torch.randn(T, B, F_IN)
    norms = step_gradient_norms(cell, x, _weighted_loss)
    assert norms.shape == (T,)
    torch.testing.assert_close(norms, _reference_norms([cell], x, _weighted_loss)[0])
    assert all(parameter.grad is None for parameter in cell.parameters())  # .grad untouched


def test_recurrent_batch_first_matches_autograd(float64: torch.dtype) -> None:
    cell = GRUCell(F_IN, H)
    x = torch.randn(B, T, F_IN)  # (B, T, F): the layer's batch_first=True

    def loss_fn(outputs: torch.Tensor) -> torch.Tensor:  # (B, T, H)
        return outputs[:, ::3].sum() + outputs[:, -1].pow(3).sum()

    norms = step_gradient_norms(Recurrent(cell), x, loss_fn)
    expected = _reference_norms([cell], x.transpose(0, 1), lambda y: loss_fn(y.transpose(0, 1)))
    torch.testing.assert_close(norms, expected[0])


def test_stack_gives_one_row_per_layer(float64: torch.dtype) -> None:
    cells = [ElmanCell(F_IN, H), GRUCell(H, H), ElmanCell(H, H, nonlinearity="relu")]
    stack = Stacked([Recurrent(cell, batch_first=False) for cell in cells], batch_first=False)
    x = torch.randn(T, B, F_IN)
    seen = []

    def loss_fn(outputs: torch.Tensor) -> torch.Tensor:
        seen.append(outputs.detach())
        return _weighted_loss(outputs)

    norms = step_gradient_norms(stack, x, loss_fn)
    assert norms.shape == (3, T)
    torch.testing.assert_close(norms, _reference_norms(cells, x, _weighted_loss))
    torch.testing.assert_close(seen[0], stack(x)[0])  # the loss saw the stack's own outputs


def test_last_step_loss_matches_jacobian_chain(float64: torch.dtype) -> None:
    cell = ElmanCell(F_IN, H)
    x = torch.randn(T, B, F_IN)
    direction = torch.randn(H)
    norms = step_gradient_norms(cell, x, lambda y: (y[-1] @ direction).sum())
    jacobians = state_jacobians(cell, x)  # J_1…J_T, (T, B, H, H)
    row = direction.expand(B, 1, H)  # ∂L/∂h_T, (B, 1, H)
    expected = [row.norm()]
    for t in range(T - 1, 0, -1):
        row = row @ jacobians[t]  # ∂L/∂h_t = ∂L/∂h_{t+1} · J_{t+1}
        expected.append(row.norm())
    torch.testing.assert_close(norms, torch.stack(expected[::-1]), atol=1e-12, rtol=1e-10)


def test_small_recurrent_weights_vanish(float64: torch.dtype) -> None:
    cell = ElmanCell(F_IN, H)
    with torch.no_grad():
        cell.weight_hh.mul_(0.1)  # ‖W_hh‖₂ < 1 and tanh' ≤ 1: every J_t contracts
    norms = step_gradient_norms(cell, torch.randn(T, B, F_IN), lambda y: y[-1].sum())
    assert torch.all(norms[1:] > norms[:-1])  # decreasing away from the loss at t = T
    assert norms[0] < 1e-6 * norms[-1]


def test_large_linear_recurrence_explodes(float64: torch.dtype) -> None:
    cell = ElmanCell(F_IN, H, nonlinearity="identity")
    with torch.no_grad():
        cell.weight_hh.copy_(1.5 * torch.linalg.qr(torch.randn(H, H))[0])  # all |λ| = 1.5
    norms = step_gradient_norms(cell, torch.randn(T, B, F_IN), lambda y: y[-1].sum())
    torch.testing.assert_close(norms[:-1] / norms[1:], torch.full((T - 1,), 1.5))


def test_reversed_layer_counts_time_forwards(float64: torch.dtype) -> None:
    cell = ElmanCell(F_IN, H)
    with torch.no_grad():
        cell.weight_hh.mul_(0.1)
    layer = Recurrent(cell, reverse=True, batch_first=False)
    norms = step_gradient_norms(layer, torch.randn(T, B, F_IN), lambda y: y[0].sum())
    assert torch.all(norms[1:] < norms[:-1])  # h_1 is computed last, next to the loss


def test_state0_is_used(float64: torch.dtype) -> None:
    cell = ElmanCell(F_IN, H)
    x = torch.randn(T, B, F_IN)
    state0 = RNNState(3.0 * torch.randn(B, H))
    with_state = step_gradient_norms(cell, x, _weighted_loss, state0=state0)
    assert not torch.allclose(with_state, step_gradient_norms(cell, x, _weighted_loss))


def _reference_bidirectional(cells, x, loss_fn) -> torch.Tensor:
    """Layer by layer, forward and backward cells over x (T, B, F); ∂L/∂h_t norms per cell."""
    rows, outputs = [], x
    for forward_cell, backward_cell in zip(cells[::2], cells[1::2], strict=True):
        directions = []
        for cell, steps in ((forward_cell, outputs), (backward_cell, outputs.flip(0))):
            state, hiddens = cell.init_state(x.shape[1]), []
            for x_t in steps:
                state = cell(x_t, state)
                hiddens.append(state.hidden)
            directions.append(hiddens if cell is forward_cell else hiddens[::-1])
        rows.extend(directions)
        outputs = torch.cat([torch.stack(d) for d in directions], dim=-1)  # (T, B, 2H)
    gradients = torch.autograd.grad(loss_fn(outputs), [h for row in rows for h in row])
    return torch.stack([g.norm() for g in gradients]).view(len(rows), -1)


@pytest.mark.parametrize("layer_cls", [RNN, LSTM, GRU])
def test_dropin_bidirectional_stack_matches_autograd(layer_cls, float64: torch.dtype) -> None:
    layer = layer_cls(F_IN, H, num_layers=2, bidirectional=True)
    x = torch.randn(T, B, F_IN)
    path = layer.path
    norms = step_gradient_norms(layer, x, _weighted_loss)
    assert norms.shape == (4, T)  # (L·D, T)
    torch.testing.assert_close(norms, _reference_bidirectional(layer.cells, x, _weighted_loss))
    assert layer.path == path  # the fused path is back after the tape


def test_dropin_one_layer_batch_first(float64: torch.dtype) -> None:
    layer = LSTM(F_IN, H, batch_first=True)
    x = torch.randn(B, T, F_IN)
    norms = step_gradient_norms(layer, x, lambda y: y[:, -1].sum())  # y (B, T, H)
    cell = layer.cells[0]
    expected = _reference_norms([cell], x.transpose(0, 1), lambda y: y[-1].sum())
    torch.testing.assert_close(norms, expected)  # (1, T)


def test_bad_inputs_raise() -> None:
    cell = ElmanCell(F_IN, H)
    with pytest.raises(ShapeError, match="got"):
        step_gradient_norms(cell, torch.randn(T, B, F_IN + 1), _weighted_loss)
    with pytest.raises(ConfigError, match="Linear holds no rnnkit cell"):
        step_gradient_norms(torch.nn.Linear(2, 2), torch.randn(T, B, 2), _weighted_loss)
    with pytest.raises(ShapeError, match="F = 3"):
        step_gradient_norms(GRU(F_IN, H), torch.randn(T, F_IN), _weighted_loss)

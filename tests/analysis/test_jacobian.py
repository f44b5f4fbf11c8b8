"""Closed-form recurrent Jacobians against autograd, and the norms built on them."""

from __future__ import annotations

import pytest
import torch

from rnnkit.analysis.jacobian import (
    largest_singular_value,
    product_norm,
    spectral_radius,
    state_jacobians,
    step_jacobian,
)
from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.cells.base import LSTMState, RNNState
from rnnkit.errors import ConfigError, ShapeError

F_IN, H, B = 3, 5, 4


def _autograd_jacobian(cell, projection, state) -> torch.Tensor:
    """∂s_t/∂s_{t-1} by torch.autograd.functional.jacobian of cell.step, (B, N, N)."""
    flat = torch.cat(list(state), dim=-1)  # (B, N)
    sizes = [field.shape[-1] for field in state]

    def step(flat_prev: torch.Tensor) -> torch.Tensor:
        fields = flat_prev.split(sizes, dim=-1)
        return torch.cat(list(cell.step(projection, type(state)(*fields))), dim=-1)

    full = torch.autograd.functional.jacobian(step, flat)  # (B, N, B, N)
    return torch.stack([full[b, :, b, :] for b in range(flat.shape[0])])


def _random_state(cell, scale: float) -> RNNState | LSTMState:
    hidden = scale * torch.randn(B, cell.state_size)
    if isinstance(cell, LSTMCell):
        return LSTMState(hidden, scale * torch.randn(B, H))
    return RNNState(hidden)


def _randomise(cell) -> None:
    with torch.no_grad():
        for parameter in cell.parameters():
            parameter.normal_(0.0, 0.6)  # bigger than init, so every gate is off its middle


CELLS = {
    "elman-tanh": lambda: ElmanCell(F_IN, H, nonlinearity="tanh"),
    "elman-relu": lambda: ElmanCell(F_IN, H, nonlinearity="relu"),
    "elman-identity": lambda: ElmanCell(F_IN, H, nonlinearity="identity"),
    "elman-nobias": lambda: ElmanCell(F_IN, H, bias=False),
    "gru-after": lambda: GRUCell(F_IN, H, reset_after=True),
    "gru-before": lambda: GRUCell(F_IN, H, reset_after=False),
    "gru-before-nobias": lambda: GRUCell(F_IN, H, reset_after=False, bias=False),
    "lstm": lambda: LSTMCell(F_IN, H),
    "lstm-peephole": lambda: LSTMCell(F_IN, H, peephole=True),
    "lstm-coupled": lambda: LSTMCell(F_IN, H, coupled_gates=True),
    "lstm-peephole-coupled": lambda: LSTMCell(F_IN, H, peephole=True, coupled_gates=True),
    "lstm-projection": lambda: LSTMCell(F_IN, H, proj_size=2, peephole=True),
    "lstm-relu-identity": lambda: LSTMCell(
        F_IN, H, activation="relu", recurrent_activation="identity"
    ),
    "lstm-sigmoid-tanh": lambda: LSTMCell(
        F_IN, H, activation="sigmoid", recurrent_activation="tanh"
    ),
}


@pytest.mark.parametrize("name", list(CELLS))
def test_closed_form_equals_autograd(name: str, float64: torch.dtype) -> None:
    cell = CELLS[name]()
    _randomise(cell)
    for scale in (0.3, 1.0, 2.5):  # several random states, small to saturating
        projection = cell.project_input(torch.randn(B, F_IN))
        state = _random_state(cell, scale)
        expected = _autograd_jacobian(cell, projection, state)
        actual = step_jacobian(cell, projection, state)
        assert actual.shape == expected.shape
        torch.testing.assert_close(actual, expected, atol=1e-10, rtol=0.0)


def test_lstm_block_layout_is_h_then_c(float64: torch.dtype) -> None:
    cell = LSTMCell(F_IN, H)
    projection = cell.project_input(torch.randn(B, F_IN))
    state = _random_state(cell, 1.0)
    jacobian = step_jacobian(cell, projection, state)  # (B, 2H, 2H)
    forget_pre = (projection + state.hidden @ cell.weight_hh.T + cell.bias_hh)[:, H : 2 * H]
    # ∂c_t/∂c_{t-1} = diag(f_t) without peepholes: the lower-right block
    torch.testing.assert_close(
        jacobian[:, H:, H:], torch.diag_embed(torch.sigmoid(forget_pre)), atol=1e-12, rtol=0.0
    )


def test_state_jacobians_follow_the_run(float64: torch.dtype) -> None:
    cell = GRUCell(F_IN, H)
    x = torch.randn(B, 6, F_IN)  # (B, T, F)
    state0 = RNNState(torch.randn(B, H))
    jacobians = state_jacobians(cell, x, batch_first=True, state0=state0)
    assert jacobians.shape == (6, B, H, H)
    state = state0
    for t in range(6):
        projection = cell.project_input(x[:, t])
        expected = _autograd_jacobian(cell, projection, state)
        torch.testing.assert_close(jacobians[t], expected, atol=1e-10, rtol=0.0)
        state = cell.step(projection, state)


def test_state_jacobians_rejects_wrong_features() -> None:
    with pytest.raises(ShapeError, match="got"):
        state_jacobians(ElmanCell(F_IN, H), torch.randn(6, B, F_IN + 1))


def test_step_jacobian_rejects_unknown_cell() -> None:
    with pytest.raises(ConfigError, match="got Linear"):
        step_jacobian(torch.nn.Linear(2, 2), torch.zeros(1, 2), RNNState(torch.zeros(1, 2)))


@pytest.mark.parametrize(
    "options",
    [{"input_gate": False}, {"forget_gate": False}, {"output_gate": False},
     {"input_activation": "identity"}, {"output_activation": "identity"},
     {"full_gate_recurrence": True}],
)  # fmt: skip
def test_step_jacobian_refuses_greff_variants_it_does_not_cover(options: dict) -> None:
    cell = LSTMCell(3, 4, **options)
    state = LSTMState(torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(ConfigError, match="autograd"):
        step_jacobian(cell, torch.zeros(2, cell.gate_size), state)


def test_spectral_radius_and_singular_value_of_diagonal(float64: torch.dtype) -> None:
    jacobian = torch.stack([torch.diag(torch.tensor([0.5, -2.0, 1.5])), 3.0 * torch.eye(3)])
    torch.testing.assert_close(spectral_radius(jacobian), torch.tensor([2.0, 3.0]))
    torch.testing.assert_close(largest_singular_value(jacobian), torch.tensor([2.0, 3.0]))


def test_spectral_radius_below_norm_for_nonnormal(float64: torch.dtype) -> None:
    jacobian = torch.tensor([[0.5, 10.0], [0.0, 0.5]])  # eigenvalues 0.5, large off-diagonal
    torch.testing.assert_close(spectral_radius(jacobian), torch.tensor(0.5))
    assert largest_singular_value(jacobian) > 10.0


def test_elman_spectral_radius_is_scaled_weight(float64: torch.dtype) -> None:
    cell = ElmanCell(F_IN, H, nonlinearity="identity")  # φ' = 1, so J_t = W_hh
    with torch.no_grad():
        cell.weight_hh.copy_(torch.diag(torch.tensor([0.1, 0.2, -0.9, 0.3, 0.4])))
    jacobians = state_jacobians(cell, torch.randn(3, B, F_IN))
    torch.testing.assert_close(spectral_radius(jacobians), torch.full((3, B), 0.9))
    torch.testing.assert_close(product_norm(jacobians, 0, 3), torch.full((B,), 0.9**3))


def test_product_norm_of_identity_is_one(float64: torch.dtype) -> None:
    jacobians = torch.eye(4).expand(7, 2, 4, 4)  # (T, B, N, N)
    torch.testing.assert_close(product_norm(jacobians, 1, 6), torch.ones(2))
    torch.testing.assert_close(product_norm(jacobians, 3, 3), torch.ones(2))


def test_product_norm_order_and_bounds(float64: torch.dtype) -> None:
    jacobians = torch.randn(4, 2, 3, 3)
    expected = torch.linalg.matrix_norm(jacobians[2] @ jacobians[1], ord=2)  # J_3 J_2
    torch.testing.assert_close(product_norm(jacobians, 1, 3), expected)
    with pytest.raises(ConfigError, match="start=3, stop=1"):
        product_norm(jacobians, 3, 1)

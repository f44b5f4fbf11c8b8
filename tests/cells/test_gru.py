"""GRUCell: torch.nn.GRUCell parity, reset-before form against Cho et al., gradcheck, goldens."""

from __future__ import annotations

import pytest
import torch
from cell_helpers import cell_gradcheck, fill_parameters

from rnnkit.cells import GRUCell, LSTMState, RNNState
from rnnkit.errors import ConfigError, ShapeError


@pytest.mark.parametrize("bias", [True, False])
def test_matches_torch_gru_cell(float64, bias: bool) -> None:
    reference = torch.nn.GRUCell(5, 7, bias=bias)
    cell = GRUCell(5, 7, bias=bias)
    cell.load_state_dict(reference.state_dict())
    state = RNNState(torch.randn(4, 7))
    for x_t in torch.randn(3, 4, 5):  # (T, B, F)
        expected = reference(x_t, state.hidden)
        state = cell(x_t, state)
        torch.testing.assert_close(state.hidden, expected, atol=1e-10, rtol=0)


def test_reset_before_matches_cho_concatenated_form(float64) -> None:
    # Cho et al. 2014 with the lecture's concatenation: h̃ = tanh(W·[r ⊙ h_{t-1}, x_t] + b),
    # r = σ(W_r·[h_{t-1}, x_t] + b_r), z likewise, h_t = (1 − z) ⊙ h̃ + z ⊙ h_{t-1}.
    cell = GRUCell(5, 7, reset_after=False)
    x_t, hidden_prev = torch.randn(4, 5), torch.randn(4, 7)
    w_ih, w_hh = cell.weight_ih.detach().chunk(3), cell.weight_hh.detach().chunk(3)
    b = (cell.bias_ih + cell.bias_hh).detach().chunk(3)
    W = [torch.cat([w_hh[k], w_ih[k]], dim=1) for k in range(3)]  # (H, H + F) per gate
    reset = torch.sigmoid(torch.cat([hidden_prev, x_t], dim=1) @ W[0].T + b[0])
    update = torch.sigmoid(torch.cat([hidden_prev, x_t], dim=1) @ W[1].T + b[1])
    candidate = torch.tanh(torch.cat([reset * hidden_prev, x_t], dim=1) @ W[2].T + b[2])
    expected = (1 - update) * candidate + update * hidden_prev
    got = cell(x_t, RNNState(hidden_prev)).hidden
    torch.testing.assert_close(got, expected, atol=1e-10, rtol=0)
    reset_after = GRUCell(5, 7)
    reset_after.load_state_dict(cell.state_dict())
    assert not torch.allclose(reset_after(x_t, RNNState(hidden_prev)).hidden, got)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("reset_after", [True, False])
def test_gradcheck(float64, reset_after: bool, bias: bool) -> None:
    assert cell_gradcheck(GRUCell(3, 4, bias=bias, reset_after=reset_after))


def test_golden_values_both_forms(float64) -> None:
    # F = 2, H = 1, every weight and bias 0.1, x_1 = (1, 2), h_0 = 1.
    # r = z = σ(0.1·1 + 0.1·2 + 0.1 + 0.1·1 + 0.1) = σ(0.6) = 0.6456563062257954
    # reset after  (torch): n = tanh(0.3 + 0.1 + r·(0.1·1 + 0.1)) = tanh(0.4 + 0.2·r)
    #                     = 0.48471674221820504
    # reset before (Cho):  h̃ = tanh(0.3 + 0.1 + 0.1·(r·1) + 0.1) = tanh(0.5 + 0.1·r)
    #                     = 0.5113570816084436
    # h_1 = (1 − z)·n + z·1:  0.8174126270975931 (after), 0.8268524633605288 (before)
    # (numbers from Python's math module: math.tanh, 1 / (1 + math.exp(-0.6)))
    x_t, state = torch.tensor([[1.0, 2.0]]), RNNState(torch.ones(1, 1))
    after = fill_parameters(GRUCell(2, 1, reset_after=True), 0.1)
    before = fill_parameters(GRUCell(2, 1, reset_after=False), 0.1)
    expected_after, expected_before = 0.8174126270975931, 0.8268524633605288
    got_after, got_before = after(x_t, state).hidden, before(x_t, state).hidden
    torch.testing.assert_close(got_after, torch.tensor([[expected_after]]), atol=1e-12, rtol=0)
    torch.testing.assert_close(got_before, torch.tensor([[expected_before]]), atol=1e-12, rtol=0)


def test_forward_without_state_starts_from_zero_and_equals_step() -> None:
    cell = GRUCell(3, 4, reset_after=False)
    x_t = torch.randn(2, 3)
    zero = cell.init_state(2)
    assert zero.hidden.abs().sum() == 0
    torch.testing.assert_close(cell(x_t).hidden, cell(x_t, zero).hidden, atol=0, rtol=0)
    state = RNNState(torch.randn(2, 4))
    stepped = cell.step(cell.project_input(x_t), state).hidden
    torch.testing.assert_close(stepped, cell(x_t, state).hidden, atol=0, rtol=0)


def test_bad_input_raises_shape_error() -> None:
    cell = GRUCell(3, 4)
    with pytest.raises(ShapeError, match=r"must be \(B, 3\); got \(2, 2\)"):
        cell(torch.randn(2, 2))
    with pytest.raises(ShapeError, match=r"got \(3,\)"):
        cell(torch.randn(3))
    with pytest.raises(ShapeError, match=r"state.hidden must be \(B, 4\) = \(2, 4\).*got \(1, 4\)"):
        cell(torch.randn(2, 3), RNNState(torch.randn(1, 4)))
    with pytest.raises(ShapeError, match=r"must be RNNState\(hidden\); got Tensor"):
        cell(torch.randn(2, 3), torch.randn(2, 4))
    with pytest.raises(ShapeError, match=r"got LSTMState"):
        cell(torch.randn(2, 3), LSTMState(torch.randn(2, 4), torch.randn(2, 4)))


@pytest.mark.parametrize(
    ("input_size", "hidden_size", "match"),
    [
        (3, 0, r"`hidden_size`, expected a positive integer, got 0"),
        ("3", 4, r"`input_size`, expected a positive integer, got '3'"),
        (3, None, r"`hidden_size`.*got None"),
    ],
)
def test_bad_config_raises_config_error(
    input_size: object, hidden_size: object, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        GRUCell(input_size, hidden_size)  # type: ignore[arg-type]

"""MLSTMCell: a step against Krause et al.'s equations, a golden value, gradcheck, Recurrent."""

from __future__ import annotations

import pytest
import torch
from cell_helpers import cell_gradcheck, fill_parameters

from rnnkit.cells import LSTMState, MLSTMCell, RNNState
from rnnkit.cells.init import forget_bias, orthogonal_recurrent
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import Recurrent


@pytest.mark.parametrize("multiplicative_size", [None, 6])
def test_step_matches_the_equations_by_hand(float64, multiplicative_size: int | None) -> None:
    cell = MLSTMCell(5, 4, multiplicative_size=multiplicative_size)
    x_t, hidden_prev, cell_prev = torch.randn(3, 5), torch.randn(3, 4), torch.randn(3, 4)
    W_x = dict(zip("ifgo", cell.weight_ih.detach().chunk(4), strict=True))  # W_·x (H, F)
    W_m = dict(zip("ifgo", cell.weight_hh.detach().chunk(4), strict=True))  # W_·m (H, M)
    b = dict(zip("ifgo", (cell.bias_ih + cell.bias_hh).detach().chunk(4), strict=True))
    m = (x_t @ cell.weight_mx.detach().T) * (hidden_prev @ cell.weight_mh.detach().T)  # m_t
    pre = {k: x_t @ W_x[k].T + m @ W_m[k].T + b[k] for k in "ifgo"}
    input_gate, forget_gate, output_gate = (torch.sigmoid(pre[k]) for k in "ifo")
    candidate = pre["g"]  # ĥ_t, linear
    expected_cell = forget_gate * cell_prev + input_gate * candidate
    expected_hidden = torch.tanh(expected_cell * output_gate)
    got = cell(x_t, LSTMState(hidden_prev, cell_prev))
    torch.testing.assert_close(got.cell, expected_cell, atol=1e-12, rtol=0)
    torch.testing.assert_close(got.hidden, expected_hidden, atol=1e-12, rtol=0)


def test_golden_value(float64) -> None:
    # F = 2, H = M = 1, x_1 = (1, 2), h_0 = 1, c_0 = 0.5; W_·x = W_·m = 0.1, W_mx 0.2, W_mh 0.5,
    # biases 0.  m = 0.6·0.5 = 0.3; every pre-activation 0.1 + 0.2 + 0.1·0.3 = 0.33, so ĥ = 0.33,
    # i = f = o = σ(0.33) = 0.5817593768418363, c_1 = σ(0.33)·(0.5 + 0.33) = 0.4828602827787241,
    # h_1 = tanh(c_1·σ(0.33)) = 0.27374570681043164 (Python's math.tanh and math.exp)
    cell = fill_parameters(MLSTMCell(2, 1), 0.1, weight_mx=0.2, weight_mh=0.5, bias_ih=0.0,
                           bias_hh=0.0)  # fmt: skip
    state = cell(torch.tensor([[1.0, 2.0]]), LSTMState(torch.ones(1, 1), torch.full((1, 1), 0.5)))
    assert state.cell.item() == pytest.approx(0.4828602827787241, abs=1e-15)
    assert state.hidden.item() == pytest.approx(0.27374570681043164, abs=1e-15)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("multiplicative_size", [None, 2])
def test_gradcheck(float64, bias: bool, multiplicative_size: int | None) -> None:
    assert cell_gradcheck(MLSTMCell(3, 4, bias=bias, multiplicative_size=multiplicative_size))


@pytest.mark.parametrize("reverse", [False, True])
def test_recurrent_with_lengths_equals_stepping_by_hand(float64, reverse: bool) -> None:
    cell = MLSTMCell(3, 4, multiplicative_size=5)
    x, lengths = torch.randn(3, 6, 3), [6, 2, 4]  # (B, T, F)
    outputs, final = Recurrent(cell, reverse=reverse)(x, lengths=torch.tensor(lengths))
    for b, length in enumerate(lengths):
        state = cell.init_state(1)
        steps = range(length - 1, -1, -1) if reverse else range(length)
        for t in steps:
            state = cell(x[b : b + 1, t], state)
            torch.testing.assert_close(outputs[b, t], state.hidden[0], atol=1e-12, rtol=0)
        assert bool(outputs[b, length:].eq(0).all())
        torch.testing.assert_close(final.hidden[b], state.hidden[0], atol=1e-12, rtol=0)
        torch.testing.assert_close(final.cell[b], state.cell[0], atol=1e-12, rtol=0)


def test_parameter_count_names_and_initialisers() -> None:
    F, H, M = 5, 4, 6
    cell = MLSTMCell(F, H, multiplicative_size=M)
    shapes = {name: tuple(p.shape) for name, p in cell.named_parameters()}
    assert shapes == {
        "weight_ih": (4 * H, F), "weight_hh": (4 * H, M), "bias_ih": (4 * H,),
        "bias_hh": (4 * H,), "weight_mx": (M, F), "weight_mh": (M, H),
    }  # fmt: skip
    assert sum(p.numel() for p in cell.parameters()) == 4 * H * (F + M) + 8 * H + M * (F + H)
    forget_bias(orthogonal_recurrent(cell), value=1.0)  # i|f|g|o rows, as an LSTMCell
    assert cell.bias_ih[H : 2 * H].eq(1.0).all()


def test_bad_input_and_state() -> None:
    cell = MLSTMCell(3, 4)
    with pytest.raises(ShapeError, match=r"\(B, 3\); got \(2, 5\)"):
        cell(torch.randn(2, 5))
    with pytest.raises(ShapeError, match=r"LSTMState\(hidden, cell\); got RNNState"):
        cell(torch.randn(2, 3), RNNState(torch.zeros(2, 4)))
    with pytest.raises(ConfigError, match=r"hidden_size.*got 0"):
        MLSTMCell(3, 0)

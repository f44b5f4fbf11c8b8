"""MRNNCell: a step against the written-out equations, a golden value, gradcheck, Recurrent."""

from __future__ import annotations

import math

import pytest
import torch
from cell_helpers import cell_gradcheck, fill_parameters

from rnnkit.cells import MRNNCell, RNNState
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import Recurrent


@pytest.mark.parametrize("multiplicative_size", [None, 6])
def test_step_matches_the_equations_by_hand(float64, multiplicative_size: int | None) -> None:
    cell = MRNNCell(5, 4, multiplicative_size=multiplicative_size)
    x_t, hidden_prev = torch.randn(3, 5), torch.randn(3, 4)
    W_hx, W_hm = cell.weight_ih.detach(), cell.weight_hh.detach()
    W_mx, W_mh = cell.weight_mx.detach(), cell.weight_mh.detach()
    b = (cell.bias_ih + cell.bias_hh).detach()
    m = (x_t @ W_mx.T) * (hidden_prev @ W_mh.T)  # m_t = (W_mx x_t) ⊙ (W_mh h_{t-1})
    expected = torch.tanh(x_t @ W_hx.T + m @ W_hm.T + b)  # h_t = tanh(W_hx x_t + W_hm m_t + b)
    got = cell(x_t, RNNState(hidden_prev)).hidden
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)


def test_golden_value(float64) -> None:
    # F = 2, H = M = 1, x_1 = (1, 2), h_0 = 1; W_hx 0.1, W_hm 0.3, W_mx 0.2, W_mh 0.5,
    # b_ih 0.1, b_hh −0.05.  m = (0.2 + 0.4)·0.5 = 0.3,
    # h_1 = tanh(0.1 + 0.2 + 0.1 + 0.3·0.3 − 0.05) = tanh(0.44) = 0.4136444421871352 (math.tanh)
    cell = fill_parameters(
        MRNNCell(2, 1), 0.1, weight_hh=0.3, weight_mx=0.2, weight_mh=0.5, bias_hh=-0.05
    )
    hidden = cell(torch.tensor([[1.0, 2.0]]), RNNState(torch.ones(1, 1))).hidden
    assert hidden.item() == pytest.approx(0.4136444421871352, abs=1e-15)
    assert math.isclose(hidden.item(), math.tanh(0.44), abs_tol=1e-15)


def test_zero_state_has_no_recurrent_term(float64) -> None:
    # With h_{t-1} = 0, m_t = 0: the mRNN is then tanh(W_hx x_t + b), whatever W_hm is.
    cell = MRNNCell(3, 4)
    x_t = torch.randn(2, 3)
    expected = torch.tanh(x_t @ cell.weight_ih.T + cell.bias_ih + cell.bias_hh)
    torch.testing.assert_close(cell(x_t).hidden, expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("multiplicative_size", [None, 2])
def test_gradcheck(float64, bias: bool, multiplicative_size: int | None) -> None:
    assert cell_gradcheck(MRNNCell(3, 4, bias=bias, multiplicative_size=multiplicative_size))


@pytest.mark.parametrize("reverse", [False, True])
def test_recurrent_with_lengths_equals_stepping_by_hand(float64, reverse: bool) -> None:
    cell = MRNNCell(3, 4, multiplicative_size=5)
    x, lengths = torch.randn(3, 6, 3), [6, 2, 4]  # (B, T, F)
    outputs, final = Recurrent(cell, reverse=reverse)(x, lengths=torch.tensor(lengths))
    for b, length in enumerate(lengths):
        state = RNNState(torch.zeros(1, 4))
        steps = range(length - 1, -1, -1) if reverse else range(length)
        for t in steps:
            state = cell(x[b : b + 1, t], state)
            torch.testing.assert_close(outputs[b, t], state.hidden[0], atol=1e-12, rtol=0)
        assert bool(outputs[b, length:].eq(0).all())
        torch.testing.assert_close(final.hidden[b], state.hidden[0], atol=1e-12, rtol=0)


def test_parameter_count_and_names() -> None:
    F, H, M = 5, 4, 6
    cell = MRNNCell(F, H, multiplicative_size=M)
    shapes = {name: tuple(p.shape) for name, p in cell.named_parameters()}
    assert shapes == {
        "weight_ih": (H, F), "weight_hh": (H, M), "bias_ih": (H,), "bias_hh": (H,),
        "weight_mx": (M, F), "weight_mh": (M, H),
    }  # fmt: skip
    assert sum(p.numel() for p in cell.parameters()) == H * (F + M) + 2 * H + M * (F + H)


def test_bad_input_and_arguments() -> None:
    cell = MRNNCell(3, 4)
    with pytest.raises(ShapeError, match=r"\(B, 3\); got \(2, 5\)"):
        cell(torch.randn(2, 5))
    with pytest.raises(ConfigError, match=r"multiplicative_size.*got 0"):
        MRNNCell(3, 4, multiplicative_size=0)

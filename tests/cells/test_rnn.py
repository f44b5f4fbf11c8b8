"""ElmanCell: parity with torch.nn.RNNCell, gradcheck, golden values, bad input and config."""

from __future__ import annotations

import math

import pytest
import torch
from cell_helpers import cell_gradcheck, fill_parameters

from rnnkit.cells import ElmanCell, LSTMState, RNNState
from rnnkit.errors import ConfigError, ShapeError


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_matches_torch_rnn_cell(float64, nonlinearity: str, bias: bool) -> None:
    reference = torch.nn.RNNCell(5, 7, bias=bias, nonlinearity=nonlinearity)
    cell = ElmanCell(5, 7, bias=bias, nonlinearity=nonlinearity)
    cell.load_state_dict(reference.state_dict())
    state = RNNState(torch.randn(4, 7))
    for x_t in torch.randn(3, 4, 5):  # (T, B, F): three steps, so the recurrence is compared too
        expected = reference(x_t, state.hidden)
        state = cell(x_t, state)
        torch.testing.assert_close(state.hidden, expected, atol=1e-10, rtol=0)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "identity"])
def test_gradcheck(float64, nonlinearity: str, bias: bool) -> None:
    assert cell_gradcheck(ElmanCell(3, 4, bias=bias, nonlinearity=nonlinearity))


def test_golden_values_tanh(float64) -> None:
    # F = 3, H = 2, every weight and bias 0.1, h_0 = (1, 1), x_1 = (0, 1, 2), x_2 = (3, 4, 5):
    # a_1 = 0.1·(0+1+2) + 0.1 + 0.1·(1+1) + 0.1 = 0.7            h_1 = tanh(0.7)
    # a_2 = 0.1·(3+4+5) + 0.1 + 0.1·2·tanh(0.7) + 0.1 = 1.4 + 0.2·tanh(0.7)   h_2 = tanh(a_2)
    cell = fill_parameters(ElmanCell(3, 2), 0.1)
    x = torch.arange(6.0).reshape(2, 1, 3)  # (T, B, F)
    first = cell(x[0], RNNState(torch.ones(1, 2)))
    second = cell(x[1], first)
    h_1 = 0.6043677771171636  # math.tanh(0.7)
    h_2 = 0.9088497708964651  # math.tanh(1.4 + 0.2 * h_1)
    assert math.isclose(h_1, math.tanh(0.7), abs_tol=1e-15)
    torch.testing.assert_close(first.hidden, torch.full((1, 2), h_1), atol=1e-12, rtol=0)
    torch.testing.assert_close(second.hidden, torch.full((1, 2), h_2), atol=1e-12, rtol=0)


def test_golden_values_identity_and_relu(float64) -> None:
    # identity (linear RNN), same weights, h_0 = (1, 1): h_1 = 0.7, h_2 = 1.4 + 0.2·0.7 = 1.54
    linear = fill_parameters(ElmanCell(3, 2, nonlinearity="identity"), 0.1)
    x = torch.arange(6.0).reshape(2, 1, 3)
    first = linear(x[0], RNNState(torch.ones(1, 2)))
    torch.testing.assert_close(first.hidden, torch.full((1, 2), 0.7), atol=1e-12, rtol=0)
    torch.testing.assert_close(
        linear(x[1], first).hidden, torch.full((1, 2), 1.54), atol=1e-12, rtol=0
    )
    # relu, h_0 = 0, x = −(0, 1, 2): a = −0.3 + 0.1 + 0.1 = −0.1 → 0; x = +(0, 1, 2): a = 0.5
    relu = fill_parameters(ElmanCell(3, 2, nonlinearity="relu"), 0.1)
    torch.testing.assert_close(relu(-x[0]).hidden, torch.zeros(1, 2), atol=0, rtol=0)
    torch.testing.assert_close(relu(x[0]).hidden, torch.full((1, 2), 0.5), atol=1e-12, rtol=0)


def test_forward_without_state_starts_from_zero_and_equals_step() -> None:
    cell = ElmanCell(3, 4)
    x_t = torch.randn(2, 3)
    zero = cell.init_state(2)
    torch.testing.assert_close(cell(x_t, None).hidden, cell(x_t, zero).hidden, atol=0, rtol=0)
    state = RNNState(torch.randn(2, 4))
    stepped = cell.step(cell.project_input(x_t), state).hidden
    torch.testing.assert_close(stepped, cell(x_t, state).hidden, atol=0, rtol=0)
    assert zero.hidden.abs().sum() == 0


def test_bad_input_raises_shape_error() -> None:
    cell = ElmanCell(3, 4)
    with pytest.raises(ShapeError, match=r"must be \(B, 3\); got \(2, 5\)"):
        cell(torch.randn(2, 5))
    with pytest.raises(ShapeError, match=r"got \(7, 2, 3\)"):  # a sequence is the layer's job
        cell(torch.randn(7, 2, 3))
    with pytest.raises(ShapeError, match=r"state.hidden must be \(B, 4\) = \(2, 4\).*got \(3, 4\)"):
        cell(torch.randn(2, 3), RNNState(torch.randn(3, 4)))
    with pytest.raises(ShapeError, match=r"got \(2, 5\)"):
        cell(torch.randn(2, 3), RNNState(torch.randn(2, 5)))
    with pytest.raises(ShapeError, match=r"must be RNNState.*got LSTMState"):
        cell(torch.randn(2, 3), LSTMState(torch.randn(2, 4), torch.randn(2, 4)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hidden_size": 0}, r"`hidden_size`, expected a positive integer, got 0"),
        ({"hidden_size": -4}, r"`hidden_size`.*got -4"),
        ({"input_size": 2.5}, r"`input_size`.*got 2.5"),
        ({"input_size": True}, r"`input_size`.*got True"),
        ({"nonlinearity": "sigmoid"}, r"`nonlinearity`, expected one of \['tanh', 'relu', "),
    ],
)
def test_bad_config_raises_config_error(kwargs: dict, match: str) -> None:
    arguments = {"input_size": 3, "hidden_size": 4} | kwargs
    input_size, hidden_size = arguments.pop("input_size"), arguments.pop("hidden_size")
    with pytest.raises(ConfigError, match=match):
        ElmanCell(input_size, hidden_size, **arguments)


def test_parameters_follow_torch_layout() -> None:
    cell = ElmanCell(3, 4, bias=False)
    shapes = {name: tuple(p.shape) for name, p in cell.named_parameters()}
    assert shapes == {"weight_ih": (4, 3), "weight_hh": (4, 4)}
    assert cell.bias_ih is None
    assert (cell.gate_size, cell.state_size, cell.gate_names) == (4, 4, ("hidden",))

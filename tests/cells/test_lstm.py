"""LSTMCell: torch parity (LSTMCell, LSTM with proj_size), gradcheck of every variant, goldens."""

from __future__ import annotations

import pytest
import torch
from cell_helpers import cell_gradcheck, fill_parameters

from rnnkit.cells import LSTMCell, LSTMState, RNNState
from rnnkit.errors import ConfigError, ShapeError

VARIANTS = [
    {},
    {"bias": False},
    {"peephole": True},
    {"coupled_gates": True},
    {"peephole": True, "coupled_gates": True},
    {"proj_size": 2},
    {"proj_size": 2, "peephole": True, "coupled_gates": True, "bias": False},
    {"activation": "identity", "recurrent_activation": "identity"},
    {"activation": "relu", "recurrent_activation": "tanh", "proj_size": 3},
    {"activation": "sigmoid", "peephole": True},
]


def assert_state_close(state: LSTMState, hidden: torch.Tensor, cell: torch.Tensor) -> None:
    torch.testing.assert_close(state.hidden, hidden, atol=1e-10, rtol=0)
    torch.testing.assert_close(state.cell, cell, atol=1e-10, rtol=0)


@pytest.mark.parametrize("bias", [True, False])
def test_matches_torch_lstm_cell(float64, bias: bool) -> None:
    reference = torch.nn.LSTMCell(5, 7, bias=bias)
    cell = LSTMCell(5, 7, bias=bias)
    cell.load_state_dict(reference.state_dict())
    state = LSTMState(torch.randn(4, 7), torch.randn(4, 7))
    for x_t in torch.randn(3, 4, 5):  # (T, B, F)
        expected = reference(x_t, tuple(state))
        state = cell(x_t, state)
        assert_state_close(state, *expected)


@pytest.mark.parametrize("bias", [True, False])
def test_projection_matches_torch_lstm_step(float64, bias: bool) -> None:
    # torch.nn.LSTMCell has no proj_size; one step of torch.nn.LSTM(proj_size=P) is the reference
    reference = torch.nn.LSTM(5, 7, bias=bias, proj_size=3)
    cell = LSTMCell(5, 7, bias=bias, proj_size=3)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in reference.state_dict().items()})
    state = LSTMState(torch.randn(4, 3), torch.randn(4, 7))
    for x_t in torch.randn(3, 4, 5):  # (T, B, F)
        _, (hidden, cell_state) = reference(x_t[None], (state.hidden[None], state.cell[None]))
        state = cell(x_t, state)
        assert_state_close(state, hidden[0], cell_state[0])


def test_zero_peepholes_reduce_to_torch(float64) -> None:
    reference = torch.nn.LSTMCell(5, 7)
    cell = LSTMCell(5, 7, peephole=True)
    torch.nn.init.zeros_(cell.weight_ci)
    torch.nn.init.zeros_(cell.weight_cf)
    torch.nn.init.zeros_(cell.weight_co)
    cell.load_state_dict(reference.state_dict(), strict=False)
    x_t, state = torch.randn(4, 5), LSTMState(torch.randn(4, 7), torch.randn(4, 7))
    assert_state_close(cell(x_t, state), *reference(x_t, tuple(state)))
    torch.nn.init.constant_(cell.weight_co, 0.5)  # now the output gate sees c_t
    assert not torch.allclose(cell(x_t, state).hidden, reference(x_t, tuple(state))[0])


@pytest.mark.parametrize("kwargs", VARIANTS, ids=lambda kwargs: str(kwargs) or "standard")
def test_gradcheck(float64, kwargs: dict) -> None:
    assert cell_gradcheck(LSTMCell(3, 4, **kwargs))


def test_golden_values_linear_lstm(float64) -> None:
    # The linear LSTM: activation = recurrent_activation = identity, F = 2, H = 1, every weight
    # 0.1, biases 0, x_1 = x_2 = (1, 2), h_0 = c_0 = 0.
    # step 1: every gate pre-activation 0.1·1 + 0.1·2 + 0.1·0 = 0.3, so i = f = c̃ = o = 0.3
    #         c_1 = 0.3·0 + 0.3·0.3 = 0.09,   h_1 = 0.3·0.09 = 0.027
    # step 2: pre-activation 0.3 + 0.1·0.027 = 0.3027
    #         c_2 = 0.3027·0.09 + 0.3027·0.3027 = 0.027243 + 0.09162729 = 0.11887029
    #         h_2 = 0.3027·0.11887029 = 0.035982036783
    cell = LSTMCell(2, 1, activation="identity", recurrent_activation="identity")
    fill_parameters(cell, 0.1, bias_ih=0.0, bias_hh=0.0)
    x_t = torch.tensor([[1.0, 2.0]])
    first = cell(x_t)
    second = cell(x_t, first)
    assert_state_close(first, torch.tensor([[0.027]]), torch.tensor([[0.09]]))
    assert_state_close(second, torch.tensor([[0.035982036783]]), torch.tensor([[0.11887029]]))


def test_golden_values_variants(float64) -> None:
    # Same linear LSTM (weights 0.1, biases 0, x = (1, 2)), one step of each variant.
    linear = {"activation": "identity", "recurrent_activation": "identity"}
    x_t = torch.tensor([[1.0, 2.0]])
    # coupled (rows f|c̃|o): f = c̃ = o = 0.3, c_1 = 0.3·0 + (1 − 0.3)·0.3 = 0.21, h_1 = 0.3·0.21
    coupled = LSTMCell(2, 1, coupled_gates=True, **linear)
    fill_parameters(coupled, 0.1, bias_ih=0.0, bias_hh=0.0)
    assert_state_close(coupled(x_t), torch.tensor([[0.063]]), torch.tensor([[0.21]]))
    # peephole, w_c· = 0.1, h_0 = 0, c_0 = 1: i = f = 0.3 + 0.1·1 = 0.4, c̃ = 0.3,
    # c_1 = 0.4·1 + 0.4·0.3 = 0.52, o = 0.3 + 0.1·0.52 = 0.352, h_1 = 0.352·0.52 = 0.18304
    peephole = LSTMCell(2, 1, peephole=True, **linear)
    fill_parameters(peephole, 0.1, bias_ih=0.0, bias_hh=0.0)
    state = LSTMState(torch.zeros(1, 1), torch.ones(1, 1))
    assert_state_close(peephole(x_t, state), torch.tensor([[0.18304]]), torch.tensor([[0.52]]))
    # projection H = 2, P = 1, W_hr = 0.1: c_1 = 0.09 per unit, o ⊙ c_1 = 0.027 per unit,
    # h_1 = 0.1·0.027 + 0.1·0.027 = 0.0054
    projected = LSTMCell(2, 2, proj_size=1, **linear)
    fill_parameters(projected, 0.1, bias_ih=0.0, bias_hh=0.0)
    assert_state_close(projected(x_t), torch.tensor([[0.0054]]), torch.full((1, 2), 0.09))


def test_golden_values_sigmoid_tanh(float64) -> None:
    # Standard LSTM, same weights: step 1 pre-activation 0.3, i = f = o = σ(0.3), c̃ = tanh(0.3),
    # c_1 = σ(0.3)·tanh(0.3), h_1 = σ(0.3)·tanh(c_1); step 2 pre-activation 0.3 + 0.1·h_1.
    # Numbers from Python's math module, not torch: s = lambda a: 1 / (1 + math.exp(-a));
    # c_1 = s(0.3) * math.tanh(0.3); h_1 = s(0.3) * math.tanh(c_1); p = 0.3 + 0.1 * h_1;
    # c_2 = s(p) * c_1 + s(p) * math.tanh(p); h_2 = s(p) * math.tanh(c_2).
    cell = fill_parameters(LSTMCell(2, 1), 0.1, bias_ih=0.0, bias_hh=0.0)
    x_t = torch.tensor([[1.0, 2.0]])
    first = cell(x_t)
    second = cell(x_t, first)
    assert_state_close(
        first, torch.tensor([[0.09524118849708932]]), torch.tensor([[0.16734235027567132]])
    )
    assert_state_close(
        second, torch.tensor([[0.15180965698455917]]), torch.tensor([[0.26955099617076617]])
    )


def test_forward_without_state_starts_from_zero_and_equals_step() -> None:
    cell = LSTMCell(3, 5, proj_size=2, peephole=True)
    x_t = torch.randn(2, 3)
    zero = cell.init_state(2)
    assert (tuple(zero.hidden.shape), tuple(zero.cell.shape)) == ((2, 2), (2, 5))
    assert zero.hidden.abs().sum() + zero.cell.abs().sum() == 0
    for got, expected in zip(cell(x_t), cell(x_t, zero), strict=True):
        torch.testing.assert_close(got, expected, atol=0, rtol=0)
    state = LSTMState(torch.randn(2, 2), torch.randn(2, 5))
    stepped = cell.step(cell.project_input(x_t), state)
    for got, expected in zip(stepped, cell(x_t, state), strict=True):
        torch.testing.assert_close(got, expected, atol=0, rtol=0)


def test_parameter_layout() -> None:
    shapes = {n: tuple(p.shape) for n, p in LSTMCell(3, 4, proj_size=2).named_parameters()}
    assert shapes == {
        "weight_ih": (16, 3),
        "weight_hh": (16, 2),
        "bias_ih": (16,),
        "bias_hh": (16,),
        "weight_hr": (2, 4),
    }
    coupled = LSTMCell(3, 4, peephole=True, coupled_gates=True)
    shapes = {n: tuple(p.shape) for n, p in coupled.named_parameters()}
    assert shapes == {
        "weight_ih": (12, 3),
        "weight_hh": (12, 4),
        "bias_ih": (12,),
        "bias_hh": (12,),
        "weight_cf": (4,),
        "weight_co": (4,),
    }
    assert coupled.gate_names == ("forget", "candidate", "output")
    assert (coupled.gate_size, coupled.state_size) == (12, 4)


def test_bad_input_raises_shape_error() -> None:
    cell = LSTMCell(3, 4, proj_size=2)
    with pytest.raises(ShapeError, match=r"must be \(B, 3\); got \(2, 4\)"):
        cell(torch.randn(2, 4))
    with pytest.raises(ShapeError, match=r"state.hidden must be \(B, 2\).*got \(2, 4\)"):
        cell(torch.randn(2, 3), LSTMState(torch.randn(2, 4), torch.randn(2, 4)))
    with pytest.raises(ShapeError, match=r"state.cell must be \(B, 4\) = \(2, 4\).*got \(5, 4\)"):
        cell(torch.randn(2, 3), LSTMState(torch.randn(2, 2), torch.randn(5, 4)))
    with pytest.raises(ShapeError, match=r"must be LSTMState\(hidden, cell\); got tuple"):
        cell(torch.randn(2, 3), (torch.randn(2, 2), torch.randn(2, 4)))
    with pytest.raises(ShapeError, match=r"got RNNState"):
        cell(torch.randn(2, 3), RNNState(torch.randn(2, 2)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"activation": "swish"}, r"`activation`, expected one of \['tanh', .*got 'swish'"),
        ({"recurrent_activation": "softmax"}, r"`recurrent_activation`.*got 'softmax'"),
        ({"proj_size": 4}, r"`proj_size`.*0 < proj_size < hidden_size = 4, got 4"),
        ({"proj_size": -1}, r"`proj_size`.*got -1"),
        ({"proj_size": 1.5}, r"`proj_size`.*got 1.5"),
        ({"hidden_size": 0}, r"`hidden_size`, expected a positive integer, got 0"),
    ],
)
def test_bad_config_raises_config_error(kwargs: dict, match: str) -> None:
    arguments = {"input_size": 3, "hidden_size": 4} | kwargs
    input_size, hidden_size = arguments.pop("input_size"), arguments.pop("hidden_size")
    with pytest.raises(ConfigError, match=match):
        LSTMCell(input_size, hidden_size, **arguments)

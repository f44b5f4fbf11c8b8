"""LSTMCell's variants of Greff et al. 2017 (NIG, NFG, NOG, NIAF, NOAF, NP, CIFG, FGR, ReLU gates):
hand computations from the paper's equations, gradcheck, parameter counts, the layer, errors."""

from __future__ import annotations

import math

import pytest
import torch
from cell_helpers import cell_gradcheck, fill_parameters, random_state

from rnnkit.analysis.formulas import rnnkit_cell_formula
from rnnkit.cells import LSTMCell, LSTMState
from rnnkit.cells.lstm import LSTMGateState
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import Recurrent
from rnnkit.layers.fast import configuration, lookup

# Greff et al. 2017, §3: V is the LSTM with peepholes; every other variant changes one thing.
GREFF = {
    "V": {"peephole": True},
    "NIG": {"peephole": True, "input_gate": False},
    "NFG": {"peephole": True, "forget_gate": False},
    "NOG": {"peephole": True, "output_gate": False},
    "NIAF": {"peephole": True, "input_activation": "identity"},
    "NOAF": {"peephole": True, "output_activation": "identity"},
    "NP": {},
    "CIFG": {"peephole": True, "coupled_gates": True},
    "FGR": {"peephole": True, "full_gate_recurrence": True},
    "ReLU gates": {"peephole": True, "recurrent_activation": "relu"},
}
COMBINED = {  # options combine with each other and with the projection
    "NIG+NOG+proj": {"input_gate": False, "output_gate": False, "proj_size": 2},
    "NFG+NOAF, no bias": {"forget_gate": False, "output_activation": "identity", "bias": False},
    "FGR+proj": {"full_gate_recurrence": True, "proj_size": 2},
}


def sigmoid(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


def relu(a: float) -> float:
    return max(a, 0.0)


def greff_scalar_step(name: str) -> tuple[float, float]:
    """(h_1, c_1) of one step written out from Greff et al.'s equations with Python floats.

    F = 2, H = 1, every weight (W, R, peepholes p, FGR's R_··) 0.1, biases 0, x_1 = (1, 2),
    h_0 = 0, c_0 = 1 and, for FGR, (i_0, f_0, o_0) = (0.5, 0.25, 0.75). Every gate's
    W x_1 + R h_0 + b is then 0.1·1 + 0.1·2 + 0.1·0 = 0.3.
    """
    options = GREFF[name]
    gate = relu if options.get("recurrent_activation") == "relu" else sigmoid
    g = (lambda a: a) if options.get("input_activation") == "identity" else math.tanh
    h = (lambda a: a) if options.get("output_activation") == "identity" else math.tanh
    peep = 0.1 if options.get("peephole") else 0.0  # p_i = p_f = p_o
    c_0, base = 1.0, 0.3
    recurrence = 0.1 * (0.5 + 0.25 + 0.75) if options.get("full_gate_recurrence") else 0.0
    z = g(base)  # block input  z_t = g(W_z x_t + R_z y_{t-1} + b_z)
    i = gate(base + peep * c_0 + recurrence)  # i_t = σ(… + p_i ⊙ c_{t-1})
    f = gate(base + peep * c_0 + recurrence)  # f_t = σ(… + p_f ⊙ c_{t-1})
    if name == "NIG":
        i = 1.0
    if name == "NFG":
        f = 1.0
    if name == "CIFG":
        i = 1.0 - f  # Greff write f = 1 − i; rnnkit keeps f and sets i = 1 − f
    c_1 = z * i + c_0 * f  # c_t = z_t ⊙ i_t + c_{t-1} ⊙ f_t
    o = gate(base + peep * c_1 + recurrence)  # o_t = σ(… + p_o ⊙ c_t)
    if name == "NOG":
        o = 1.0
    return h(c_1) * o, c_1  # y_t = h(c_t) ⊙ o_t


@pytest.mark.parametrize("name", list(GREFF))
def test_one_step_matches_greff_equations_by_hand(float64, name: str) -> None:
    cell = fill_parameters(LSTMCell(2, 1, **GREFF[name]), 0.1, bias_ih=0.0, bias_hh=0.0)
    x_t = torch.tensor([[1.0, 2.0]])
    hidden_prev, cell_prev = torch.zeros(1, 1), torch.ones(1, 1)
    if cell.full_gate_recurrence:
        gates = [torch.tensor([[value]]) for value in (0.5, 0.25, 0.75)]  # i_0, f_0, o_0
        state = cell(x_t, LSTMGateState(hidden_prev, cell_prev, *gates))
    else:
        state = cell(x_t, LSTMState(hidden_prev, cell_prev))
    hidden, memory = greff_scalar_step(name)
    torch.testing.assert_close(state.hidden, torch.tensor([[hidden]]), atol=1e-12, rtol=0)
    torch.testing.assert_close(state.cell, torch.tensor([[memory]]), atol=1e-12, rtol=0)


def test_the_variants_give_different_numbers(float64) -> None:
    # the hand computation is not the same number nine times: each option changes h_1
    values = {name: greff_scalar_step(name)[0] for name in GREFF}
    assert len({round(value, 12) for value in values.values()}) == len(values)


def reference_sequence(cell: LSTMCell, x: torch.Tensor, state: tuple) -> list[tuple]:
    """Greff's equations over a (T, B, F) sequence, with the weights read gate by gate."""

    def weights(gate: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rows = cell.gate_rows(gate)
        bias = 0.0 if cell.bias_ih is None else cell.bias_ih[rows] + cell.bias_hh[rows]
        return cell.weight_ih[rows], cell.weight_hh[rows], bias

    act = {"tanh": torch.tanh, "identity": lambda a: a, "sigmoid": torch.sigmoid,
           "relu": torch.relu}  # fmt: skip
    gate_fn, g, h = (
        act[cell.recurrent_activation],
        act[cell.input_activation],
        act[cell.output_activation],
    )
    H = cell.hidden_size
    y, c = state[0], state[1]
    previous = state[2:]  # i_{t-1}, f_{t-1}, o_{t-1} with FGR
    zero = torch.zeros(H)
    peep = {k: getattr(cell, f"weight_c{k}") for k in "ifo"}
    peep = {k: zero if v is None else v for k, v in peep.items()}
    out = []

    def pre(gate: str, x_t: torch.Tensor, y: torch.Tensor, previous: tuple) -> torch.Tensor:
        W, R, b = weights(gate)
        value = x_t @ W.T + y @ R.T + b  # W_· x_t + R_· y_{t-1} + b_·
        if cell.full_gate_recurrence and gate != "candidate":  # + Σ_k R_{k·} k_{t-1}, k ∈ i f o
            index = ("input", "forget", "output").index(gate)
            R_gate = cell.weight_gg[index * H : (index + 1) * H]  # (H, 3H)
            value = value + torch.cat(previous, -1) @ R_gate.T
        return value

    for x_t in x:
        z = g(pre("candidate", x_t, y, previous))
        f = (
            gate_fn(pre("forget", x_t, y, previous) + peep["f"] * c)
            if cell.forget_gate
            else torch.ones_like(c)
        )
        if cell.coupled_gates:
            i = 1.0 - f
        elif cell.input_gate:
            i = gate_fn(pre("input", x_t, y, previous) + peep["i"] * c)
        else:
            i = torch.ones_like(c)
        c = z * i + c * f
        o = (
            gate_fn(pre("output", x_t, y, previous) + peep["o"] * c)
            if cell.output_gate
            else torch.ones_like(c)
        )
        y = h(c) * o
        if cell.weight_hr is not None:
            y = y @ cell.weight_hr.T
        previous = (i, f, o)
        out.append((y, c, *previous) if cell.full_gate_recurrence else (y, c))
    return out


@pytest.mark.parametrize("options", [*GREFF.values(), *COMBINED.values()],
                         ids=[*GREFF, *COMBINED])  # fmt: skip
def test_sequence_matches_reference(float64, options: dict) -> None:
    cell = LSTMCell(3, 4, **options)
    with torch.no_grad():  # spread the weights so every term matters
        for parameter in cell.parameters():
            parameter.uniform_(-0.8, 0.8)
    x = torch.randn(5, 2, 3)  # (T, B, F)
    state = random_state(cell, 2)
    expected = reference_sequence(cell, x, tuple(state))
    with torch.no_grad():
        for x_t, reference in zip(x, expected, strict=True):
            state = cell(x_t, state)
            assert type(state) is cell.state_type
            for got, want in zip(state, reference, strict=True):  # rtol: ReLU gates grow c_t
                torch.testing.assert_close(got, want, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("options", [*GREFF.values(), *COMBINED.values()],
                         ids=[*GREFF, *COMBINED])  # fmt: skip
def test_gradcheck(float64, options: dict) -> None:
    assert cell_gradcheck(LSTMCell(3, 4, **options))


def test_gradcheck_with_regularisers(float64) -> None:
    # eval mode: zoneout's deterministic step (its expectation) on the variants' own lines
    assert cell_gradcheck(LSTMCell(2, 2, forget_gate=False, zoneout=0.2).eval())
    assert cell_gradcheck(LSTMCell(2, 2, full_gate_recurrence=True, zoneout=0.3).eval())


def greff_count(name: str, features: int, hidden: int) -> int:
    """Parameters of one cell counted from the equations: k blocks of W (H, F), R (H, H), two
    biases, a peephole vector per σ gate, 9H² for FGR."""
    F, H = features, hidden
    blocks = {"NIG": 3, "NFG": 3, "NOG": 3, "CIFG": 3}.get(name, 4)
    peepholes = 0 if name == "NP" else blocks - 1  # one per σ gate (CIFG: f and o)
    extra = 9 * H * H if name == "FGR" else 0
    return blocks * H * (F + H) + 2 * blocks * H + peepholes * H + extra


@pytest.mark.parametrize("name", list(GREFF))
def test_parameter_counts(name: str) -> None:
    F, H = 3, 5
    cell = LSTMCell(F, H, **GREFF[name])
    count = sum(p.numel() for p in cell.parameters())
    assert count == greff_count(name, F, H)
    formula = rnnkit_cell_formula(cell)
    assert formula is not None
    assert formula.value == count
    assert "(" not in formula.symbolic.split("=")[0].replace("(F + H)", "")  # no "other" term
    assert cell.gate_size == {"NIG": 3, "NFG": 3, "NOG": 3, "CIFG": 3}.get(name, 4) * H


def test_gate_rows_follow_the_gates_left() -> None:
    assert LSTMCell(2, 3, input_gate=False).gate_names == ("forget", "candidate", "output")
    assert LSTMCell(2, 3, forget_gate=False).gate_names == ("input", "candidate", "output")
    assert LSTMCell(2, 3, output_gate=False).gate_names == ("input", "forget", "candidate")
    cell = LSTMCell(2, 3, peephole=True, output_gate=False, input_gate=False)
    assert cell.gate_rows("candidate") == slice(3, 6)
    assert (cell.weight_ci, cell.weight_co) == (None, None)
    assert cell.weight_cf is not None


@pytest.mark.parametrize("name", list(GREFF))
def test_layer_runs_the_cell_step_and_matches_stepping_by_hand(float64, name: str) -> None:
    cell = LSTMCell(3, 4, **GREFF[name])
    layer = Recurrent(cell, batch_first=True)
    if name == "NP":  # the torch-like LSTM: its fused row is allowed
        assert configuration(cell)[1] == "torch"
        assert cell.is_torch_like
    else:  # a variant never runs on the torch-like row
        assert configuration(cell)[1] == "variant"
        assert not cell.is_torch_like
        assert lookup(cell) is None
        assert layer.path == "autograd"
    x = torch.randn(2, 6, 3)  # (B, T, F)
    outputs, final = layer(x)
    state = cell.init_state(2)
    for t in range(6):
        state = cell(x[:, t], state)
        torch.testing.assert_close(outputs[:, t], state.hidden, atol=1e-12, rtol=0)
    assert type(final) is cell.state_type
    for got, want in zip(final, state, strict=True):
        torch.testing.assert_close(got, want, atol=1e-12, rtol=0)


def test_layer_with_lengths_keeps_fgr_gates_of_the_last_valid_step(float64) -> None:
    cell = LSTMCell(3, 4, peephole=True, full_gate_recurrence=True)
    x = torch.randn(2, 5, 3)
    _, final = Recurrent(cell, batch_first=True)(x, lengths=torch.tensor([5, 3]))
    state = cell.init_state(1)
    for t in range(3):
        state = cell(x[1:, t], state)
    for got, want in zip(final, state, strict=True):
        torch.testing.assert_close(got[1:], want, atol=1e-12, rtol=0)


def test_no_variant_is_torch_like() -> None:
    assert LSTMCell(3, 4).is_torch_like
    for options in [*GREFF.values(), *COMBINED.values()]:
        if options:
            assert not LSTMCell(3, 4, **options).is_torch_like, options
    # activation still sets both squashings; either override alone leaves the torch row
    assert not LSTMCell(3, 4, input_activation="relu").is_torch_like
    assert LSTMCell(3, 4, activation="tanh", output_activation="tanh").is_torch_like


def test_activation_splits_into_input_and_output() -> None:
    both = LSTMCell(2, 3, activation="relu")
    assert (both.input_activation, both.output_activation) == ("relu", "relu")
    split = LSTMCell(2, 3, activation="relu", output_activation="tanh")
    assert (split.input_activation, split.output_activation) == ("relu", "tanh")
    assert split.options() == {"activation": "relu", "output_activation": "tanh"}


@pytest.mark.parametrize("options", [*GREFF.values(), *COMBINED.values()],
                         ids=[*GREFF, *COMBINED])  # fmt: skip
def test_options_round_trip(float64, options: dict) -> None:
    cell = LSTMCell(3, 4, **options)
    assert cell.options() == options
    copy = LSTMCell(3, 4, **cell.options())
    copy.load_state_dict(cell.state_dict())  # same names and shapes
    x_t, state = torch.randn(2, 3), random_state(cell, 2)
    for got, want in zip(copy(x_t, state), cell(x_t, state), strict=True):
        torch.testing.assert_close(got, want, atol=0, rtol=0)
    text = repr(cell)
    for name, value in options.items():
        if name != "bias":
            assert f"{name}={value!r}" in text


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"coupled_gates": True, "input_gate": False}, "contradicts input_gate=False"),
        ({"coupled_gates": True, "forget_gate": False}, "forget_gate=False"),
        ({"full_gate_recurrence": True, "output_gate": False}, "needs all three"),
        ({"full_gate_recurrence": True, "coupled_gates": True}, "coupled_gates=True"),
        ({"input_gate": "no"}, "`input_gate`, expected True or False"),
        ({"full_gate_recurrence": 1}, "`full_gate_recurrence`"),
        ({"input_activation": "gelu"}, "`input_activation`"),
        ({"output_activation": "softplus"}, "`output_activation`"),
    ],
)
def test_errors(options: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        LSTMCell(3, 4, **options)


def test_fgr_state_must_carry_the_gates() -> None:
    cell = LSTMCell(3, 4, full_gate_recurrence=True)
    assert cell.init_state(2)._fields == ("hidden", "cell", "input_gate", "forget_gate",
                                          "output_gate")  # fmt: skip
    with pytest.raises(ShapeError, match="LSTMGateState"):
        cell(torch.randn(2, 3), LSTMState(torch.zeros(2, 4), torch.zeros(2, 4)))

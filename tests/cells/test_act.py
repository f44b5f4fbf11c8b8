"""ACTCell (Graves 2016): halting against a hand-stepped example, batching, gradients, errors;
and ACTRecurrent, the time loop, against stepping the cell by hand."""

from __future__ import annotations

import math

import pytest
import torch
from torch.func import functional_call

from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.cells.act import ACTCell, ponder_penalty
from rnnkit.cells.base import LSTMState, RNNState
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.act import ACTRecurrent


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def constant_halting(act: ACTCell, h: float) -> ACTCell:
    """W_h = 0 and b_h = logit(h), so every h^n_t equals h."""
    with torch.no_grad():
        act.halting.weight.zero_()
        act.halting.bias.fill_(logit(h))
    return act


def elman_example() -> ACTCell:
    """F = 1, H = 2, fixed weights; the wrapped cell sees [x_t ; flag] (F + 1 = 2)."""
    act = ACTCell(ElmanCell(2, 2), max_ponder=6, epsilon=0.01)
    with torch.no_grad():
        act.cell.weight_ih.copy_(torch.tensor([[0.5, 0.8], [-0.3, -0.6]]))
        act.cell.weight_hh.copy_(torch.tensor([[0.9, -0.2], [0.4, 0.7]]))
        act.cell.bias_ih.copy_(torch.tensor([0.1, -0.1]))
        act.cell.bias_hh.zero_()
        act.halting.weight.copy_(torch.tensor([[0.6, -0.9]]))
        act.halting.bias.fill_(-0.8)
    return act


def hand_ponder(x: float, hidden: list[float], act: ACTCell):
    """The ponder loop of Graves's eqs. (3)-(11) written out for the Elman example."""
    w_ih, w_hh = act.cell.weight_ih.detach().tolist(), act.cell.weight_hh.detach().tolist()
    b_ih = act.cell.bias_ih.detach().tolist()
    w_h, b_h = act.halting.weight[0].detach().tolist(), act.halting.bias.item()
    states, halts = [], []
    s = list(hidden)
    for n in range(1, act.max_ponder + 1):
        flag = 1.0 if n == 1 else 0.0  # x^n_t = [x_t ; δ_{n,1}]
        pre = [w_ih[i][0] * x + w_ih[i][1] * flag + b_ih[i] for i in range(2)]
        s = [math.tanh(pre[i] + w_hh[i][0] * s[0] + w_hh[i][1] * s[1]) for i in range(2)]
        h = 1.0 / (1.0 + math.exp(-(w_h[0] * s[0] + w_h[1] * s[1] + b_h)))
        states.append(s)
        halts.append(h)
        if sum(halts) >= 1.0 - act.epsilon:
            break
    N = len(halts)
    R = 1.0 - sum(halts[:-1])
    p = [*halts[:-1], R]
    mean = [sum(p[n] * states[n][i] for n in range(N)) for i in range(2)]
    return N, R, p, mean


def test_hand_stepped_elman_example(float64: torch.dtype) -> None:
    act = elman_example()
    ponder_steps = []
    for x, hidden in [(1.0, [0.0, 0.0]), (-2.0, [0.3, -0.5]), (0.5, [-0.8, 0.9])]:
        N, R, p, mean = hand_ponder(x, hidden, act)
        ponder_steps.append(N)
        out = act(torch.tensor([[x]]), RNNState(torch.tensor([hidden])))
        assert out.steps.tolist() == [N]
        assert out.ponder_cost.item() == pytest.approx(N + R, abs=1e-12)  # ρ_t = N(t) + R(t)
        assert out.halting[0].tolist() == pytest.approx(p, abs=1e-12)
        assert out.state.hidden[0].tolist() == pytest.approx(mean, abs=1e-12)
    assert ponder_steps == [2, 5, 3]  # the examples ponder, and differ


def test_lstm_averages_hidden_and_cell_and_halts_on_both(float64: torch.dtype) -> None:
    act = ACTCell(LSTMCell(3 + 1, 4), max_ponder=10)
    with torch.no_grad():
        act.halting.bias.fill_(-1.0)
    x = torch.randn(1, 3)
    state = act.init_state(1)
    hs, cs, halts = [], [], []
    for n in range(1, 11):
        flag = torch.tensor([[1.0 if n == 1 else 0.0]])
        state = act.cell(torch.cat([x, flag], dim=1), state)  # s^n_t
        joint = torch.cat([state.hidden, state.cell], dim=1)  # [h; c]
        halts.append(torch.sigmoid(joint @ act.halting.weight.T + act.halting.bias).item())
        hs.append(state.hidden)
        cs.append(state.cell)
        if sum(halts) >= 0.99:
            break
    p = [*halts[:-1], 1.0 - sum(halts[:-1])]
    out = act(x)
    assert out.steps.item() == len(p) > 1
    torch.testing.assert_close(out.state.hidden, sum(pn * h for pn, h in zip(p, hs, strict=True)))
    torch.testing.assert_close(out.state.cell, sum(pn * c for pn, c in zip(p, cs, strict=True)))
    assert isinstance(out.state, LSTMState)


@pytest.mark.parametrize("make_cell", [ElmanCell, GRUCell, LSTMCell])
def test_batch_equals_rows(float64: torch.dtype, make_cell) -> None:
    act = ACTCell(make_cell(5 + 1, 6), max_ponder=12)
    with torch.no_grad():
        act.halting.weight.mul_(8.0)  # spread the h^n_t so rows ponder different N(t)
        act.halting.bias.fill_(-1.5)
    x = 2.0 * torch.randn(16, 5)
    state = act.state_type(*(torch.randn(16, size) for size in _sizes(act)))
    batch = act(x, state)
    assert len(set(batch.steps.tolist())) > 1
    for b in range(16):
        row = act(x[b : b + 1], act.state_type(*(field[b : b + 1] for field in state)))
        assert batch.steps[b] == row.steps[0]
        torch.testing.assert_close(batch.ponder_cost[b : b + 1], row.ponder_cost)
        for got, want in zip(batch.state, row.state, strict=True):
            torch.testing.assert_close(got[b : b + 1], want)
        N = int(row.steps[0])
        torch.testing.assert_close(batch.halting[b, :N], row.halting[0])
        assert batch.halting[b, N:].abs().sum() == 0  # p^n_t = 0 after N(t)


def _sizes(act: ACTCell) -> list[int]:
    return [act.state_size] + ([act.hidden_size] if act.state_type is LSTMState else [])


@pytest.mark.parametrize("make_cell", [ElmanCell, LSTMCell])
def test_gradcheck_through_the_halting_probabilities(float64: torch.dtype, make_cell) -> None:
    act = ACTCell(make_cell(2 + 1, 3), max_ponder=8)
    with torch.no_grad():
        act.halting.bias.fill_(-0.3)  # h ≈ 0.4: N(t) = 3 or so, R(t) well inside (0, 1)
    names = [name for name, _ in act.named_parameters()]
    parameters = [p.detach().clone().requires_grad_() for p in act.parameters()]
    x = torch.randn(3, 2, requires_grad=True)
    state = [torch.randn(3, s, requires_grad=True) for s in _sizes(act)]
    assert int(act(x.detach()).steps.min()) > 1  # the halting unit takes part

    def step(x: torch.Tensor, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        fields = act.state_type(*tensors[: len(state)])
        values = dict(zip(names, tensors[len(state) :], strict=True))
        out = functional_call(act, values, (x, fields))
        return (*out.state, out.ponder_cost, out.halting)

    assert torch.autograd.gradcheck(step, (x, *state, *parameters), atol=1e-8)


def test_ponder_cost_gradient_is_minus_one_per_earlier_step(float64: torch.dtype) -> None:
    """∂ρ_t/∂h^n_t = −1 for n < N(t), 0 for n = N(t) (eq. 14), so ∂ρ_t/∂b_h = −Σ_{n<N} h(1 − h)."""
    act = ACTCell(GRUCell(4 + 1, 5), max_ponder=10)
    with torch.no_grad():
        act.halting.bias.fill_(-0.8)
    out = act(torch.randn(6, 4))
    out.ponder_cost.sum().backward()
    expected = 0.0
    for b in range(6):
        N = int(out.steps[b])
        h = out.halting[b, : N - 1].detach()  # p^n_t = h^n_t for n < N(t)
        expected -= float((h * (1.0 - h)).sum())  # ∂h/∂b_h = h(1 − h)
    assert act.halting.bias.grad.item() == pytest.approx(expected, abs=1e-12)
    assert int(out.steps.min()) > 1


def test_max_ponder_caps_the_steps(float64: torch.dtype) -> None:
    act = constant_halting(ACTCell(ElmanCell(2 + 1, 3), max_ponder=4), 0.01)
    out = act(torch.randn(5, 2))
    assert out.steps.tolist() == [4] * 5  # N(t) = M although Σ h^n_t = 0.04 < 1 − ε
    R = 1.0 - 3 * 0.01  # R(t) = 1 − Σ_{n<M} h^n_t
    torch.testing.assert_close(out.ponder_cost, torch.full((5,), 4 + R))
    torch.testing.assert_close(out.halting[0], torch.tensor([0.01, 0.01, 0.01, R]))


@pytest.mark.parametrize(("epsilon", "steps", "remainder"), [(0.01, 2, 0.504), (0.001, 3, 0.008)])
def test_epsilon_sets_the_threshold(
    float64: torch.dtype, epsilon: float, steps: int, remainder: float
) -> None:
    """h = 0.496 every step: Σ of two is 0.992, over 1 − 0.01 but under 1 − 0.001."""
    act = constant_halting(ACTCell(ElmanCell(2 + 1, 3), epsilon=epsilon), 0.496)
    out = act(torch.randn(2, 2))
    assert out.steps.tolist() == [steps, steps]
    torch.testing.assert_close(out.ponder_cost, torch.full((2,), steps + remainder))
    big = constant_halting(ACTCell(ElmanCell(2 + 1, 3), epsilon=epsilon), 0.9999)
    assert big(torch.randn(2, 2)).steps.tolist() == [1, 1]  # h^1 ≥ 1 − ε: one step, R = 1


def test_halting_bias_starts_at_one() -> None:
    act = ACTCell(ElmanCell(3, 4))
    assert act.halting.bias.item() == 1.0
    assert act.input_size == 2


def test_ponder_penalty(float64: torch.dtype) -> None:
    cost = torch.tensor([[2.5, 1.0], [3.0, 0.0]])  # (T, B), the second row padded at t = 2
    assert ponder_penalty(cost, 0.1).item() == pytest.approx(0.1 * (5.5 + 1.0) / 2)
    assert ponder_penalty(cost.T, 0.1, batch_first=True).item() == pytest.approx(0.325)
    with pytest.raises(ConfigError, match="tau"):
        ponder_penalty(cost, -1.0)


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="RecurrentCell"):
        ACTCell(torch.nn.RNNCell(3, 4))
    with pytest.raises(ConfigError, match="input_size"):
        ACTCell(ElmanCell(1, 4))
    with pytest.raises(ConfigError, match="max_ponder"):
        ACTCell(ElmanCell(3, 4), max_ponder=0)
    with pytest.raises(ConfigError, match="max_ponder"):
        ACTCell(ElmanCell(3, 4), max_ponder=True)
    for epsilon in (0.0, 1.0, "0.1", True):
        with pytest.raises(ConfigError, match="epsilon"):
            ACTCell(ElmanCell(3, 4), epsilon=epsilon)
    with pytest.raises(ConfigError, match="regularisers"):
        ACTCell(LSTMCell(3, 4, zoneout=0.1))
    act = ACTCell(ElmanCell(3, 4))
    with pytest.raises(ShapeError, match="got"):
        act(torch.randn(2, 3))  # x_t has F = 2, not F + 1
    with pytest.raises(ShapeError, match="got"):
        act(torch.randn(2, 2), RNNState(torch.zeros(3, 4)))
    layer = ACTRecurrent(act)
    with pytest.raises(ShapeError, match="got"):
        layer(torch.randn(5, 2))
    with pytest.raises(ShapeError, match="lengths"):
        layer(torch.randn(5, 2, 2), lengths=torch.tensor([6, 1]))


@pytest.mark.parametrize("batch_first", [False, True])
def test_layer_equals_stepping_the_cell(float64: torch.dtype, batch_first: bool) -> None:
    act = ACTCell(LSTMCell(3 + 1, 4), max_ponder=6)
    with torch.no_grad():
        act.halting.weight.mul_(6.0)
    layer = ACTRecurrent(act, batch_first=batch_first)
    x = torch.randn(5, 3, 3)  # (T, B, F)
    lengths = torch.tensor([5, 2, 4])
    result = layer(x.transpose(0, 1) if batch_first else x, lengths=lengths)
    outputs, costs, steps = result.outputs, result.ponder_cost, result.steps
    if batch_first:
        outputs, costs, steps = outputs.transpose(0, 1), costs.T, steps.T
    for b in range(3):
        state = act.init_state(1)
        for t in range(5):
            if t >= lengths[b]:  # padding: zeros, no pondering
                assert outputs[t, b].abs().sum() == 0
                assert costs[t, b] == 0
                assert steps[t, b] == 0
                continue
            out = act(x[t, b : b + 1], state)
            state = out.state
            torch.testing.assert_close(outputs[t, b], state.hidden[0])
            torch.testing.assert_close(costs[t, b], out.ponder_cost[0])
            assert steps[t, b] == out.steps[0]
        for got, want in zip(result.state, state, strict=True):
            torch.testing.assert_close(got[b : b + 1], want)  # the state at the last real step
    assert len(set(steps.flatten().tolist()) - {0}) > 1  # N(t) varies across steps and rows

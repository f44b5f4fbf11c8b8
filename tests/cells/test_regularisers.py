"""The cells' regularisers against plain-PyTorch references written here, on the same masks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from cell_helpers import cell_gradcheck, random_state
from torch.func import functional_call

from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.cells.regularisers import SequenceMasks, locked_dropout
from rnnkit.errors import ConfigError

B, F_IN, H = 3, 5, 4
EPS = 1e-5


def _ln(a: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """LN(a; g, b) = g ⊙ (a − mean) / √(var + ε) + b, written out (biased variance)."""
    mean = a.mean(-1, keepdim=True)
    var = a.var(-1, unbiased=False, keepdim=True)
    out = gain * (a - mean) / torch.sqrt(var + EPS)
    return out if bias is None else out + bias


def _masks(cell, *, recurrent=True, zoneout=True, weight=True) -> SequenceMasks:
    """Known masks for one step: m scaled by 1/(1 − p), d^h, d^c as 0/1, W̃_hh."""
    S, Hc = cell.state_size, cell.hidden_size
    p = 0.5
    m = torch.bernoulli(torch.full((B, S), 1 - p)) / (1 - p) if recurrent else None
    d_h = torch.bernoulli(torch.full((B, S), 0.3)) if zoneout else None
    d_c = (
        torch.bernoulli(torch.full((B, Hc), 0.3))
        if zoneout and cell.state_type._fields[1:]
        else None
    )
    W = (
        cell.weight_hh * torch.bernoulli(torch.full(cell.weight_hh.shape, 0.6)) / 0.6
        if weight
        else None
    )
    return SequenceMasks(m, d_h, d_c, W)


def _parts(cell, masks: SequenceMasks | None, hidden_prev):
    """Reference pieces: h the recurrence reads, W_hh used, the two pre-activations."""
    m = None if masks is None else masks.recurrent
    W = cell.weight_hh if masks is None or masks.weight_hh is None else masks.weight_hh
    h_in = hidden_prev if m is None else m * hidden_prev
    return h_in, W


def reference_elman(cell: ElmanCell, x, hidden_prev, masks: SequenceMasks | None, p_z: float):
    h_in, W = _parts(cell, masks, hidden_prev)
    if cell.layer_norm:
        pre = _ln(x @ cell.weight_ih.T, cell.gain_ih, cell.bias_ih) + _ln(
            h_in @ W.T, cell.gain_hh, cell.bias_hh
        )
    else:
        pre = x @ cell.weight_ih.T + cell.bias_ih + h_in @ W.T + cell.bias_hh
    new = torch.tanh(pre)
    d = p_z if masks is None or masks.zoneout_hidden is None else masks.zoneout_hidden
    return d * hidden_prev + (1 - d) * new if p_z else new


def reference_lstm(cell: LSTMCell, x, state, masks: SequenceMasks | None, p_h: float, p_c: float):
    hidden_prev, cell_prev = state
    h_in, W = _parts(cell, masks, hidden_prev)
    if cell.layer_norm:
        gates = _ln(x @ cell.weight_ih.T, cell.gain_ih, cell.bias_ih) + _ln(
            h_in @ W.T, cell.gain_hh, cell.bias_hh
        )
    else:
        gates = x @ cell.weight_ih.T + cell.bias_ih + h_in @ W.T + cell.bias_hh
    i, f, g, o = gates.chunk(4, -1)
    c_hat = torch.sigmoid(f) * cell_prev + torch.sigmoid(i) * torch.tanh(g)
    c_out = _ln(c_hat, cell.gain_cell, cell.bias_cell) if cell.layer_norm else c_hat
    h_hat = torch.sigmoid(o) * torch.tanh(c_out)
    d_h = p_h if masks is None or masks.zoneout_hidden is None else masks.zoneout_hidden
    d_c = p_c if masks is None or masks.zoneout_cell is None else masks.zoneout_cell
    hidden = d_h * hidden_prev + (1 - d_h) * h_hat if p_h else h_hat
    memory = d_c * cell_prev + (1 - d_c) * c_hat if p_c else c_hat
    return hidden, memory


def reference_gru(cell: GRUCell, x, hidden_prev, masks: SequenceMasks | None, p_z: float):
    h_in, W = _parts(cell, masks, hidden_prev)
    b = cell.bias_hh
    a = x @ cell.weight_ih.T
    a = _ln(a, cell.gain_ih, cell.bias_ih) if cell.layer_norm else a + cell.bias_ih
    a_r, a_z, a_n = a.chunk(3, -1)

    def term(h, rows):
        product = h @ W[rows].T
        if cell.layer_norm:
            return _ln(product, cell.gain_hh[rows], b[rows])
        return product + b[rows]

    if cell.reset_after:
        r_rec, z_rec, n_rec = term(h_in, slice(0, 3 * H)).chunk(3, -1)
        r, z = torch.sigmoid(a_r + r_rec), torch.sigmoid(a_z + z_rec)
        n = torch.tanh(a_n + r * n_rec)
    else:
        r_rec, z_rec = term(h_in, slice(0, 2 * H)).chunk(2, -1)
        r, z = torch.sigmoid(a_r + r_rec), torch.sigmoid(a_z + z_rec)
        n = torch.tanh(a_n + term(r * h_in, slice(2 * H, 3 * H)))
    h_hat = (1 - z) * n + z * hidden_prev
    d = p_z if masks is None or masks.zoneout_hidden is None else masks.zoneout_hidden
    return d * hidden_prev + (1 - d) * h_hat if p_z else h_hat


OPTIONS = [
    {"layer_norm": True},
    {"recurrent_dropout": 0.5},
    {"zoneout": 0.3},
    {"weight_drop": 0.4},
    {"layer_norm": True, "recurrent_dropout": 0.5, "zoneout": 0.3, "weight_drop": 0.4},
]
IDS = ["layer_norm", "recurrent_dropout", "zoneout", "weight_drop", "all"]


def _masks_for(cell, options: dict) -> SequenceMasks:
    return _masks(
        cell,
        recurrent="recurrent_dropout" in options,
        zoneout="zoneout" in options,
        weight="weight_drop" in options,
    )


def _scramble_norm(cell) -> None:
    """Gains and shifts away from 1 and 0, so a missing LN parameter shows."""
    with torch.no_grad():
        for name, parameter in cell.named_parameters():
            if name.startswith("gain_") or name == "bias_cell":
                parameter.copy_(torch.randn_like(parameter))


@pytest.mark.parametrize("options", OPTIONS, ids=IDS)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_elman_equals_reference(float64, options: dict, training: bool) -> None:
    cell = ElmanCell(F_IN, H, **options).train(training)
    _scramble_norm(cell)
    x, state = torch.randn(B, F_IN), random_state(cell, B)
    masks = _masks_for(cell, options) if training else None
    got = cell.step(cell.project_input(x), state, masks).hidden
    expected = reference_elman(cell, x, state.hidden, masks, options.get("zoneout", 0.0))
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("options", [*OPTIONS, {"zoneout": (0.2, 0.6)}], ids=[*IDS, "pair"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_lstm_equals_reference(float64, options: dict, training: bool) -> None:
    cell = LSTMCell(F_IN, H, **options).train(training)
    _scramble_norm(cell)
    x, state = torch.randn(B, F_IN), random_state(cell, B)
    masks = _masks_for(cell, options) if training else None
    got = cell.step(cell.project_input(x), state, masks)
    zoneout = options.get("zoneout", 0.0)
    p_h, p_c = zoneout if isinstance(zoneout, tuple) else (zoneout, zoneout)
    expected = reference_lstm(cell, x, state, masks, p_h, p_c)
    torch.testing.assert_close(tuple(got), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("options", OPTIONS, ids=IDS)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_gru_equals_reference(float64, options: dict, training: bool, reset_after: bool) -> None:
    cell = GRUCell(F_IN, H, reset_after=reset_after, **options).train(training)
    _scramble_norm(cell)
    x, state = torch.randn(B, F_IN), random_state(cell, B)
    masks = _masks_for(cell, options) if training else None
    got = cell.step(cell.project_input(x), state, masks).hidden
    expected = reference_gru(cell, x, state.hidden, masks, options.get("zoneout", 0.0))
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("make", [ElmanCell, GRUCell])
def test_eval_zoneout_is_the_expectation_exactly(make) -> None:
    """Eval: h_t = p h_{t-1} + (1 − p) h̃_t, bitwise, with h̃_t from the plain cell."""
    cell = make(F_IN, H, zoneout=0.25).eval()
    plain = make(F_IN, H)
    plain.load_state_dict(cell.state_dict())
    x, state = torch.randn(B, F_IN), random_state(cell, B)
    new = plain(x, state).hidden
    assert torch.equal(cell(x, state).hidden, 0.25 * state.hidden + (1 - 0.25) * new)


def test_lstm_eval_zoneout_pair_is_the_expectation_exactly() -> None:
    cell = LSTMCell(F_IN, H, zoneout=(0.2, 0.7)).eval()
    plain = LSTMCell(F_IN, H)
    plain.load_state_dict(cell.state_dict())
    x, state = torch.randn(B, F_IN), random_state(cell, B)
    h_hat, c_hat = plain(x, state)
    hidden, memory = cell(x, state)
    assert torch.equal(hidden, 0.2 * state.hidden + (1 - 0.2) * h_hat)
    assert torch.equal(memory, 0.7 * state.cell + (1 - 0.7) * c_hat)


@pytest.mark.parametrize("make", [ElmanCell, LSTMCell, GRUCell])
@pytest.mark.parametrize("option", ["recurrent_dropout", "weight_drop"])
def test_eval_dropout_is_the_plain_cell_bitwise(make, option: str) -> None:
    cell = make(F_IN, H, **{option: 0.5}).eval()
    plain = make(F_IN, H)
    plain.load_state_dict(cell.state_dict())
    x, state = torch.randn(B, F_IN), random_state(cell, B)
    assert cell.begin_sequence(7, B, like=x) is None
    for got, expected in zip(cell(x, state), plain(x, state), strict=True):
        assert torch.equal(got, expected)


@pytest.mark.parametrize("make", [ElmanCell, LSTMCell, GRUCell])
def test_options_off_draw_nothing_and_change_nothing(make) -> None:
    """All options at their off values: no masks in training, the plain step bitwise."""
    off = {"layer_norm": False, "recurrent_dropout": 0.0, "zoneout": 0.0, "weight_drop": 0.0}
    cell, plain = make(F_IN, H, **off).train(), make(F_IN, H)
    assert [n for n, _ in cell.named_parameters()] == [n for n, _ in plain.named_parameters()]
    plain.load_state_dict(cell.state_dict())
    x, state = torch.randn(B, F_IN), random_state(cell, B)
    assert cell.begin_sequence(7, B, like=x) is None
    assert not cell.changes_step
    for got, expected in zip(cell(x, state), plain(x, state), strict=True):
        assert torch.equal(got, expected)


@pytest.mark.parametrize("make", [ElmanCell, LSTMCell, GRUCell])
def test_gradcheck_eval_with_layer_norm_and_zoneout(float64, make) -> None:
    cell = make(F_IN, H, layer_norm=True, zoneout=0.3, recurrent_dropout=0.2, weight_drop=0.2)
    _scramble_norm(cell)
    assert cell_gradcheck(cell.eval())


@pytest.mark.parametrize("make", [ElmanCell, LSTMCell, GRUCell])
def test_gradcheck_training_with_injected_masks(float64, make) -> None:
    options = {"layer_norm": True, "zoneout": 0.3, "recurrent_dropout": 0.5, "weight_drop": 0.4}
    cell = make(F_IN, H, **options).train()
    _scramble_norm(cell)
    names = [name for name, _ in cell.named_parameters()]
    parameters = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    fixed = _masks(cell, weight=False)
    mask_hh = torch.bernoulli(torch.full(cell.weight_hh.shape, 0.6)) / 0.6
    x = torch.randn(B, F_IN, requires_grad=True)
    state = list(random_state(cell, B, requires_grad=True))
    n_state = len(state)

    def step(x, *tensors):
        values = dict(zip(names, tensors[n_state:], strict=True))
        masks = fixed._replace(weight_hh=values["weight_hh"] * mask_hh)  # W̃_hh = M ⊙ W_hh
        new = functional_call(cell, values, (x, cell.state_type(*tensors[:n_state])),
                              {"masks": masks})  # fmt: skip
        return tuple(new)

    assert torch.autograd.gradcheck(step, (x, *state, *parameters), atol=1e-8)


def test_begin_sequence_shapes_and_determinism() -> None:
    cell = LSTMCell(F_IN, H, proj_size=2, recurrent_dropout=0.5, zoneout=(0.1, 0.2),
                    weight_drop=0.3).train()  # fmt: skip
    x = torch.randn(6, B, F_IN)
    torch.manual_seed(7)
    first = cell.begin_sequence(6, B, like=x)
    torch.manual_seed(7)
    again = cell.begin_sequence(6, B, like=x)
    others = [cell.begin_sequence(6, B, like=x) for _ in range(3)]  # m has only B × 2 entries
    assert first.recurrent.shape == (B, 2)  # (B, S), S = P
    assert first.zoneout_hidden.shape == (6, B, 2)  # (T, B, S)
    assert first.zoneout_cell.shape == (6, B, H)  # (T, B, H)
    assert first.weight_hh.shape == cell.weight_hh.shape
    for a, b, *later in zip(first, again, *others, strict=True):
        assert torch.equal(a, b)  # the same seed, the same masks
        assert not all(torch.equal(a, c) for c in later)  # the next passes draw new ones
    assert set(first.recurrent.unique().tolist()) <= {0.0, 2.0}  # 0 or 1/(1 − p)
    step = first.at(4)
    assert step.recurrent is first.recurrent  # m: the same at every step
    assert step.weight_hh is first.weight_hh  # W̃_hh: the same at every step
    assert torch.equal(step.zoneout_hidden, first.zoneout_hidden[4])  # d_t: this step's


def test_forward_in_training_draws_masks_for_its_step() -> None:
    cell = ElmanCell(F_IN, H, recurrent_dropout=0.5).train()
    x, state = torch.randn(B, F_IN), random_state(cell, B)
    torch.manual_seed(3)
    got = cell(x, state).hidden
    torch.manual_seed(3)
    masks = cell.begin_sequence(1, B, like=x).at(0)
    assert torch.equal(got, cell.step(cell.project_input(x), state, masks).hidden)
    assert not torch.equal(got, cell.eval()(x, state).hidden)


def test_locked_dropout_one_mask_for_all_steps() -> None:
    x = torch.ones(9, B, F_IN)  # (T, B, F)
    dropped = locked_dropout(x, 0.5, training=True)
    assert torch.equal(dropped, dropped[:1].expand_as(dropped))  # the same mask at every t
    assert set(dropped.unique().tolist()) <= {0.0, 2.0}
    assert locked_dropout(x, 0.5, training=False) is x


def test_layer_norm_parameters_start_at_one_and_zero() -> None:
    cell = LSTMCell(F_IN, H, layer_norm=True)
    assert torch.equal(cell.gain_ih, torch.ones(4 * H))
    assert torch.equal(cell.gain_hh, torch.ones(4 * H))
    assert torch.equal(cell.gain_cell, torch.ones(H))
    assert torch.equal(cell.bias_cell, torch.zeros(H))
    assert "layer_norm=True" in repr(cell)


@pytest.mark.parametrize(
    ("make", "options", "match"),
    [
        (ElmanCell, {"recurrent_dropout": 1.0}, "recurrent_dropout.*got 1.0"),
        (LSTMCell, {"weight_drop": -0.1}, "weight_drop.*got -0.1"),
        (GRUCell, {"zoneout": (0.1, 0.2)}, "zoneout.*one probability"),
        (LSTMCell, {"zoneout": (0.1, 0.2, 0.3)}, "zoneout.*pair"),
        (ElmanCell, {"layer_norm": 1}, "layer_norm.*True or False"),
    ],
)
def test_bad_options_raise_config_error(make, options: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make(F_IN, H, **options)


def test_layer_norm_matches_torch_layer_norm() -> None:
    """Our written-out LN agrees with F.layer_norm (so the references above mean LN)."""
    a, g, b = torch.randn(B, 8), torch.randn(8), torch.randn(8)
    torch.testing.assert_close(_ln(a, g, b), F.layer_norm(a, (8,), g, b, eps=EPS))

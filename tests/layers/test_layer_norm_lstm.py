"""The lstm_ln row (`rnnkit.layers.fast.layer_norm_lstm`) against LSTMCell(layer_norm=True)
stepped under autograd: values, every gradient, second derivatives, and where the row applies."""

from __future__ import annotations

import pytest
import torch
from layer_helpers import assert_close

import rnnkit
from rnnkit.cells import LSTMCell
from rnnkit.errors import ConfigError
from rnnkit.layers import Recurrent
from rnnkit.layers.fast import TABLE, configuration, lookup
from rnnkit.layers.fast.layer_norm_lstm import ln_lstm_sequence
from rnnkit.layers.fast.recurrent_product import onednn_ready
from rnnkit.layers.lengths import SequenceLengths
from rnnkit.layers.recurrent import run_cell

T, B, F_IN, H = 7, 5, 3, 4


def _cell(**options) -> LSTMCell:
    """A layer-normalised cell with gains and shifts away from (1, 0), so each one matters."""
    cell = LSTMCell(F_IN, H, layer_norm=True, **options)
    with torch.no_grad():
        for parameter in cell.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    return cell


def _row_and_reference(cell, x, lengths, reverse, seed=3):
    """(outputs, h_n, c_n, ∂L/∂ every leaf) from the row (through Recurrent) and from the cell's
    step under autograd on the same masks; L weighs every output and both final states."""
    layer = Recurrent(cell, reverse=reverse, batch_first=False)
    assert layer.path == "lstm_ln"
    hidden0 = torch.randn(x.shape[1], H, requires_grad=True)
    cell0 = torch.randn(x.shape[1], H, requires_grad=True)
    padding = SequenceLengths.checked(lengths, batch_size=x.shape[1], steps=len(x), device=x.device)
    leaves = [x, hidden0, cell0, *cell.parameters()]
    probe = torch.randn(len(x), x.shape[1], H)
    results = []
    for row in (True, False):
        torch.manual_seed(seed)  # the same masks for both
        if row:
            outputs, final = layer.run(x, cell.state_type(hidden0, cell0), padding)
            assert type(outputs.grad_fn).__name__ != "StackBackward0"  # not the cell's loop
        else:
            masks = cell.begin_sequence(len(x), x.shape[1], like=x)
            initial = cell.state_type(hidden0, cell0)
            outputs, final = run_cell(cell, x, initial, padding, reverse=reverse, masks=masks)
        loss = (outputs * probe).sum() + final.hidden.square().sum() + final.cell.sin().sum()
        results.append((outputs, *final, *torch.autograd.grad(loss, leaves)))
    return results


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, [7, 7, 5, 2, 1], [2, 7, 1, 5, 7]],
                         ids=["full", "sorted", "unsorted"])  # fmt: skip
@pytest.mark.parametrize("bias", [True, False])
def test_equals_the_cell_under_autograd(float64, reverse, lengths, bias) -> None:
    """Outputs, final state and the gradients of x, h_0, c_0 and all parameters (W, b, the
    gains g_ih, g_hh, g_c and the shift b_c) to 1e-10 in float64."""
    cell = _cell(bias=bias)
    x = torch.randn(T, B, F_IN, requires_grad=True)
    ours, reference = _row_and_reference(cell, x, lengths, reverse)
    assert len(ours) == 3 + 3 + len(list(cell.parameters()))
    for got, want in zip(ours, reference, strict=True):
        assert_close(got, want, 1e-10)


@pytest.mark.parametrize("options", [{"recurrent_dropout": 0.4}, {"weight_drop": 0.5},
                                     {"recurrent_dropout": 0.3, "weight_drop": 0.3}],
                         ids=["rd", "wd", "both"])  # fmt: skip
@pytest.mark.parametrize("lengths", [None, [2, 7, 1, 5, 7]], ids=["full", "lengths"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_recurrent_dropout_and_weight_drop(float64, options, lengths, reverse, training) -> None:
    """m and W̃_hh of one pass, as the cell's step reads them (eval: no masks, W_hh itself)."""
    cell = _cell(**options).train(training)
    x = torch.randn(T, B, F_IN, requires_grad=True)
    ours, reference = _row_and_reference(cell, x, lengths, reverse)
    for got, want in zip(ours, reference, strict=True):
        assert_close(got, want, 1e-10)
    if training:  # the masks changed the numbers
        plain, _ = run_cell(cell, x, cell.init_state(B), None, reverse=reverse)
        assert not torch.allclose(ours[0], plain)


def test_float32_to_rounding_with_onednn_products() -> None:
    """float32 at H = 256, B = 8 (the per-step products go through oneDNN where torch has it)
    against the same weights in float64, for the values and every gradient."""
    cell = LSTMCell(16, 256, layer_norm=True)
    x = torch.randn(12, 8, 16)
    assert onednn_ready(cell.weight_hh, 8) == (
        torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    )
    results = []
    for dtype in (torch.float32, torch.float64):
        copy = cell.to(dtype)
        inputs = x.to(dtype).requires_grad_()
        outputs, final = Recurrent(copy, batch_first=False)(inputs)
        loss = outputs.sum() + final.cell.square().sum()
        results.append([outputs, *final, *torch.autograd.grad(loss, [inputs, *copy.parameters()])])
    for ours, reference in zip(*results, strict=True):
        scale = max(reference.abs().max().item(), 1.0)
        assert_close(ours.double(), reference, 2e-5 * scale)


@pytest.mark.parametrize("lengths", [None, torch.tensor([4, 2, 1])], ids=["full", "lengths"])
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck(float64, lengths, reverse) -> None:
    """float64 gradcheck of the hand-derived backward, every input including the gains."""
    cell = LSTMCell(2, 3, layer_norm=True)
    with torch.no_grad():  # gains away from 1 and shifts away from 0, so each one matters
        for parameter in cell.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    x = torch.randn(4, 3, 2, requires_grad=True)
    h0 = torch.randn(3, 3, requires_grad=True)
    c0 = torch.randn(3, 3, requires_grad=True)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    norms = (cell.gain_ih, cell.gain_hh, cell.gain_cell, cell.bias_cell)
    mask = torch.bernoulli(torch.full((3, 3), 0.7)) / 0.7  # m: a recurrent dropout mask

    def run(x, h0, c0, *parameters):
        return ln_lstm_sequence(x, (h0, c0), parameters[:4], parameters[4:], lengths=lengths,
                                reverse=reverse, mask=mask)  # fmt: skip

    assert torch.autograd.gradcheck(run, (x, h0, c0, *weights, *norms))


@pytest.mark.parametrize("lengths", [None, [5, 2, 4]], ids=["full", "lengths"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_gradient_penalty_equals_autograd(float64, lengths, bidirectional) -> None:
    """Double backward (a gradient penalty) through the row's replay equals bptt='autograd'."""
    fast = rnnkit.LSTM(F_IN, H, layer_norm=True, bidirectional=bidirectional)
    slow = rnnkit.LSTM(F_IN, H, layer_norm=True, bidirectional=bidirectional, bptt="autograd")
    slow.load_state_dict(fast.state_dict())
    assert (fast.path, slow.path) == ("lstm_ln", "autograd")
    x0 = torch.randn(5, 3, F_IN)
    given = None if lengths is None else torch.tensor(lengths)
    results = []
    for layer in (fast, slow):
        x = x0.clone().requires_grad_()
        outputs = layer(x, lengths=given)[0]
        (grad_x,) = torch.autograd.grad(outputs.sum(), x, create_graph=True)
        penalty = grad_x.square().sum() + outputs.square().sum()
        results.append([grad_x, *torch.autograd.grad(penalty, [x, *layer.parameters()])])
    for ours, reference in zip(*results, strict=True):
        assert_close(ours, reference, 1e-10)


def test_nan_in_the_padding_stays_out(float64) -> None:
    """Padded steps may hold anything: NaN there changes no value and no gradient."""
    cell = _cell()
    lengths = torch.tensor([7, 3, 5, 1, 7])
    x = torch.randn(T, B, F_IN)
    dirty = x.clone()
    for b, length in enumerate(lengths.tolist()):
        dirty[length:, b] = float("nan")
    padding = SequenceLengths.checked(lengths, batch_size=B, steps=T, device=x.device)
    results = []
    for inputs in (x, dirty):
        inputs = inputs.clone().requires_grad_()
        outputs, final = Recurrent(cell, batch_first=False).run(inputs, cell.init_state(B), padding)
        loss = outputs.sum() + final.hidden.sum()
        results.append([outputs, *torch.autograd.grad(loss, [inputs, *cell.parameters()])])
    for clean, with_nan in zip(*results, strict=True):
        assert torch.isfinite(with_nan).all()  # ∂L/∂x is 0 on the padding
        assert_close(with_nan, clean, 1e-12)


def test_the_table_row_and_where_it_applies() -> None:
    """layer_norm alone (with weight drop, recurrent dropout) takes the row; every other
    layer-normalised LSTM configuration has no row and runs the cell's step."""
    assert TABLE[(LSTMCell, "layer_norm")].name == "lstm_ln"
    assert TABLE[(LSTMCell, "layer_norm")].hand_derived
    assert configuration(LSTMCell(3, 4, layer_norm=True)) == (LSTMCell, "layer_norm")
    for options in ({"recurrent_dropout": 0.3}, {"weight_drop": 0.3}, {"bias": False}):
        assert lookup(LSTMCell(3, 4, layer_norm=True, **options)).name == "lstm_ln"
    falling_back = [
        LSTMCell(3, 4, layer_norm=True, zoneout=0.2),
        LSTMCell(3, 4, layer_norm=True, zoneout=(0.0, 0.3)),
        LSTMCell(3, 4, layer_norm=True, peephole=True),
        LSTMCell(3, 4, layer_norm=True, proj_size=2),
        LSTMCell(3, 4, layer_norm=True, coupled_gates=True),
    ]
    for cell in falling_back:
        assert lookup(cell) is None
        layer = Recurrent(cell, batch_first=False)
        assert layer.path == "autograd"
        x = torch.randn(5, 2, 3, requires_grad=True)
        outputs, _ = layer(x)
        assert type(outputs.grad_fn).__name__ == "StackBackward0"  # run_cell's torch.stack
        with pytest.raises(ConfigError, match="bptt='hand'"):
            Recurrent(cell, bptt="hand")
    assert rnnkit.LSTM(3, 4, layer_norm=True).path == "lstm_ln"
    assert rnnkit.LSTM(3, 4, layer_norm=True, zoneout=0.1).path == "autograd"


def test_recurrent_chooses_the_row_or_the_step() -> None:
    """The row for T ≥ 2 (and for bptt='hand' at any T), the cell's step for T = 1 and for
    bptt='autograd'."""
    cell = LSTMCell(3, 4, layer_norm=True)

    def node(steps: int, bptt: str = "auto") -> str:
        layer = Recurrent(cell, batch_first=False, bptt=bptt)  # type: ignore[arg-type]
        return type(layer(torch.randn(steps, 2, 3, requires_grad=True))[0].grad_fn).__name__

    assert "LayerNormLSTM" in node(5)
    assert "LayerNormLSTM" not in node(1)  # streaming: the cell's step
    assert "LayerNormLSTM" in node(1, bptt="hand")
    assert "LayerNormLSTM" not in node(5, bptt="autograd")


def test_autocast_takes_the_cell_step() -> None:
    """Under autocast the row runs the cell's step (LN's float32 there is not the loop's)."""
    cell = LSTMCell(3, 4, layer_norm=True)
    x = torch.randn(6, 2, 3)
    state = cell.init_state(2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        outputs, final = lookup(cell).run(cell, x, state, None, False)
        expected, expected_final = run_cell(cell, x, state)
    assert outputs.dtype == expected.dtype
    assert torch.equal(outputs, expected)
    assert torch.equal(final.cell, expected_final.cell)

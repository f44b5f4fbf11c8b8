"""The fused LSTM fast path against LSTMCell stepped under autograd: values and every gradient."""

from __future__ import annotations

import pytest
import torch
from layer_helpers import assert_close

from rnnkit.cells import LSTMCell
from rnnkit.layers.fast.fused_lstm import lstm_sequence
from rnnkit.layers.fast.recurrent_product import onednn_ready
from rnnkit.layers.lengths import SequenceLengths
from rnnkit.layers.recurrent import run_cell


def _both(cell: LSTMCell, x: torch.Tensor, lengths: torch.Tensor | None, reverse: bool):
    """(outputs, h_n, c_n, gradients…) from the fused path and from the cell's own loop."""
    T, B, _ = x.shape
    x = x.requires_grad_()
    hidden0 = torch.randn(B, cell.hidden_size, requires_grad=True)
    cell0 = torch.randn(B, cell.hidden_size, requires_grad=True)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    leaves = [x, hidden0, cell0, *(w for w in weights if w is not None)]
    probe = torch.randn(T, B, cell.hidden_size)
    padding = None if lengths is None else SequenceLengths.build(lengths, T, x.device)
    fused = lstm_sequence(x, (hidden0, cell0), weights, lengths=lengths, reverse=reverse)
    plain_outputs, plain_state = run_cell(
        cell, x, cell.state_type(hidden0, cell0), padding, reverse=reverse
    )
    results = []
    for outputs, hidden, memory in (fused, (plain_outputs, *plain_state)):
        loss = (outputs * probe).sum() + hidden.square().sum() + memory.sum()
        results.append((outputs, hidden, memory, *torch.autograd.grad(loss, leaves)))
    return results


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, [7, 7, 5, 2, 1]])
@pytest.mark.parametrize("bias", [True, False])
def test_equals_the_cell_under_autograd(
    float64: torch.dtype, reverse: bool, lengths: list[int] | None, bias: bool
) -> None:
    cell = LSTMCell(3, 4, bias=bias)
    x = torch.randn(7, 5, 3)  # (T, B, F)
    given = None if lengths is None else torch.tensor(lengths)
    for ours, reference in zip(*_both(cell, x, given, reverse), strict=True):
        assert_close(ours, reference, 1e-10)


def test_single_step_and_gradcheck(float64: torch.dtype) -> None:
    cell = LSTMCell(2, 3)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    for steps, lengths in ((1, None), (4, torch.tensor([4, 2]))):
        x = torch.randn(steps, 2, 2, requires_grad=True)
        h0 = torch.randn(2, 3, requires_grad=True)
        c0 = torch.randn(2, 3, requires_grad=True)
        for reverse in (False, True):

            def run(x, h0, c0, *weights, reverse=reverse, lengths=lengths):
                return lstm_sequence(x, (h0, c0), weights, lengths=lengths, reverse=reverse)

            assert torch.autograd.gradcheck(run, (x, h0, c0, *weights))


@pytest.mark.parametrize(
    ("with_lengths", "reverse"), [(True, False), (False, False), (False, True)]
)
def test_float32_with_large_hidden_size_matches_float64(with_lengths: bool, reverse: bool) -> None:
    """H = 256, B = 4 in float32: the per-step products go through oneDNN where torch has it
    (without lengths: the plain loops, whose backward adds g_{t-1} inside the product)."""
    cell = LSTMCell(16, 256)
    weights = tuple(w.detach().requires_grad_() for w in
                    (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))  # fmt: skip
    x = torch.randn(6, 4, 16, requires_grad=True)
    zeros = torch.zeros(4, 256)
    lengths = torch.tensor([6, 4, 4, 1]) if with_lengths else None
    assert onednn_ready(weights[1], 4) == (
        torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    )
    results = []
    for dtype in (torch.float32, torch.float64):
        inputs = [t.detach().to(dtype).requires_grad_() for t in (x, *weights)]
        outputs, hidden, memory = lstm_sequence(
            inputs[0], (zeros.to(dtype), zeros.to(dtype)), tuple(inputs[1:]), lengths=lengths,
            reverse=reverse,
        )  # fmt: skip
        grads = torch.autograd.grad(outputs.sum() + memory.sum(), inputs)
        results.append([outputs, hidden, *grads])
    for ours, reference in zip(*results, strict=True):
        scale = max(reference.abs().max().item(), 1.0)
        assert_close(ours.double(), reference, 1e-5 * scale)


def test_second_derivatives_are_refused() -> None:
    cell = LSTMCell(2, 3)
    x = torch.randn(3, 1, 2, requires_grad=True)
    zeros = torch.zeros(1, 3)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    outputs, _, _ = lstm_sequence(x, (zeros, zeros), weights)
    with pytest.raises(RuntimeError, match="first derivatives only"):  # g = 1 needs no grad
        torch.autograd.grad(outputs.sum(), x, create_graph=True)

"""The fast sequences as single operators, for the graphs of `torch.compile` and `torch.export`.

References:
    https://pytorch.org/tutorials/advanced/python_custom_ops.html (torch.library.custom_op)
    https://pytorch.org/docs/stable/library.html (register_fake, register_autograd)

A compiler traces Python: the time loop of a fast path (`fused_lstm`, `elman_bptt`, `fast_gru`)
would be unrolled into T copies of its step, forwards and backwards (compiling took 77 s for
`rnnkit.RNN` and 187 s for GRU at 32×100×128×128 before this module; 1–2 s a layer with it,
`python -m bench.compile`, bench/README.md), and the in-place
buffers of the hand-derived backward cannot be traced at all. Here each sequence is one operator
of the `rnnkit` namespace, with

    a fake implementation     the shapes of its outputs, all a tracer needs to know
    a registered autograd     its backward is a second operator running the hand-derived
                              equations of the module that defines them (first derivatives
                              only: a second one raises torch's "no autograd kernel" error)

so a traced graph holds two nodes per layer and direction, whatever T, and runs the same code as
eager mode. `Recurrent.run` (`rnnkit.layers.recurrent`) sends a sequence here while
`torch.compiler.is_compiling()` (torch.compile and torch.export) when every step is real (no
`lengths`) and autocast is off; otherwise a compiler traces the cell's own step.

The reversed direction is the forward one on the time-flipped sequence (all steps are real).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rnnkit.cells.base import LSTMState, RNNState, State
from rnnkit.cells.gru import GRUCell
from rnnkit.layers.fast.elman_bptt import _run_forward as elman_forward
from rnnkit.layers.fast.elman_bptt import elman_backward
from rnnkit.layers.fast.fast_gru import gru_backward, gru_forward
from rnnkit.layers.fast.fused_lstm import lstm_backward, lstm_forward

ALL = (True,) * 7  # every input's gradient: the op's autograd decides which ones it returns


def _combined(first: Tensor | None, second: Tensor | None) -> Tensor | None:
    """b_ih + b_hh (or the one that exists), added by autograd outside the operators."""
    if first is None or second is None:
        return first if second is None else second
    return first + second


def _or_zeros(grad: Tensor | None, like: Tensor) -> Tensor:
    """An output's gradient, zeros where autograd sends None (the output was not used)."""
    return torch.zeros_like(like) if grad is None else grad


# Elman: y = elman(x, h_0, W_ih, W_hh, b) -------------------------------------------------------


@torch.library.custom_op("rnnkit::elman_sequence", mutates_args=())
def elman_op(
    x: Tensor,
    hidden0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias: Tensor | None,
    nonlinearity: str,
) -> Tensor:
    """Outputs h_1…h_T (T, B, H) of `elman_bptt._run_forward`."""
    return elman_forward(x, hidden0, weight_ih, weight_hh, bias, nonlinearity, None)


@elman_op.register_fake
def _(x: Tensor, hidden0: Tensor, weight_ih: Tensor, *_: Any) -> Tensor:
    return x.new_empty(x.shape[0], x.shape[1], weight_ih.shape[0])


@torch.library.custom_op("rnnkit::elman_sequence_backward", mutates_args=())
def elman_backward_op(
    grad_outputs: Tensor,
    x: Tensor,
    hidden0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    outputs: Tensor,
    nonlinearity: str,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """∂L/∂ of x, h_0, W_ih, W_hh, b by `elman_bptt.elman_backward`."""
    saved = (x, hidden0, weight_ih, weight_hh, outputs, None)
    grads = elman_backward(grad_outputs.contiguous(), saved, nonlinearity, (*ALL[:5], False))
    return tuple(g.contiguous() for g in grads[:5])  # type: ignore[union-attr]


@elman_backward_op.register_fake
def _(
    grad_outputs: Tensor, x: Tensor, hidden0: Tensor, weight_ih: Tensor, weight_hh: Tensor, *_: Any
) -> tuple[Tensor, ...]:
    bias = weight_hh.new_empty(weight_hh.shape[0])
    return tuple(t.new_empty(t.shape) for t in (x, hidden0, weight_ih, weight_hh, bias))


def _elman_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    x, hidden0, weight_ih, weight_hh, bias, nonlinearity = inputs
    ctx.save_for_backward(x, hidden0, weight_ih, weight_hh, output)
    ctx.nonlinearity, ctx.has_bias = nonlinearity, bias is not None


def _elman_backward(ctx: Any, grad_outputs: Tensor) -> tuple[Tensor | None, ...]:
    x, hidden0, weight_ih, weight_hh, outputs = ctx.saved_tensors
    grads = elman_backward_op(
        grad_outputs, x, hidden0, weight_ih, weight_hh, outputs, ctx.nonlinearity
    )
    return (*grads[:4], grads[4] if ctx.has_bias else None, None)


elman_op.register_autograd(_elman_backward, setup_context=_elman_setup)


# LSTM: (y, h_n, c_n) = lstm(x, h_0, c_0, W_ih, W_hh, b) ----------------------------------------


@torch.library.custom_op("rnnkit::lstm_sequence", mutates_args=())
def lstm_op(
    x: Tensor,
    hidden0: Tensor,
    cell0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Outputs (T, B, H), h_n, c_n, and the gates and cells the backward reads."""
    weights = (weight_ih, weight_hh, bias)
    outputs, hidden, cell, gates, cells, _ = lstm_forward(x, (hidden0, cell0), weights, None, False)
    return outputs, hidden, cell, gates, cells  # outputs are the hiddens (no lengths)


@lstm_op.register_fake
def _(x: Tensor, hidden0: Tensor, cell0: Tensor, weight_ih: Tensor, *_: Any) -> tuple[Tensor, ...]:
    T, B, _ = x.shape
    G = weight_ih.shape[0]
    steps = x.new_empty(T, B, G // 4)
    return (
        steps,
        hidden0.new_empty(hidden0.shape),
        cell0.new_empty(cell0.shape),
        x.new_empty(T, B, G),
        steps.new_empty(steps.shape),
    )


@torch.library.custom_op("rnnkit::lstm_sequence_backward", mutates_args=())
def lstm_backward_op(
    grad_outputs: Tensor,
    grad_hidden: Tensor,
    grad_cell: Tensor,
    x: Tensor,
    hidden0: Tensor,
    cell0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    gates: Tensor,
    cells: Tensor,
    outputs: Tensor,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """∂L/∂ of x, h_0, c_0, W_ih, W_hh, b by `fused_lstm.lstm_backward`."""
    saved = (x, hidden0, cell0, weight_ih, weight_hh, gates, cells, outputs)
    grads = lstm_backward(
        (grad_outputs, grad_hidden, grad_cell), saved, None, False, (*ALL[:6], False)
    )
    return tuple(g.contiguous() for g in grads[:6])  # type: ignore[union-attr]


@lstm_backward_op.register_fake
def _(
    grad_outputs: Tensor,
    grad_hidden: Tensor,
    grad_cell: Tensor,
    x: Tensor,
    hidden0: Tensor,
    cell0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    *_: Any,
) -> tuple[Tensor, ...]:
    bias = weight_hh.new_empty(weight_hh.shape[0])
    return tuple(t.new_empty(t.shape) for t in (x, hidden0, cell0, weight_ih, weight_hh, bias))


def _lstm_setup(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, ...]) -> None:
    x, hidden0, cell0, weight_ih, weight_hh, bias = inputs
    outputs, _, _, gates, cells = output
    ctx.save_for_backward(x, hidden0, cell0, weight_ih, weight_hh, gates, cells, outputs)
    ctx.has_bias = bias is not None


def _lstm_backward(ctx: Any, *grads: Tensor | None) -> tuple[Tensor | None, ...]:
    x, hidden0, cell0, weight_ih, weight_hh, gates, cells, outputs = ctx.saved_tensors
    likes = (outputs, hidden0, cell0)
    wanted = [_or_zeros(g, like) for g, like in zip(grads[:3], likes, strict=True)]
    found = lstm_backward_op(
        *wanted, x, hidden0, cell0, weight_ih, weight_hh, gates, cells, outputs
    )
    return (*found[:5], found[5] if ctx.has_bias else None)


lstm_op.register_autograd(_lstm_backward, setup_context=_lstm_setup)


# GRU (reset after): y = gru(x, h_0, W_ih, W_hh, b_ih, b_hh) ----------------------------------


@torch.library.custom_op("rnnkit::gru_sequence", mutates_args=())
def gru_op(
    x: Tensor,
    hidden0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
) -> tuple[Tensor, Tensor]:
    """Outputs (T, B, H) and the saved [r | z | n | g_n] (T, B, 4H) of `fast_gru.gru_forward`."""
    return gru_forward(x, hidden0, (weight_ih, weight_hh, bias_ih, bias_hh))


@gru_op.register_fake
def _(x: Tensor, hidden0: Tensor, weight_ih: Tensor, *_: Any) -> tuple[Tensor, Tensor]:
    T, B, _ = x.shape
    H = weight_ih.shape[0] // 3
    return x.new_empty(T, B, H), x.new_empty(T, B, 4 * H)


@torch.library.custom_op("rnnkit::gru_sequence_backward", mutates_args=())
def gru_backward_op(
    grad_outputs: Tensor,
    grad_hidden: Tensor,
    x: Tensor,
    hidden0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    outputs: Tensor,
    saved: Tensor,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """∂L/∂ of x, h_0, W_ih, W_hh, b_ih, b_hh by `fast_gru.gru_backward`."""
    grads = (grad_outputs.contiguous(), grad_hidden)
    found = gru_backward(grads, x, hidden0, weight_ih, weight_hh, outputs, saved)
    return tuple(g.contiguous() for g in found)  # type: ignore[return-value]


@gru_backward_op.register_fake
def _(
    grad_outputs: Tensor,
    grad_hidden: Tensor,
    x: Tensor,
    hidden0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    *_: Any,
) -> tuple[Tensor, ...]:
    bias = weight_hh.new_empty(weight_hh.shape[0])
    return tuple(t.new_empty(t.shape) for t in (x, hidden0, weight_ih, weight_hh, bias, bias))


def _gru_setup(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, Tensor]) -> None:
    x, hidden0, weight_ih, weight_hh, bias_ih, bias_hh = inputs
    ctx.save_for_backward(x, hidden0, weight_ih, weight_hh, *output)
    ctx.has_bias = (bias_ih is not None, bias_hh is not None)


def _gru_backward(ctx: Any, grad_outputs: Tensor | None, _: Tensor | None) -> tuple[Any, ...]:
    x, hidden0, weight_ih, weight_hh, outputs, saved = ctx.saved_tensors
    zero_hidden = torch.zeros_like(hidden0)  # h_n is read from the outputs, outside the op
    found = gru_backward_op(
        _or_zeros(grad_outputs, outputs),
        zero_hidden,
        x,
        hidden0,
        weight_ih,
        weight_hh,
        outputs,
        saved,
    )
    biases = tuple(g if has else None for g, has in zip(found[4:], ctx.has_bias, strict=True))
    return (*found[:4], *biases)


gru_op.register_autograd(_gru_backward, setup_context=_gru_setup)


# What Recurrent.run asks and calls -----------------------------------------------------------


def transformed() -> bool:
    """Whether a torch.func transform (vmap, grad, jacrev, …), an ONNX export or torch.jit.trace
    is running.

    A transform re-runs every operator on wrapped tensors, and an ONNX or TorchScript graph needs
    operators it knows, so all get the cell's own step, which is made of torch operators only.
    """
    functorch = torch._C._are_functorch_transforms_active()  # no public spelling in torch 2.13
    return functorch or torch.onnx.is_in_onnx_export() or torch.jit.is_tracing()


def compiling() -> bool:
    """Whether torch.compile or torch.export is tracing (they get the operators above)."""
    return torch.compiler.is_compiling() or torch.compiler.is_exporting()


def traced_sequence(cell: Any, x: Tensor, state: State, reverse: bool) -> tuple[Tensor, State]:
    """Run a cell with a row in `rnnkit.layers.fast.TABLE` over x (T, B, F) as one operator.

    Every step is real (no lengths); reverse runs the time-flipped sequence.
    """
    x = (x.flip(0) if reverse else x).contiguous()  # (T, B, F) in memory, as the ops write
    weights = (cell.weight_ih, cell.weight_hh)
    if isinstance(state, LSTMState):
        bias = _combined(cell.bias_ih, cell.bias_hh)
        outputs, hidden, memory, _, _ = lstm_op(x, state.hidden, state.cell, *weights, bias)
        final: State = LSTMState(hidden, memory)
    elif isinstance(cell, GRUCell):
        outputs, _ = gru_op(x, state.hidden, *weights, cell.bias_ih, cell.bias_hh)
        final = RNNState(outputs[-1])
    else:
        bias = _combined(cell.bias_ih, cell.bias_hh)
        outputs = elman_op(x, state.hidden, *weights, bias, cell.nonlinearity)
        final = RNNState(outputs[-1])
    return (outputs.flip(0) if reverse else outputs), final


__all__ = ["compiling", "elman_op", "gru_op", "lstm_op", "traced_sequence", "transformed"]

"""First derivatives only: the guard on the backward of a hand-derived autograd.Function.

A backward written by hand (`elman_bptt.py`, `fused_lstm.py`) computes ∂L/∂θ with in-place
tensor operations that autograd cannot differentiate again. torch's `once_differentiable`
refuses a second derivative only when the incoming gradients require grad; a gradient penalty,
`torch.autograd.grad(out.sum(), x, create_graph=True)`, sends in gradients that do not, so
`once_differentiable` returns a first gradient with no graph and the penalty's contribution to
the parameters is dropped without a word. `first_derivative_only` refuses every backward run
with `create_graph=True` (grad mode is on inside such a backward), naming the way out.

References:
    https://pytorch.org/docs/stable/notes/extending.html#how-to-use (once_differentiable)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from torch.autograd.function import once_differentiable

DOUBLE_BACKWARD_REFUSED = (
    "{name}: this hand-derived BPTT backward gives first derivatives only, and it was run with "
    "create_graph=True (a gradient penalty, a Hessian-vector product, double backward). "
    "Build the layer with bptt='autograd' (autograd through the cell's equations, which "
    "differentiates twice), as rnnkit.RNN(..., bptt='autograd') / rnnkit.LSTM(..., "
    "bptt='autograd')."
)


def first_derivative_only(backward: Callable[..., Any]) -> Callable[..., Any]:
    """`backward` under `once_differentiable`, raising RuntimeError when create_graph=True."""
    inner = once_differentiable(backward)

    @functools.wraps(backward)
    def guarded(ctx: Any, *grads: Any) -> Any:
        if torch.is_grad_enabled():  # autograd enables grad mode only for create_graph=True
            name = backward.__qualname__.split(".")[0]
            raise RuntimeError(DOUBLE_BACKWARD_REFUSED.format(name=name))
        return inner(ctx, *grads)

    return guarded


__all__ = ["DOUBLE_BACKWARD_REFUSED", "first_derivative_only"]

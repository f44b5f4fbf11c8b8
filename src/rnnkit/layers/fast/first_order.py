"""The backward of a hand-derived autograd.Function, and its second derivatives by replay.

A backward written by hand (`elman_bptt.py`, `fused_lstm.py`) computes ∂L/∂θ with in-place
tensor operations that autograd cannot differentiate again. torch's `once_differentiable`
refuses a second derivative only when the incoming gradients require grad; a gradient penalty,
`torch.autograd.grad(out.sum(), x, create_graph=True)`, sends in gradients that do not, so
`once_differentiable` alone returns a first gradient with no graph and the penalty's
contribution to the parameters is dropped without a word.

`hand_derived_backward` looks at grad mode instead: autograd turns it on inside a backward only
for `create_graph=True`. Then, when the Function was given a replay (the same sequence computed
by the cell's own step, `rnnkit.layers.recurrent.run_cell`, on the Function's own inputs), the
gradients are taken by autograd through that replay with `create_graph=True`, so they can be
differentiated again as torch.nn's are (the hand-derived formulas keep the first-order path
fast). Without a replay (under autocast, where the Function's weights are cast copies) the
backward raises a RuntimeError naming the way out.

The same replay serves a backward run under a torch.func transform: a vectorised Jacobian
(`torch.autograd.functional.jacobian(..., vectorize=True)`, `is_grads_batched=True`) vmaps the
backward over a batch of incoming gradients, which the in-place formulas cannot take.

References:
    https://pytorch.org/docs/stable/notes/extending.html#how-to-use (once_differentiable)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

DOUBLE_BACKWARD_REFUSED = (
    "{name}: this hand-derived BPTT backward gives first derivatives only here (under autocast "
    "its weights are cast copies, which the cell's replay cannot differentiate again), and it "
    "was run with create_graph=True (a gradient penalty, a Hessian-vector product, double "
    "backward) or under vmap (a vectorised Jacobian). Build the layer with bptt='autograd' "
    "(autograd through the cell's equations, which differentiates twice), as "
    "rnnkit.RNN(..., bptt='autograd') / rnnkit.LSTM(..., bptt='autograd')."
)

Replay = tuple[Callable[..., Any], Sequence[Tensor | None]]
"""(function, inputs): function(*inputs) recomputes the Function's outputs with autograd; inputs
line up with the Function's forward arguments (None for the non-tensor ones)."""


def replay_gradients(replay: Replay, needs: Sequence[bool], grads: Sequence[Tensor]) -> tuple:
    """∂L/∂ of each input the Function needs, by autograd through the replay, with a graph."""
    function, inputs = replay
    with torch.enable_grad():
        outputs = function(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    wanted = [i for i, need in enumerate(needs) if need and inputs[i] is not None]
    found = torch.autograd.grad(
        outputs, [inputs[i] for i in wanted], list(grads), create_graph=True, allow_unused=True
    )
    result: list[Tensor | None] = [None] * len(needs)
    for i, grad in zip(wanted, found, strict=True):
        result[i] = torch.zeros_like(inputs[i]) if grad is None else grad
    return tuple(result)


def _batched(tensor: Tensor | None) -> bool:
    """Whether a tensor is vmap's batched wrapper (torch.func.vmap or autograd's own vmap)."""
    functorch = torch._C._functorch  # no public spelling in torch 2.13
    if tensor is None:
        return False
    return functorch.is_batchedtensor(tensor) or functorch.is_legacy_batchedtensor(tensor)


def hand_derived_backward(backward: Callable[..., Any]) -> Callable[..., Any]:
    """`backward` under `once_differentiable`; with create_graph=True, `ctx.replay` or an error."""
    inner = once_differentiable(backward)

    @functools.wraps(backward)
    def guarded(ctx: Any, *grads: Tensor) -> Any:
        vmapped = any(_batched(grad) for grad in grads)  # the backward runs under vmap
        if torch.is_grad_enabled() or vmapped:  # grad mode: only with create_graph=True
            replay: Replay | None = getattr(ctx, "replay", None)
            if replay is None:
                name = backward.__qualname__.split(".")[0]
                raise RuntimeError(DOUBLE_BACKWARD_REFUSED.format(name=name))
            return replay_gradients(replay, ctx.needs_input_grad, grads)
        return inner(ctx, *grads)

    return guarded


__all__ = ["DOUBLE_BACKWARD_REFUSED", "Replay", "hand_derived_backward", "replay_gradients"]

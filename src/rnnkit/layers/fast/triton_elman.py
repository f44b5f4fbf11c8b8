"""Triton kernels for one Elman RNN direction (tanh, relu, identity), forward and hand-derived BPTT.

References:
    https://doi.org/10.1207/s15516709cog1402_1 (Elman 1990)
    https://doi.org/10.1109/5.58337 (Werbos 1990, backpropagation through time)

The equations are those of `elman_bptt.py` (a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh,
h_t = φ(a_t); δ_t = m_t ⊙ (g_t + δ_{t+1} W_hh) ⊙ φ'(a_t)); the kernel design (one persistent
program per block of batch rows) is described in `triton_common.py`. With lengths, a padded
step keeps the state and writes a zero output, as `rnnkit.layers.recurrent.run_cell`.
"""

# ruff: noqa: N803  (Triton's convention: sizes T, B, H and compile-time constants in capitals)
# No `from __future__ import annotations` here: Triton reads `tl.constexpr` annotations as objects.

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import FunctionCtx

from rnnkit.cells.base import RNNState
from rnnkit.layers.fast.first_order import Replay, hand_derived_backward
from rnnkit.layers.fast.triton_common import (
    BLOCK_B,
    LazyKernel,
    cast_like,
    cell_replay,
    launch_settings,
    lengths_on,
    masked_input,
    processing_order,
    tl,
)
from rnnkit.layers.lengths import SequenceLengths

NONLINEARITY_CODES = {"tanh": 0, "relu": 1, "identity": 2}


def _elman_forward(
    gx_ptr,  # (T, B, H) W_ih x_t + b_ih + b_hh, x's dtype
    w_ptr,  # (H, H) W_hh
    h0_ptr,  # (B, H)
    len_ptr,  # (B,) int32
    out_ptr,  # (T, B, H) y_t, x's dtype
    hs_ptr,  # (T + 1, B, H) ACC: slot s holds the state before the s-th step processed
    T,
    B,
    H,
    REVERSE: tl.constexpr,
    NONLIN: tl.constexpr,
    BLOCK_B: tl.constexpr,
    BLOCK_H: tl.constexpr,
    ACC: tl.constexpr,
    PRECISION: tl.constexpr,
):
    rows = tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)
    cols = tl.arange(0, BLOCK_H)
    inner = tl.arange(0, BLOCK_H)
    tile = (rows < B)[:, None] & (cols < H)[None, :]
    state_at = rows[:, None] * H + cols[None, :]
    w_t = tl.load(  # W_hhᵀ: [i, j] = W_hh[j, i]
        w_ptr + cols[None, :] * H + inner[:, None],
        mask=(inner < H)[:, None] & (cols < H)[None, :],
        other=0.0,
    ).to(ACC)
    length = tl.load(len_ptr + rows, mask=rows < B, other=0)
    hidden = tl.load(h0_ptr + state_at, mask=tile, other=0.0).to(ACC)  # h_0
    tl.store(hs_ptr + state_at, hidden, mask=tile)
    s = 0  # a while loop: the interpreter cannot range() over a runtime T with numpy ≥ 2
    while s < T:
        t = s + REVERSE * (T - 1 - 2 * s)
        pre = tl.load(gx_ptr + t * B * H + state_at, mask=tile, other=0.0).to(ACC)
        pre += tl.dot(hidden, w_t, input_precision=PRECISION)  # a_t
        if NONLIN == 0:
            new = 2.0 / (1.0 + tl.exp(-2.0 * pre)) - 1.0  # tanh(a_t)
        elif NONLIN == 1:
            new = tl.maximum(pre, 0.0)  # relu(a_t)
        else:
            new = pre
        real = (t < length)[:, None]  # m_t
        hidden = tl.where(real, new, hidden)  # kept on padding
        out = tl.where(real, new, 0.0)  # y_t = m_t ⊙ h_t
        tl.store(out_ptr + t * B * H + state_at, out.to(out_ptr.dtype.element_ty), mask=tile)
        tl.store(hs_ptr + (s + 1) * B * H + state_at, hidden, mask=tile)
        s += 1


def _elman_backward(
    gout_ptr,  # (T, B, H) g_t
    gfinal_ptr,  # (B, H) ∂L/∂h_n
    w_ptr,  # (H, H) W_hh
    hs_ptr,  # (T + 1, B, H) the forward's states, processing order
    len_ptr,  # (B,) int32
    delta_ptr,  # (T, B, H) ACC: δ_t, by time
    dh0_ptr,  # (B, H) ACC: ∂L/∂h_0
    T,
    B,
    H,
    REVERSE: tl.constexpr,
    NONLIN: tl.constexpr,
    BLOCK_B: tl.constexpr,
    BLOCK_H: tl.constexpr,
    ACC: tl.constexpr,
    PRECISION: tl.constexpr,
):
    rows = tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)
    cols = tl.arange(0, BLOCK_H)
    inner = tl.arange(0, BLOCK_H)
    tile = (rows < B)[:, None] & (cols < H)[None, :]
    state_at = rows[:, None] * H + cols[None, :]
    w = tl.load(  # W_hh: [j, i]
        w_ptr + inner[:, None] * H + cols[None, :],
        mask=(inner < H)[:, None] & (cols < H)[None, :],
        other=0.0,
    ).to(ACC)
    length = tl.load(len_ptr + rows, mask=rows < B, other=0)
    carried = tl.load(gfinal_ptr + state_at, mask=tile, other=0.0).to(ACC)  # ∂L/∂h from later
    s = T - 1
    while s >= 0:
        t = s + REVERSE * (T - 1 - 2 * s)
        real = (t < length)[:, None]
        grad = tl.load(gout_ptr + t * B * H + state_at, mask=tile, other=0.0).to(ACC)
        grad_h = carried + tl.where(real, grad, 0.0)  # g_t + δ_{t+1} W_hh
        hidden = tl.load(hs_ptr + (s + 1) * B * H + state_at, mask=tile, other=0.0)
        if NONLIN == 0:
            slope = 1.0 - hidden * hidden  # tanh' = 1 − h_t²
        elif NONLIN == 1:
            slope = tl.where(hidden > 0.0, 1.0, 0.0)  # relu' = [h_t > 0]
        else:
            slope = tl.full((BLOCK_B, BLOCK_H), 1.0, ACC)
        delta = tl.where(real, grad_h * slope, 0.0)  # δ_t
        tl.store(delta_ptr + t * B * H + state_at, delta, mask=tile)
        sent = tl.dot(delta, w, input_precision=PRECISION)  # δ_t W_hh
        carried = tl.where(real, sent, grad_h)  # padding passes ∂L/∂h through
        s -= 1
    tl.store(dh0_ptr + state_at, carried, mask=tile)


ELMAN_FORWARD = LazyKernel(_elman_forward)
ELMAN_BACKWARD = LazyKernel(_elman_backward)


class TritonElman(torch.autograd.Function):
    """One Elman direction in the Triton kernels; first derivatives by hand, second by replay."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: FunctionCtx,
        x: Tensor,
        hidden0: Tensor,
        weight_ih: Tensor,
        weight_hh: Tensor,
        bias_ih: Tensor | None,
        bias_hh: Tensor | None,
        nonlinearity: str,
        lengths: Tensor | None,
        reverse: bool,
        replay: Callable[..., Any] | None,
    ) -> tuple[Tensor, Tensor]:
        """Outputs (T, B, H) and h_n (B, H) from x (T, B, F) and h_0 (B, H)."""
        if replay is not None:  # the Function's own inputs, so the replay's graph reaches them
            inputs = (x, hidden0, weight_ih, weight_hh, bias_ih, bias_hh, None, None, None, None)
            ctx.replay: Replay = (replay, inputs)  # type: ignore[attr-defined]
        T, B, _ = x.shape
        H = weight_hh.shape[0]
        launch, accumulate = launch_settings("TritonElman", x, H)
        bias = bias_ih if bias_hh is None else (bias_hh if bias_ih is None else bias_ih + bias_hh)
        projected = F.linear(x, weight_ih, bias).contiguous()  # W_ih x_t + b, (T, B, H)
        real = lengths_on(lengths, x)
        outputs = x.new_empty(T, B, H)
        states = x.new_empty(T + 1, B, H, dtype=accumulate)  # h before each processed step
        if B:  # an empty batch has nothing to launch
            ELMAN_FORWARD[launch.grid](
                projected, weight_hh.contiguous(), hidden0.contiguous(), real, outputs, states,
                T, B, H, REVERSE=int(reverse), NONLIN=NONLINEARITY_CODES[nonlinearity],
                BLOCK_B=BLOCK_B, BLOCK_H=launch.block_h, ACC=launch.accumulate,
                PRECISION=launch.precision,
            )  # fmt: skip
        ctx.save_for_backward(x, hidden0, weight_ih, weight_hh, bias_ih, bias_hh, states, real)
        ctx.settings = (launch, accumulate, reverse, nonlinearity)  # type: ignore[attr-defined]
        return outputs, states[T].to(x.dtype)  # h_n: the state after the last processed step

    @staticmethod
    @hand_derived_backward
    def backward(ctx: Any, grad_outputs: Tensor, grad_final: Tensor) -> tuple[Tensor | None, ...]:
        """∂L/∂ of x, h_0, W_ih, W_hh, b_ih, b_hh."""
        x, hidden0, weight_ih, weight_hh, bias_ih, bias_hh, states, real = ctx.saved_tensors
        launch, accumulate, reverse, nonlinearity = ctx.settings
        T, B, F_in = x.shape
        H = weight_hh.shape[0]
        delta = x.new_empty(T, B, H, dtype=accumulate)  # δ_t by time
        grad_hidden0 = x.new_empty(B, H, dtype=accumulate)
        if B:  # an empty batch has nothing to launch
            ELMAN_BACKWARD[launch.grid](
                grad_outputs.contiguous(), grad_final.contiguous(), weight_hh.contiguous(), states,
                real, delta, grad_hidden0, T, B, H, REVERSE=int(reverse),
                NONLIN=NONLINEARITY_CODES[nonlinearity], BLOCK_B=BLOCK_B, BLOCK_H=launch.block_h,
                ACC=launch.accumulate, PRECISION=launch.precision,
            )  # fmt: skip
        flat = delta.view(T * B, H)  # (T·B, H)
        grad_x = (flat @ weight_ih.to(accumulate)).view(T, B, F_in)  # δ_t W_ih
        inputs = masked_input(x, real).to(accumulate).view(T * B, F_in)
        grad_weight_ih = flat.t() @ inputs  # Σ_t δ_tᵀ x_t
        stepped = processing_order(delta, reverse).reshape(T * B, H)
        grad_weight_hh = stepped.t() @ states[:-1].reshape(T * B, H)  # Σ_t δ_tᵀ h_{t-1}
        grad_bias = flat.sum(0)  # Σ_t Σ_batch δ_t
        return (
            cast_like(grad_x, x),
            cast_like(grad_hidden0, hidden0),
            cast_like(grad_weight_ih, weight_ih),
            cast_like(grad_weight_hh, weight_hh),
            cast_like(grad_bias, bias_ih),
            cast_like(grad_bias.clone(), bias_hh),  # its own tensor: .grad must not alias
            None,
            None,
            None,
            None,
        )


def elman_triton(
    cell: Any, x: Tensor, state: RNNState, lengths: SequenceLengths | None, reverse: bool
) -> tuple[Tensor, RNNState]:
    """A `SequenceFunction` for an `ElmanCell` (tanh, relu, identity) in the Triton kernels.

    Shapes:
        x (T, B, F); state.hidden (B, H); returns outputs (T, B, H), zero past each length,
        and RNNState(h_n) (B, H) after each sequence's last step in this direction.
    """
    real = None if lengths is None else lengths.lengths

    replay = cell_replay(cell, lengths, reverse)  # second derivatives
    with torch.autocast(x.device.type, enabled=False):  # one dtype inside: x's
        outputs, hidden = TritonElman.apply(
            x, state.hidden, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh,
            cell.nonlinearity, real, reverse, replay,
        )  # fmt: skip
    return outputs, RNNState(hidden)


__all__ = ["ELMAN_BACKWARD", "ELMAN_FORWARD", "TritonElman", "elman_triton"]

"""Triton kernels for one reset-after GRU direction (torch.nn.GRU's form), forward and BPTT.

References:
    https://arxiv.org/abs/1406.1078 (Cho et al. 2014)
    https://pytorch.org/docs/stable/generated/torch.nn.GRU.html (the reset-after form)

Forward, per step, with a = W_ih x_t + b_ih (one GEMM for all t) and g = W_hh h_{t-1} + b_hh:
    r = σ(a_r + g_r),  z = σ(a_z + g_z),  n = tanh(a_n + r ⊙ g_n),  h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}
Backward, from δh_t = g_t + (what h_{t+1} sends back), by the chain rule through those lines:
    δz = δh_t ⊙ (h_{t-1} − n),   δa_n = δh_t ⊙ (1 − z) ⊙ (1 − n²),   δg_n = δa_n ⊙ r
    δa_r = δa_n ⊙ g_n ⊙ r(1 − r),   δa_z = δz ⊙ z(1 − z),   δg_r = δa_r,  δg_z = δa_z
    δh_{t-1} = δh_t ⊙ z + [δg_r | δg_z | δg_n] W_hh
    ∂L/∂W_ih = Σ_t δa_tᵀ x_t,  ∂L/∂b_ih = Σ δa_t,  ∂L/∂W_hh = Σ_t δg_tᵀ h_{t-1},  ∂L/∂b_hh = Σ δg_t
where the gate rows are stacked r|z|n as in torch.nn.GRU. The kernel design (one persistent
program per block of batch rows) is in `triton_common.py`; with lengths, a padded step keeps h
and writes a zero output, as `rnnkit.layers.recurrent.run_cell`.
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


def _gru_forward(
    gx_ptr,  # (T, B, 3H) W_ih x_t + b_ih, x's dtype
    w_ptr,  # (3H, H) W_hh
    b_ptr,  # (3H,) b_hh (zeros without bias)
    h0_ptr,  # (B, H)
    len_ptr,  # (B,) int32
    out_ptr,  # (T, B, H) y_t, x's dtype
    hs_ptr,  # (T + 1, B, H) ACC: slot s holds h before the s-th step processed
    saved_ptr,  # (T, B, 4H) ACC: r, z, n, g_n of the s-th step processed
    T,
    B,
    H,
    REVERSE: tl.constexpr,
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
    gate_at = rows[:, None] * (3 * H) + cols[None, :]
    save_at = rows[:, None] * (4 * H) + cols[None, :]
    w_at = cols[None, :] * H + inner[:, None]  # W_kᵀ: [i, j] = W_hh[kH + j, i]
    w_ok = (inner < H)[:, None] & (cols < H)[None, :]
    w_r = tl.load(w_ptr + w_at, mask=w_ok, other=0.0).to(ACC)  # kept for all T
    w_z = tl.load(w_ptr + H * H + w_at, mask=w_ok, other=0.0).to(ACC)
    w_n = tl.load(w_ptr + 2 * H * H + w_at, mask=w_ok, other=0.0).to(ACC)
    b_r = tl.load(b_ptr + cols, mask=cols < H, other=0.0).to(ACC)[None, :]
    b_z = tl.load(b_ptr + H + cols, mask=cols < H, other=0.0).to(ACC)[None, :]
    b_n = tl.load(b_ptr + 2 * H + cols, mask=cols < H, other=0.0).to(ACC)[None, :]
    length = tl.load(len_ptr + rows, mask=rows < B, other=0)
    hidden = tl.load(h0_ptr + state_at, mask=tile, other=0.0).to(ACC)  # h_0
    tl.store(hs_ptr + state_at, hidden, mask=tile)
    s = 0  # a while loop: the interpreter cannot range() over a runtime T with numpy ≥ 2
    while s < T:
        t = s + REVERSE * (T - 1 - 2 * s)
        step_at = gx_ptr + t * B * 3 * H + gate_at
        a_r = tl.load(step_at, mask=tile, other=0.0).to(ACC)
        a_z = tl.load(step_at + H, mask=tile, other=0.0).to(ACC)
        a_n = tl.load(step_at + 2 * H, mask=tile, other=0.0).to(ACC)
        g_r = tl.dot(hidden, w_r, input_precision=PRECISION) + b_r
        g_z = tl.dot(hidden, w_z, input_precision=PRECISION) + b_z
        g_n = tl.dot(hidden, w_n, input_precision=PRECISION) + b_n  # W_hn h_{t-1} + b_hn
        reset_gate = 1.0 / (1.0 + tl.exp(-(a_r + g_r)))  # r_t
        update_gate = 1.0 / (1.0 + tl.exp(-(a_z + g_z)))  # z_t
        new = 2.0 / (1.0 + tl.exp(-2.0 * (a_n + reset_gate * g_n))) - 1.0  # n_t
        new_hidden = new + update_gate * (hidden - new)  # h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}
        real = (t < length)[:, None]  # m_t
        hidden = tl.where(real, new_hidden, hidden)  # kept on padding
        out = tl.where(real, new_hidden, 0.0)  # y_t = m_t ⊙ h_t
        tl.store(out_ptr + t * B * H + state_at, out.to(out_ptr.dtype.element_ty), mask=tile)
        tl.store(hs_ptr + (s + 1) * B * H + state_at, hidden, mask=tile)
        saved_at = saved_ptr + s * B * 4 * H + save_at
        tl.store(saved_at, reset_gate, mask=tile)
        tl.store(saved_at + H, update_gate, mask=tile)
        tl.store(saved_at + 2 * H, new, mask=tile)
        tl.store(saved_at + 3 * H, g_n, mask=tile)
        s += 1


def _gru_backward(
    gout_ptr,  # (T, B, H) g_t
    ghn_ptr,  # (B, H) ∂L/∂h_n
    w_ptr,  # (3H, H) W_hh
    hs_ptr,  # (T + 1, B, H) the forward's states, processing order
    saved_ptr,  # (T, B, 4H) r, z, n, g_n, processing order
    len_ptr,  # (B,) int32
    delta_ptr,  # (T, B, 3H) ACC: δa_t (input side), by time
    delta_n_ptr,  # (T, B, H) ACC: δg_n (recurrent side of n), by time
    dh0_ptr,  # (B, H) ACC: ∂L/∂h_0
    T,
    B,
    H,
    REVERSE: tl.constexpr,
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
    gate_at = rows[:, None] * (3 * H) + cols[None, :]
    save_at = rows[:, None] * (4 * H) + cols[None, :]
    w_at = inner[:, None] * H + cols[None, :]  # W_k: [j, i] = W_hh[kH + j, i]
    w_ok = (inner < H)[:, None] & (cols < H)[None, :]
    w_r = tl.load(w_ptr + w_at, mask=w_ok, other=0.0).to(ACC)
    w_z = tl.load(w_ptr + H * H + w_at, mask=w_ok, other=0.0).to(ACC)
    w_n = tl.load(w_ptr + 2 * H * H + w_at, mask=w_ok, other=0.0).to(ACC)
    length = tl.load(len_ptr + rows, mask=rows < B, other=0)
    carried = tl.load(ghn_ptr + state_at, mask=tile, other=0.0).to(ACC)  # δh from later
    s = T - 1
    while s >= 0:
        t = s + REVERSE * (T - 1 - 2 * s)
        real = (t < length)[:, None]
        grad = tl.load(gout_ptr + t * B * H + state_at, mask=tile, other=0.0).to(ACC)
        grad_h = carried + tl.where(real, grad, 0.0)  # δh_t
        saved_at = saved_ptr + s * B * 4 * H + save_at
        reset_gate = tl.load(saved_at, mask=tile, other=0.0)
        update_gate = tl.load(saved_at + H, mask=tile, other=0.0)
        new = tl.load(saved_at + 2 * H, mask=tile, other=0.0)
        g_n = tl.load(saved_at + 3 * H, mask=tile, other=0.0)
        hidden_prev = tl.load(hs_ptr + s * B * H + state_at, mask=tile, other=0.0)
        d_n = tl.where(real, grad_h * (1.0 - update_gate) * (1.0 - new * new), 0.0)  # δa_n
        d_gn = d_n * reset_gate  # δg_n
        d_r = d_n * g_n * reset_gate * (1.0 - reset_gate)  # δa_r = δg_r
        d_z = tl.where(real, grad_h * (hidden_prev - new) * update_gate * (1 - update_gate), 0.0)
        delta_at = delta_ptr + t * B * 3 * H + gate_at
        tl.store(delta_at, d_r, mask=tile)
        tl.store(delta_at + H, d_z, mask=tile)
        tl.store(delta_at + 2 * H, d_n, mask=tile)
        tl.store(delta_n_ptr + t * B * H + state_at, d_gn, mask=tile)
        sent = grad_h * update_gate + tl.dot(d_r, w_r, input_precision=PRECISION)
        sent += tl.dot(d_z, w_z, input_precision=PRECISION)
        sent += tl.dot(d_gn, w_n, input_precision=PRECISION)  # δh_{t-1}
        carried = tl.where(real, sent, grad_h)  # padding passes ∂L/∂h through
        s -= 1
    tl.store(dh0_ptr + state_at, carried, mask=tile)


GRU_FORWARD = LazyKernel(_gru_forward)
GRU_BACKWARD = LazyKernel(_gru_backward)


class TritonGRU(torch.autograd.Function):
    """One reset-after GRU direction in the Triton kernels; first derivatives by hand."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: FunctionCtx,
        x: Tensor,
        hidden0: Tensor,
        weight_ih: Tensor,
        weight_hh: Tensor,
        bias_ih: Tensor | None,
        bias_hh: Tensor | None,
        lengths: Tensor | None,
        reverse: bool,
        replay: Callable[..., Any] | None,
    ) -> tuple[Tensor, Tensor]:
        """Outputs (T, B, H) and h_n (B, H) from x (T, B, F) and h_0 (B, H)."""
        if replay is not None:  # the Function's own inputs, so the replay's graph reaches them
            inputs = (x, hidden0, weight_ih, weight_hh, bias_ih, bias_hh, None, None, None)
            ctx.replay: Replay = (replay, inputs)  # type: ignore[attr-defined]
        T, B, _ = x.shape
        H = weight_hh.shape[1]
        launch, accumulate = launch_settings("TritonGRU", x, H)
        projected = F.linear(x, weight_ih, bias_ih).contiguous()  # W_ih x_t + b_ih, (T, B, 3H)
        recurrent_bias = weight_hh.new_zeros(3 * H) if bias_hh is None else bias_hh.contiguous()
        real = lengths_on(lengths, x)
        outputs = x.new_empty(T, B, H)
        hiddens = x.new_empty(T + 1, B, H, dtype=accumulate)  # h before each processed step
        saved = x.new_empty(T, B, 4 * H, dtype=accumulate)  # r, z, n, g_n
        if B:  # an empty batch has nothing to launch
            GRU_FORWARD[launch.grid](
                projected, weight_hh.contiguous(), recurrent_bias, hidden0.contiguous(), real,
                outputs, hiddens, saved, T, B, H, REVERSE=int(reverse), BLOCK_B=BLOCK_B,
                BLOCK_H=launch.block_h, ACC=launch.accumulate, PRECISION=launch.precision,
            )  # fmt: skip
        ctx.save_for_backward(
            x, hidden0, weight_ih, weight_hh, bias_ih, bias_hh, hiddens, saved, real
        )
        ctx.settings = (launch, accumulate, reverse)  # type: ignore[attr-defined]
        return outputs, hiddens[T].to(x.dtype)

    @staticmethod
    @hand_derived_backward
    def backward(ctx: Any, grad_outputs: Tensor, grad_hidden: Tensor) -> tuple[Tensor | None, ...]:
        """∂L/∂ of x, h_0, W_ih, W_hh, b_ih, b_hh."""
        x, hidden0, weight_ih, weight_hh, bias_ih, bias_hh, *buffers = ctx.saved_tensors
        hiddens, saved, real = buffers
        launch, accumulate, reverse = ctx.settings
        T, B, F_in = x.shape
        H = weight_hh.shape[1]
        delta = x.new_empty(T, B, 3 * H, dtype=accumulate)  # δa_t by time
        delta_n = x.new_empty(T, B, H, dtype=accumulate)  # δg_n by time
        grad_hidden0 = x.new_empty(B, H, dtype=accumulate)
        if B:  # an empty batch has nothing to launch
            GRU_BACKWARD[launch.grid](
                grad_outputs.contiguous(), grad_hidden.contiguous(), weight_hh.contiguous(),
                hiddens, saved, real, delta, delta_n, grad_hidden0, T, B, H, REVERSE=int(reverse),
                BLOCK_B=BLOCK_B, BLOCK_H=launch.block_h, ACC=launch.accumulate,
                PRECISION=launch.precision,
            )  # fmt: skip
        flat = delta.view(T * B, 3 * H)  # (T·B, 3H)
        recurrent = torch.cat([delta[..., : 2 * H], delta_n], dim=-1)  # δg_t, (T, B, 3H)
        grad_x = (flat @ weight_ih.to(accumulate)).view(T, B, F_in)  # δa_t W_ih
        inputs = masked_input(x, real).to(accumulate).view(T * B, F_in)
        grad_weight_ih = flat.t() @ inputs  # Σ_t δa_tᵀ x_t
        stepped = processing_order(recurrent, reverse).reshape(T * B, 3 * H)
        grad_weight_hh = stepped.t() @ hiddens[:-1].reshape(T * B, H)  # Σ_t δg_tᵀ h_{t-1}
        return (
            cast_like(grad_x, x),
            cast_like(grad_hidden0, hidden0),
            cast_like(grad_weight_ih, weight_ih),
            cast_like(grad_weight_hh, weight_hh),
            cast_like(flat.sum(0), bias_ih),  # Σ_t Σ_batch δa_t
            cast_like(recurrent.sum((0, 1)), bias_hh),  # Σ_t Σ_batch δg_t
            None,
            None,
            None,
        )


def gru_triton(
    cell: Any, x: Tensor, state: RNNState, lengths: SequenceLengths | None, reverse: bool
) -> tuple[Tensor, RNNState]:
    """A `SequenceFunction` for a reset-after `GRUCell` in the Triton kernels.

    Shapes:
        x (T, B, F); state.hidden (B, H); returns outputs (T, B, H), zero past each length,
        and RNNState(h_n) (B, H) after each sequence's last step in this direction.
    """
    real = None if lengths is None else lengths.lengths

    replay = cell_replay(cell, lengths, reverse)  # second derivatives
    with torch.autocast(x.device.type, enabled=False):  # one dtype inside: x's
        outputs, hidden = TritonGRU.apply(
            x, state.hidden, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh, real,
            reverse, replay,
        )  # fmt: skip
    return outputs, RNNState(hidden)


__all__ = ["GRU_BACKWARD", "GRU_FORWARD", "TritonGRU", "gru_triton"]

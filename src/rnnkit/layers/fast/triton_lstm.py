"""Triton kernels for one standard LSTM direction (torch.nn.LSTM's options), forward and BPTT.

References:
    https://doi.org/10.1162/neco.1997.9.8.1735 (Hochreiter & Schmidhuber 1997)
    https://doi.org/10.1109/5.58337 (Werbos 1990, backpropagation through time)

The equations are those of `fused_lstm.py`: gates [i | f | c̃ | o] = σ, σ, tanh, σ of
W_ih x_t + b_ih + W_hh h_{t-1} + b_hh, c_t = f ⊙ c_{t-1} + i ⊙ c̃, h_t = o ⊙ tanh(c_t); and
backwards δc_t = δc_{t+1} ⊙ f_{t+1} + δh_t ⊙ o ⊙ (1 − tanh²(c_t)), δa_i = δc_t ⊙ c̃ ⊙ i(1 − i),
δa_f = δc_t ⊙ c_{t-1} ⊙ f(1 − f), δa_g = δc_t ⊙ i ⊙ (1 − c̃²), δa_o = δh_t ⊙ tanh(c_t) ⊙ o(1 − o),
δh_{t-1} = [δa_i | δa_f | δa_g | δa_o] W_hh. The kernel design (one persistent program per block
of batch rows) is in `triton_common.py`. With lengths, a padded step keeps (h, c) and writes a
zero output, as `rnnkit.layers.recurrent.run_cell`; its δa is 0 and ∂L/∂(h, c) pass through.
"""

# ruff: noqa: N803  (Triton's convention: sizes T, B, H and compile-time constants in capitals)
# No `from __future__ import annotations` here: Triton reads `tl.constexpr` annotations as objects.

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import FunctionCtx

from rnnkit.cells.base import LSTMState
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


def _lstm_forward(
    gx_ptr,  # (T, B, 4H) W_ih x_t + b_ih + b_hh, x's dtype
    w_ptr,  # (4H, H) W_hh
    h0_ptr,  # (B, H)
    c0_ptr,  # (B, H)
    len_ptr,  # (B,) int32
    out_ptr,  # (T, B, H) y_t, x's dtype
    hs_ptr,  # (T + 1, B, H) ACC: slot s holds h before the s-th step processed
    cs_ptr,  # (T + 1, B, H) ACC: the same for c
    gates_ptr,  # (T, B, 4H) ACC: i, f, c̃, o of the s-th step processed
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
    gate_at = rows[:, None] * (4 * H) + cols[None, :]
    w_at = cols[None, :] * H + inner[:, None]  # W_kᵀ: [i, j] = W_hh[kH + j, i]
    w_ok = (inner < H)[:, None] & (cols < H)[None, :]
    w_i = tl.load(w_ptr + w_at, mask=w_ok, other=0.0).to(ACC)  # W_hiᵀ, kept for all T
    w_f = tl.load(w_ptr + H * H + w_at, mask=w_ok, other=0.0).to(ACC)
    w_g = tl.load(w_ptr + 2 * H * H + w_at, mask=w_ok, other=0.0).to(ACC)
    w_o = tl.load(w_ptr + 3 * H * H + w_at, mask=w_ok, other=0.0).to(ACC)
    length = tl.load(len_ptr + rows, mask=rows < B, other=0)
    hidden = tl.load(h0_ptr + state_at, mask=tile, other=0.0).to(ACC)  # h_0
    cell = tl.load(c0_ptr + state_at, mask=tile, other=0.0).to(ACC)  # c_0
    tl.store(hs_ptr + state_at, hidden, mask=tile)
    tl.store(cs_ptr + state_at, cell, mask=tile)
    s = 0  # a while loop: the interpreter cannot range() over a runtime T with numpy ≥ 2
    while s < T:
        t = s + REVERSE * (T - 1 - 2 * s)
        step_at = gx_ptr + t * B * 4 * H + gate_at
        a_i = tl.load(step_at, mask=tile, other=0.0).to(ACC)
        a_f = tl.load(step_at + H, mask=tile, other=0.0).to(ACC)
        a_g = tl.load(step_at + 2 * H, mask=tile, other=0.0).to(ACC)
        a_o = tl.load(step_at + 3 * H, mask=tile, other=0.0).to(ACC)
        a_i += tl.dot(hidden, w_i, input_precision=PRECISION)
        a_f += tl.dot(hidden, w_f, input_precision=PRECISION)
        a_g += tl.dot(hidden, w_g, input_precision=PRECISION)
        a_o += tl.dot(hidden, w_o, input_precision=PRECISION)
        input_gate = 1.0 / (1.0 + tl.exp(-a_i))  # i_t
        forget_gate = 1.0 / (1.0 + tl.exp(-a_f))  # f_t
        candidate = 2.0 / (1.0 + tl.exp(-2.0 * a_g)) - 1.0  # c̃_t = tanh(a_g)
        output_gate = 1.0 / (1.0 + tl.exp(-a_o))  # o_t
        new_cell = forget_gate * cell + input_gate * candidate  # c_t
        new_hidden = output_gate * (2.0 / (1.0 + tl.exp(-2.0 * new_cell)) - 1.0)  # h_t
        real = (t < length)[:, None]  # m_t
        cell = tl.where(real, new_cell, cell)  # kept on padding
        hidden = tl.where(real, new_hidden, hidden)
        out = tl.where(real, new_hidden, 0.0)  # y_t = m_t ⊙ h_t
        tl.store(out_ptr + t * B * H + state_at, out.to(out_ptr.dtype.element_ty), mask=tile)
        tl.store(hs_ptr + (s + 1) * B * H + state_at, hidden, mask=tile)
        tl.store(cs_ptr + (s + 1) * B * H + state_at, cell, mask=tile)
        saved_at = gates_ptr + s * B * 4 * H + gate_at
        tl.store(saved_at, input_gate, mask=tile)
        tl.store(saved_at + H, forget_gate, mask=tile)
        tl.store(saved_at + 2 * H, candidate, mask=tile)
        tl.store(saved_at + 3 * H, output_gate, mask=tile)
        s += 1


def _lstm_backward(
    gout_ptr,  # (T, B, H) g_t
    ghn_ptr,  # (B, H) ∂L/∂h_n
    gcn_ptr,  # (B, H) ∂L/∂c_n
    w_ptr,  # (4H, H) W_hh
    cs_ptr,  # (T + 1, B, H) the forward's cells, processing order
    gates_ptr,  # (T, B, 4H) the forward's gates, processing order
    len_ptr,  # (B,) int32
    delta_ptr,  # (T, B, 4H) ACC: δa_t, by time
    dh0_ptr,  # (B, H) ACC: ∂L/∂h_0
    dc0_ptr,  # (B, H) ACC: ∂L/∂c_0
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
    gate_at = rows[:, None] * (4 * H) + cols[None, :]
    w_at = inner[:, None] * H + cols[None, :]  # W_k: [j, i] = W_hh[kH + j, i]
    w_ok = (inner < H)[:, None] & (cols < H)[None, :]
    w_i = tl.load(w_ptr + w_at, mask=w_ok, other=0.0).to(ACC)
    w_f = tl.load(w_ptr + H * H + w_at, mask=w_ok, other=0.0).to(ACC)
    w_g = tl.load(w_ptr + 2 * H * H + w_at, mask=w_ok, other=0.0).to(ACC)
    w_o = tl.load(w_ptr + 3 * H * H + w_at, mask=w_ok, other=0.0).to(ACC)
    length = tl.load(len_ptr + rows, mask=rows < B, other=0)
    carried_h = tl.load(ghn_ptr + state_at, mask=tile, other=0.0).to(ACC)  # δh from later
    carried_c = tl.load(gcn_ptr + state_at, mask=tile, other=0.0).to(ACC)  # δc_{t+1} ⊙ f_{t+1}
    s = T - 1
    while s >= 0:
        t = s + REVERSE * (T - 1 - 2 * s)
        real = (t < length)[:, None]
        grad = tl.load(gout_ptr + t * B * H + state_at, mask=tile, other=0.0).to(ACC)
        grad_h = carried_h + tl.where(real, grad, 0.0)  # δh_t
        saved_at = gates_ptr + s * B * 4 * H + gate_at
        input_gate = tl.load(saved_at, mask=tile, other=0.0)
        forget_gate = tl.load(saved_at + H, mask=tile, other=0.0)
        candidate = tl.load(saved_at + 2 * H, mask=tile, other=0.0)
        output_gate = tl.load(saved_at + 3 * H, mask=tile, other=0.0)
        cell = tl.load(cs_ptr + (s + 1) * B * H + state_at, mask=tile, other=0.0)  # c_t
        cell_prev = tl.load(cs_ptr + s * B * H + state_at, mask=tile, other=0.0)  # c_{t-1}
        tanh_cell = 2.0 / (1.0 + tl.exp(-2.0 * cell)) - 1.0
        grad_c = carried_c + grad_h * output_gate * (1.0 - tanh_cell * tanh_cell)  # δc_t
        d_i = tl.where(real, grad_c * candidate * input_gate * (1.0 - input_gate), 0.0)
        d_f = tl.where(real, grad_c * cell_prev * forget_gate * (1.0 - forget_gate), 0.0)
        d_g = tl.where(real, grad_c * input_gate * (1.0 - candidate * candidate), 0.0)
        d_o = tl.where(real, grad_h * tanh_cell * output_gate * (1.0 - output_gate), 0.0)
        delta_at = delta_ptr + t * B * 4 * H + gate_at
        tl.store(delta_at, d_i, mask=tile)
        tl.store(delta_at + H, d_f, mask=tile)
        tl.store(delta_at + 2 * H, d_g, mask=tile)
        tl.store(delta_at + 3 * H, d_o, mask=tile)
        sent = tl.dot(d_i, w_i, input_precision=PRECISION)  # δa_t W_hh, gate by gate
        sent += tl.dot(d_f, w_f, input_precision=PRECISION)
        sent += tl.dot(d_g, w_g, input_precision=PRECISION)
        sent += tl.dot(d_o, w_o, input_precision=PRECISION)
        carried_h = tl.where(real, sent, grad_h)  # padding passes ∂L/∂h through
        carried_c = tl.where(real, grad_c * forget_gate, carried_c)  # and ∂L/∂c
        s -= 1
    tl.store(dh0_ptr + state_at, carried_h, mask=tile)
    tl.store(dc0_ptr + state_at, carried_c, mask=tile)


LSTM_FORWARD = LazyKernel(_lstm_forward)
LSTM_BACKWARD = LazyKernel(_lstm_backward)


class TritonLSTM(torch.autograd.Function):
    """One standard LSTM direction in the Triton kernels; first derivatives by hand."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: FunctionCtx,
        x: Tensor,
        hidden0: Tensor,
        cell0: Tensor,
        weight_ih: Tensor,
        weight_hh: Tensor,
        bias_ih: Tensor | None,
        bias_hh: Tensor | None,
        lengths: Tensor | None,
        reverse: bool,
        replay: Callable[..., Any] | None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Outputs (T, B, H), h_n and c_n (B, H) from x (T, B, F) and (h_0, c_0)."""
        if replay is not None:  # the Function's own inputs, so the replay's graph reaches them
            inputs = (x, hidden0, cell0, weight_ih, weight_hh, bias_ih, bias_hh, None, None, None)
            ctx.replay: Replay = (replay, inputs)  # type: ignore[attr-defined]
        T, B, _ = x.shape
        H = weight_hh.shape[1]
        launch, accumulate = launch_settings("TritonLSTM", x, H)
        bias = bias_ih if bias_hh is None else (bias_hh if bias_ih is None else bias_ih + bias_hh)
        projected = F.linear(x, weight_ih, bias).contiguous()  # W_ih x_t + b, (T, B, 4H)
        real = lengths_on(lengths, x)
        outputs = x.new_empty(T, B, H)
        hiddens = x.new_empty(T + 1, B, H, dtype=accumulate)  # (h, c) before each step
        cells = torch.empty_like(hiddens)
        gates = x.new_empty(T, B, 4 * H, dtype=accumulate)
        if B:  # an empty batch has nothing to launch
            LSTM_FORWARD[launch.grid](
                projected, weight_hh.contiguous(), hidden0.contiguous(), cell0.contiguous(), real,
                outputs, hiddens, cells, gates, T, B, H, REVERSE=int(reverse), BLOCK_B=BLOCK_B,
                BLOCK_H=launch.block_h, ACC=launch.accumulate, PRECISION=launch.precision,
            )  # fmt: skip
        saved = (x, hidden0, cell0, weight_ih, weight_hh, bias_ih, bias_hh)
        ctx.save_for_backward(*saved, hiddens, cells, gates, real)
        ctx.settings = (launch, accumulate, reverse)  # type: ignore[attr-defined]
        return outputs, hiddens[T].to(x.dtype), cells[T].to(cell0.dtype)

    @staticmethod
    @hand_derived_backward
    def backward(
        ctx: Any, grad_outputs: Tensor, grad_hidden: Tensor, grad_cell: Tensor
    ) -> tuple[Tensor | None, ...]:
        """∂L/∂ of x, h_0, c_0, W_ih, W_hh, b_ih, b_hh."""
        x, hidden0, cell0, weight_ih, weight_hh, bias_ih, bias_hh, *rest = ctx.saved_tensors
        hiddens, cells, gates, real = rest
        launch, accumulate, reverse = ctx.settings
        T, B, F_in = x.shape
        H = weight_hh.shape[1]
        delta = torch.empty_like(gates)  # δa_t by time, (T, B, 4H)
        grad_hidden0 = x.new_empty(B, H, dtype=accumulate)
        grad_cell0 = torch.empty_like(grad_hidden0)
        if B:  # an empty batch has nothing to launch
            LSTM_BACKWARD[launch.grid](
                grad_outputs.contiguous(), grad_hidden.contiguous(), grad_cell.contiguous(),
                weight_hh.contiguous(), cells, gates, real, delta, grad_hidden0, grad_cell0,
                T, B, H, REVERSE=int(reverse), BLOCK_B=BLOCK_B, BLOCK_H=launch.block_h,
                ACC=launch.accumulate, PRECISION=launch.precision,
            )  # fmt: skip
        flat = delta.view(T * B, 4 * H)  # (T·B, 4H)
        grad_x = (flat @ weight_ih.to(accumulate)).view(T, B, F_in)  # δa_t W_ih
        inputs = masked_input(x, real).to(accumulate).view(T * B, F_in)
        grad_weight_ih = flat.t() @ inputs  # Σ_t δa_tᵀ x_t
        stepped = processing_order(delta, reverse).reshape(T * B, 4 * H)
        grad_weight_hh = stepped.t() @ hiddens[:-1].reshape(T * B, H)  # Σ_t δa_tᵀ h_{t-1}
        grad_bias = flat.sum(0)  # Σ_t Σ_batch δa_t
        return (
            cast_like(grad_x, x),
            cast_like(grad_hidden0, hidden0),
            cast_like(grad_cell0, cell0),
            cast_like(grad_weight_ih, weight_ih),
            cast_like(grad_weight_hh, weight_hh),
            cast_like(grad_bias, bias_ih),
            cast_like(grad_bias.clone(), bias_hh),  # its own tensor: .grad must not alias
            None,
            None,
            None,
        )


def lstm_triton(
    cell: Any, x: Tensor, state: LSTMState, lengths: SequenceLengths | None, reverse: bool
) -> tuple[Tensor, LSTMState]:
    """A `SequenceFunction` for an `LSTMCell` with torch's options in the Triton kernels.

    Shapes:
        x (T, B, F); state (h_0, c_0), each (B, H); returns outputs (T, B, H), zero past each
        length, and LSTMState(h_n, c_n) after each sequence's last step in this direction.
    """
    real = None if lengths is None else lengths.lengths

    replay = cell_replay(cell, lengths, reverse)  # second derivatives
    with torch.autocast(x.device.type, enabled=False):  # one dtype inside: x's
        outputs, hidden, memory = TritonLSTM.apply(
            x, state.hidden, state.cell, cell.weight_ih, cell.weight_hh, cell.bias_ih,
            cell.bias_hh, real, reverse, replay,
        )  # fmt: skip
    return outputs, LSTMState(hidden, memory)


__all__ = ["LSTM_BACKWARD", "LSTM_FORWARD", "TritonLSTM", "lstm_triton"]

"""Fast path for the layer-normalised LSTM layer: one autograd node per direction, backward by hand.

References:
    https://arxiv.org/abs/1607.06450 (Ba, Kiros & Hinton 2016, layer normalisation, §3.1 RNNs)
    https://github.com/lmnt-com/haste (haste's LayerNormLSTM: the same placement of the three LNs)
    https://pytorch.org/docs/stable/notes/extending.html (custom autograd Functions)

`rnnkit.cells.lstm.LSTMCell(layer_norm=True)` is where the equations are taught; this module
computes the same numbers for the configuration with torch.nn.LSTM's gates (no peephole,
coupling or projection; no zoneout) in the style of `fused_lstm`: preallocated buffers written in
place, the input side of all T steps in one product and one normalisation, the recurrence
alone in the loop, and a backward written out by hand (`tests/layers/test_layer_norm_lstm.py`
checks it against the cell's step under autograd).

Forward. With LN(a; g, b) = g ⊙ n + b, n = (a − μ) / √v, the mean μ and v = var(a) + ε taken
over the G = 4H rows of one sample (over the H units for c_t), for all t at once
    p_t = W_ih x_t,   u_t = LN(p_t; g_ih, b_ih)                            (T, B, G)
and per step t (rows of x_t, h_{t-1} are batch samples, so W x is written x Wᵀ in code)
    r_t = W_hh (m ⊙ h_{t-1}),   a_t = u_t + LN(r_t; g_hh, b_hh)            (B, G) rows i|f|g|o
    i, f, o = σ(a_i), σ(a_f), σ(a_o);  c̃ = tanh(a_g)
    c_t = f ⊙ c_{t-1} + i ⊙ c̃;  z_t = LN(c_t; g_c, b_c);  h_t = o ⊙ tanh(z_t)
with m the recurrent dropout mask (B, H) (1 without it) and W_hh the W̃_hh of weight drop when
on. As in `fused_lstm`, tanh(a) = 2σ(2a) − 1: doubling the c̃ rows of g_ih, b_ih, g_hh, b_hh
gives 2a_g, so one σ covers the four gates, and h_t = o − 2o ⊙ σ(−2z_t) comes from the
normalisation of c_t with gain −2g_c and shift −2b_c, one σ and one addcmul. A step runs ten
kernels: the product, LN, + u_t, σ, s − ½, f ⊙ c_{t-1}, + i ⊙ c̃, LN, σ, h_t.

Backward. For LN, with δy the gradient of its output and δn = g ⊙ δy (Ba et al. 2016 give
the forward; this is its chain rule, averages over the normalised axis),
    δa = (δn − mean(δn) − n ⊙ mean(δn ⊙ n)) / √v,   δg = Σ δy ⊙ n,   δb = Σ δy      (LN')
From δh_t = ∂L/∂h_t (the gradient of output t plus what h_{t+1} sends back), for t = T…1:
    δz_t = δh_t ⊙ o ⊙ (1 − tanh²(z_t));  δc_t = δc_{t+1} ⊙ f_{t+1} + LN'(δz_t) at c_t
    δa_i = δc_t ⊙ c̃ ⊙ i(1 − i)          δa_f = δc_t ⊙ c_{t-1} ⊙ f(1 − f)
    δa_g = δc_t ⊙ i ⊙ (1 − c̃²)          δa_o = δh_t ⊙ tanh(z_t) ⊙ o(1 − o)
    δr_t = LN'(δa_t) at r_t,  δh_{t-1} = g_{t-1} + m ⊙ (δr_t W_hh)
and after the loop, for all t at once,
    δp_t = LN'(δa_t) at p_t,  ∂L/∂x_t = δp_t W_ih,  ∂L/∂W_ih = Σ_t δp_tᵀ x_t,
    ∂L/∂W_hh = Σ_t δr_tᵀ (m ⊙ h_{t-1}),  ∂L/∂b_ih = ∂L/∂b_hh = Σ_t δa_t,
    ∂L/∂g_ih = Σ_t δa_t ⊙ n(p_t),  ∂L/∂g_hh = Σ_t δa_t ⊙ n(r_t),
    ∂L/∂g_c = Σ_t δz_t ⊙ n(c_t),  ∂L/∂b_c = Σ_t δz_t,  ∂L/∂h_0 = δh_0,  ∂L/∂c_0 = δc_1 ⊙ f_1
(Σ_t also sums over the batch). The forward keeps p_t, r_t, c_t and each normalisation's μ
and 1/√v; every factor that does not depend on δ (the bracket of `fused_lstm._local_factors`,
with tanh(z_t) for tanh(c_t)) is computed for all t before the loop, so a step of the loop
runs the products of `fused_lstm`'s and the two LN' that the recurrence needs; the LN' of the
input side, δr_t again, and every δg, δb wait for the loop's end, where they take a chunk of
steps at a time (`_projections`). LN' is
computed by torch's LayerNorm backward kernel (`_layer_norm_backward`), the equation above in
one call: written out it is six kernels and took about three times as long.

Variable lengths and the reversed direction are `fused_lstm`'s: the batch sorted longest
first, b_t rows at step t, a reversed sequence starting at its own last step from h_0, c_0.
Second derivatives replay the cell's step (`first_order.hand_derived_backward`).

where x_t (B, F) is the input, h_t, c_t (B, H) the states, g_t the gradient arriving at output
t, σ the logistic sigmoid, ⊙ the element-wise product, δ the gradient of L with respect to the
named quantity.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx

from rnnkit.cells.base import LAYER_NORM_EPS
from rnnkit.layers.fast.first_order import Replay, hand_derived_backward
from rnnkit.layers.fast.fused_lstm import (
    _candidate_doubled,
    _constants,
    _final_states,
    _local_factors,
    _mask,
    _place_initial_state,
    _recurrent_weight_grad,
    _step_order,
    batch_sizes,
)
from rnnkit.layers.fast.recurrent_product import RecurrentProduct, onednn_ready

Norms = tuple[Tensor, Tensor, Tensor, Tensor]
"""(g_ih (G,), g_hh (G,), g_c (H,), b_c (H,)): the gains and the shift of LN(c_t)."""

Statistics = list[tuple[Tensor, Tensor, Tensor, Tensor]]
"""Per step t (by index t): μ(r_t), 1/√v(r_t), μ(c_t), 1/√v(c_t), each (b_t, 1)."""

_LAYER_NORM_BACKWARD = torch.ops.aten.native_layer_norm_backward.default


def _layer_norm_backward(
    grad: Tensor,
    a: Tensor,
    statistics: tuple[Tensor, Tensor],
    gain: Tensor,
    bias: Tensor | None,
    needs: tuple[bool, bool, bool],
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """LN' of the module docstring, (δa, δg, δb) from δy at the input a (rows over the last axis).

    Computed by torch's LayerNorm backward kernel (the same three equations in one call):
    written out, they are six kernels (two means, a product, three updates), which took about
    three times as long on one CPU thread (CPU time per call at (B, 4H) = (32, 512): 23 µs
    against 8; at (32, 128): 17 against 5). `statistics` = (μ, 1/√v) (…, 1), as the
    forward's `torch.native_layer_norm` returned them; `needs` picks the three outputs.
    """
    mean, inverse_std = statistics
    shape = [a.shape[-1]]
    return _LAYER_NORM_BACKWARD(grad, a, shape, mean, inverse_std, gain, bias, list(needs))


def _rows(buffer: Tensor, sizes: list[int] | None) -> list[Tensor]:
    """buffer[t, :b_t] for every t (indexed by t): the rows step t reads or writes."""
    if sizes is None:
        return list(buffer.unbind(0))
    return [buffer[t, :b] for t, b in enumerate(sizes)]


def _previous(
    buffer: Tensor, initial: Tensor, steps: list[int], sizes: list[int] | None
) -> list[Tensor]:
    """The state_{t-1} rows step t reads, in visit order: the initial state at the first step,
    else the previous step's slot (in the reversed direction with lengths it holds the h_0, c_0
    placed there for the sequences that start at this step)."""
    if sizes is None:
        rows = buffer.unbind(0)
        return [initial] + [rows[previous] for previous in steps[:-1]]
    first = [initial[: sizes[steps[0]]]]
    return first + [buffer[p, : sizes[t]] for p, t in pairwise(steps)]


def _gathered(statistics: Statistics, sizes: list[int] | None, like: Tensor) -> list[Tensor]:
    """The four per-step statistics as (T, B, 1) tensors, 0 past each sequence's end."""
    T, B = like.shape[0], like.shape[1]
    columns = list(zip(*statistics, strict=True))  # 4 × T × (b_t, 1)
    if sizes is None:
        return [torch.stack(column) for column in columns]
    gathered = like.new_zeros(4, T, B, 1)
    for t, b in enumerate(sizes):
        for k in range(4):
            gathered[k, t, :b] = columns[k][t]
    return list(gathered.unbind(0))


def ln_lstm_forward(
    x: Tensor,
    state0: tuple[Tensor, Tensor],
    weights: tuple[Tensor, Tensor, Tensor | None, Tensor | None],
    norms: Norms,
    lengths: tuple[Tensor, list[int]] | None,
    reverse: bool,
    mask: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor, dict[str, Any]]:
    """The forward equations: outputs, h_n, c_n and what the backward reads.

    Shapes:
        x (T, B, F); state0 (h_0, c_0) (B, H); weights (W_ih, W_hh, b_ih, b_hh); norms as
        `Norms`; mask m (B, H) or None. Returns outputs (T, B, H), h_n, c_n (B, H) and
        {"x": x, 0 on padding (T, B, F); "products_in": p (T·B, G) with "input_stats" μ, 1/√v
        (T·B, 1); "products_hh": r (T, B, G); "gates": [i | f | s | o] (T, B, G) with
        c̃ = 2s − 1; "cells", "hiddens" (T, B, H); "stats": `Statistics`}.
    """
    weight_ih, weight_hh, bias_ih, bias_hh = weights
    gain_ih, gain_hh, gain_cell, bias_cell = norms
    hidden0, cell0 = state0
    T, B, F_in = x.shape
    H = weight_hh.shape[1]
    G = 4 * H
    sizes = None if lengths is None else lengths[1]
    if lengths is not None:  # padding may hold anything (NaN): 0 keeps every statistic finite
        x = x.masked_fill(~_mask(lengths[0], x), 0.0)
    products_in = x.reshape(T * B, F_in) @ weight_ih.t()  # p_t = W_ih x_t, (T·B, G)
    doubled_ih = (_candidate_doubled(gain_ih), _candidate_doubled(bias_ih))  # c̃ rows: 2a_g
    gates, *input_stats = torch.native_layer_norm(products_in, [G], *doubled_ih, LAYER_NORM_EPS)
    gates = gates.view(T, B, G)  # u_t for every t, then the gates in place
    gain_hh, bias_hh = _candidate_doubled(gain_hh), _candidate_doubled(bias_hh)
    squash_gain, squash_bias = gain_cell * -2.0, bias_cell * -2.0  # LN gives −2z_t
    fresh = x.new_empty if lengths is None else x.new_zeros  # zeros where a sequence has ended
    products_hh = fresh(T, B, G)  # r_t
    hiddens, cells = fresh(T, B, H), fresh(T, B, H)
    if lengths is not None and reverse:  # a sequence starts at its own end from h_0, c_0
        _place_initial_state((hiddens, cells), state0, lengths[0])
    recurrent = RecurrentProduct(weight_hh, B, onednn_ready(weight_hh, B))
    (half,) = _constants(gates, 0.5)
    steps = list(_step_order(T, reverse))
    gate_rows, product_rows = _rows(gates, sizes), _rows(products_hh, sizes)
    input_gates, forget_gates, half_candidates, output_gates = (
        _rows(part, sizes) for part in gates.chunk(4, dim=-1)
    )  # each T × (b_t, H)
    cell_rows, hidden_rows = _rows(cells, sizes), _rows(hiddens, sizes)
    hidden_prevs, cell_prevs = (
        _previous(hiddens, hidden0, steps, sizes),
        _previous(cells, cell0, steps, sizes),
    )
    stats: Statistics = [None] * T  # type: ignore[list-item]
    for index, t in enumerate(steps):
        hidden_in = hidden_prevs[index]  # h_{t-1}
        if mask is not None:
            hidden_in = hidden_in * mask[: hidden_in.shape[0]]  # m ⊙ h_{t-1}
        product = recurrent.write(product_rows[t], hidden_in)  # r_t = W_hh (m ⊙ h_{t-1})
        normalised, *recurrent_stats = torch.native_layer_norm(
            product, [G], gain_hh, bias_hh, LAYER_NORM_EPS
        )  # LN(r_t; g_hh, b_hh)
        gate_rows[t].add_(normalised).sigmoid_()  # a_t = u_t + LN(r_t); i, f, s, o
        half_candidates[t].sub_(half)  # s − ½ = c̃ / 2
        cell = torch.mul(forget_gates[t], cell_prevs[index], out=cell_rows[t])  # f ⊙ c_{t-1}
        cell.addcmul_(input_gates[t], half_candidates[t], value=2.0)  # + i ⊙ c̃ = c_t
        squashed, *cell_stats = torch.native_layer_norm(
            cell, [H], squash_gain, squash_bias, LAYER_NORM_EPS
        )  # −2z_t = −2 LN(c_t; g_c, b_c)
        output_gate = output_gates[t]  # h_t = o ⊙ tanh(z_t) = o − 2o ⊙ σ(−2z_t)
        torch.addcmul(output_gate, output_gate, squashed.sigmoid_(), value=-2.0,
                      out=hidden_rows[t])  # fmt: skip
        stats[t] = (*recurrent_stats, *cell_stats)
    sorted_lengths = None if lengths is None else lengths[0]
    hidden_n, cell_n = _final_states(cells, hiddens, sorted_lengths, reverse)
    outputs = hiddens
    if sorted_lengths is not None and reverse:  # the h_0 placed at step len_b is no output
        outputs = hiddens * _mask(sorted_lengths, hiddens)
    kept = {"x": x, "products_in": products_in, "input_stats": tuple(input_stats),
            "products_hh": products_hh, "gates": gates, "cells": cells, "hiddens": hiddens,
            "stats": stats}  # fmt: skip
    return outputs, hidden_n, cell_n, kept


def _backward_loop(
    grads: tuple[Tensor, Tensor, Tensor],
    kept: dict[str, Any],
    factors: tuple[Tensor, Tensor],
    norms: tuple[Tensor, Tensor],
    recurrent: RecurrentProduct,
    sizes: list[int] | None,
    reverse: bool,
    mask: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor]:
    """t = T…1: Q becomes δa_t in place; returns δh_0, δc_0 and δh_t (T, B, H) for all t.

    `factors` = (Q (T, B, G), o ⊙ (1 − tanh²(z_t)) (T, B, H)); `norms` = (g_hh, g_c). Every
    per-step view is taken before the loop and LN' is called as torch's operator itself: a
    step's time is mostly the fixed cost of each call at these sizes. Without lengths or
    recurrent dropout, g_{t-1} is added by the recurrent product (δh_{t-1} = g_{t-1} + δr_t W_hh
    in one addmm, as `fused_lstm`'s plain loop), written straight into δh's buffer.
    """
    grad_outputs, grad_hidden, grad_cell = grads
    delta, through = factors
    gain_hh, gain_cell = norms
    gates, cells, products_hh = kept["gates"], kept["cells"], kept["products_hh"]
    stats: Statistics = kept["stats"]
    T, B, G = delta.shape
    H = G // 4
    plain = sizes is None and mask is None
    hidden_grads = (delta.new_empty if sizes is None else delta.new_zeros)(T, B, H)  # δh_t
    delta_rows, hidden_grad_rows = _rows(delta, sizes), _rows(hidden_grads, sizes)
    cell_part_rows = [rows[:, : 3 * H].unflatten(1, (3, H)) for rows in delta_rows]  # i, f, g
    output_part_rows = [rows[:, 3 * H :] for rows in delta_rows]  # o
    through_rows, arriving = _rows(through, sizes), _rows(grad_outputs, sizes)
    forget_rows, cell_rows = _rows(gates[..., H : 2 * H], sizes), _rows(cells, sizes)
    product_rows = _rows(products_hh, sizes)
    order = list(reversed(_step_order(T, reverse)))  # the backward's visit order
    carried_hidden = grad_hidden.clone()  # δh from h_{t+1} and from h_n, (B, H)
    carried_cell = grad_cell.clone()  # δc_{t+1} ⊙ f_{t+1}, or ∂L/∂c_n, (B, H)
    carried_hiddens = _rows(carried_hidden.expand(T, B, H), sizes)  # its b_t rows, by t
    carried_cells = _rows(carried_cell.expand(T, B, H), sizes)
    cell_columns = [rows.unsqueeze(1) for rows in carried_cells]  # (b_t, 1, H), follow updates
    if plain:
        torch.add(grad_hidden, arriving[order[0]], out=hidden_grad_rows[order[0]])  # δh_T
    backward, h_shape, g_shape = _LAYER_NORM_BACKWARD, [H], [G]
    only_x = [True, False, False]
    for index, t in enumerate(order):
        mean_hh, inverse_hh, mean_c, inverse_c = stats[t]
        grad_h = hidden_grad_rows[t]  # δh_t
        if not plain:
            torch.add(carried_hiddens[t], arriving[t], out=grad_h)
        grad_z = grad_h * through_rows[t]  # δz_t
        from_hidden, _, _ = backward(
            grad_z, cell_rows[t], h_shape, mean_c, inverse_c, gain_cell, None, only_x
        )  # LN'(δz_t) at c_t
        grad_c = carried_cells[t].add_(from_hidden)  # δc_t
        cell_part_rows[t].mul_(cell_columns[t])  # δa_i, δa_f, δa_g
        output_part_rows[t].mul_(grad_h)  # δa_o
        grad_c.mul_(forget_rows[t])  # δc_t ⊙ f_t, sent to step t − 1
        grad_product, _, _ = backward(
            delta_rows[t], product_rows[t], g_shape, mean_hh, inverse_hh, gain_hh, None, only_x
        )  # δr_t = LN'(δa_t) at r_t
        if plain and index + 1 < T:  # δh_{t-1} = g_{t-1} + δr_t W_hh
            previous = order[index + 1]
            recurrent.write_sum(hidden_grad_rows[previous], arriving[previous], grad_product)
        else:  # δr_t W_hh, sent to h_{t-1} (∂L/∂h_0 after the last step)
            recurrent.write(carried_hiddens[t], grad_product)
            if mask is not None:
                carried_hiddens[t].mul_(mask[: grad_product.shape[0]])  # m ⊙ (δr_t W_hh)
    return carried_hidden, carried_cell, hidden_grads


CHUNK_ELEMENTS = 1 << 20
"""Rows × G of δa per chunk after the loop: 4 MB in float32 (`_projections`)."""


def _projections(
    delta: Tensor,
    kept: dict[str, Any],
    inputs: tuple[Tensor | None, ...],
    recurrent_stats: tuple[Tensor, Tensor],
    reverse: bool,
    needs: tuple[bool, ...],
    mask: Tensor | None,
) -> tuple[Tensor | None, ...]:
    """∂L/∂ of x, W_ih, W_hh, the biases (Σ δa, None without them), g_ih and g_hh from δa_t.

    δp_t = LN'(δa_t) at p_t and δr_t = LN'(δa_t) at r_t are made a chunk of steps at a time
    (about CHUNK_ELEMENTS numbers) and used at once, ∂L/∂x_t = δp_t W_ih, ∂L/∂W_ih += δp_tᵀ x_t,
    ∂L/∂W_hh += δr_tᵀ (m ⊙ h_{t-1}), rather than as two (T, B, G) tensors: at 64 × 200 × 1024
    each would be 52 MB of fresh memory, whose first touch alone cost about 20 ms here, while
    the chunks reuse the same few MB.
    """
    x, hidden0, weight_ih, bias_hh, gain_ih, gain_hh = (
        kept["x"],
        *(inputs[i] for i in (1, 3, 6, 7, 8)),
    )
    hiddens, products_hh = kept["hiddens"], kept["products_hh"]
    T, B, G = delta.shape
    F_in = x.shape[-1]
    products_in = kept["products_in"].view(T, B, G)
    input_mean, input_inverse = (stat.view(T, B, 1) for stat in kept["input_stats"])
    mean_hh, inverse_hh = recurrent_stats
    needs_bias = bias_hh is not None and (needs[5] or needs[6])
    grad_x = x.new_empty(T, B, F_in) if needs[0] else None
    sums: dict[str, Tensor] = {}

    def add(key: str, value: Tensor | None) -> None:
        if value is not None:
            sums[key] = sums[key].add_(value) if key in sums else value

    steps = max(1, CHUNK_ELEMENTS // max(1, B * G))
    for start in range(0, T, steps):
        chunk = slice(start, min(start + steps, T))
        rows = (chunk.stop - start) * B
        grad_a = delta[chunk].view(rows, G)  # δa_t of the chunk
        grad_product, gain_part, bias_part = _layer_norm_backward(
            grad_a, products_hh[chunk].view(rows, G),
            (mean_hh[chunk].view(rows, 1), inverse_hh[chunk].view(rows, 1)), gain_hh, bias_hh,
            (needs[4], needs[8], needs_bias),
        )  # δr_t, Σ δa ⊙ n(r), Σ δa  # fmt: skip
        add("gain_hh", gain_part)
        add("bias", bias_part)
        if needs[4] and grad_product is not None:  # h_{t-1} of the chunk's first step
            edge = (start == 0) if not reverse else (chunk.stop == T)
            first = hidden0 if edge else hiddens[start - 1 if not reverse else chunk.stop]
            add("weight_hh", _recurrent_weight_grad(
                grad_product.view(-1, B, G), hiddens[chunk], first, reverse, mask
            ))  # fmt: skip
        grad_input, gain_part, _ = _layer_norm_backward(
            grad_a, products_in[chunk].view(rows, G),
            (input_mean[chunk].view(rows, 1), input_inverse[chunk].view(rows, 1)), gain_ih, None,
            (needs[0] or needs[3], needs[7], False),
        )  # δp_t, Σ δa ⊙ n(p)  # fmt: skip
        add("gain_ih", gain_part)
        if grad_x is not None and grad_input is not None:
            torch.mm(grad_input, weight_ih, out=grad_x[chunk].view(rows, F_in))  # δp_t W_ih
        if needs[3] and grad_input is not None:
            add("weight_ih", grad_input.t() @ x[chunk].reshape(rows, F_in))  # δp_tᵀ x_t
    names = ("weight_ih", "weight_hh", "bias", "gain_ih", "gain_hh")
    return (grad_x, *(sums.get(name) for name in names))


def ln_lstm_backward(
    grads: tuple[Tensor, Tensor, Tensor],
    inputs: tuple[Tensor | None, ...],
    kept: dict[str, Any],
    lengths: tuple[Tensor, list[int]] | None,
    reverse: bool,
    needs: tuple[bool, ...],
    mask: Tensor | None = None,
) -> tuple[Tensor | None, ...]:
    """The backward equations: ∂L/∂ of x, h_0, c_0, W_ih, W_hh, b_ih, b_hh, g_ih, g_hh, g_c, b_c.

    Args:
        grads: the gradients of outputs (T, B, H), h_n and c_n (B, H).
        inputs: the eleven tensor inputs of the forward (x, h_0, c_0, W_ih, W_hh, b_ih, b_hh,
            g_ih, g_hh, g_c, b_c).
        kept: what `ln_lstm_forward` returned for the backward (read; its Q is made here).
        lengths, reverse, mask: as the forward's.
        needs: which of the eleven gradients to return (None for the others).
    """
    cell0, weight_hh, gain_hh, gain_cell, bias_cell = (inputs[i] for i in (2, 4, 8, 9, 10))
    x, gates, cells = kept["x"], kept["gates"], kept["cells"]
    T, B = x.shape[0], x.shape[1]
    G = gates.shape[-1]
    H = G // 4
    sizes = None if lengths is None else lengths[1]
    mean_hh, inverse_hh, mean_c, inverse_c = _gathered(kept["stats"], sizes, x)  # (T, B, 1)
    squashed = torch.native_layer_norm(cells, [H], gain_cell, bias_cell, LAYER_NORM_EPS)[0]  # z_t
    delta, through = _local_factors(gates, cells, cell0, reverse, squashed)  # Q, o(1 − tanh²z)
    if lengths is not None:  # padded rows of Q hold unused gates; δa must be 0 there
        delta.masked_fill_(~_mask(lengths[0], x), 0.0)
    grad_hidden0, grad_cell0, hidden_grads = _backward_loop(
        (grads[0].contiguous(), grads[1], grads[2]),
        kept,
        (delta, through),
        (gain_hh, gain_cell),
        RecurrentProduct(weight_hh.t().contiguous(), B, onednn_ready(weight_hh, B)),
        sizes,
        reverse,
        mask,
    )
    grad_x, grad_weight_ih, grad_weight_hh, grad_bias, grad_gain_ih, grad_gain_hh = _projections(
        delta, kept, inputs, (mean_hh, inverse_hh), reverse, needs, mask
    )
    rows = T * B
    grad_z = hidden_grads.mul_(through).view(rows, H)  # δz_t, 0 on padding
    _, grad_gain_cell, grad_bias_cell = _layer_norm_backward(
        grad_z, cells.view(rows, H), (mean_c.view(rows, 1), inverse_c.view(rows, 1)),
        gain_cell, bias_cell, (False, needs[9], needs[10]),
    )  # Σ δz ⊙ n(c), Σ δz  # fmt: skip
    grad_bias_ih = grad_bias.clone() if needs[5] and needs[6] else grad_bias
    return (
        grad_x,
        grad_hidden0 if needs[1] else None,
        grad_cell0 if needs[2] else None,
        grad_weight_ih,
        grad_weight_hh,
        grad_bias_ih if needs[5] else None,
        grad_bias if needs[6] else None,
        grad_gain_ih,
        grad_gain_hh,
        grad_gain_cell,
        grad_bias_cell,
    )


class LayerNormLSTM(torch.autograd.Function):
    """A layer-normalised LSTM direction over (T, B, F), backward by the module docstring.

    Called through `ln_lstm_sequence`. First derivatives are taken by hand; second ones through
    the forward's `replay` (`hand_derived_backward`).
    """

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
        gain_ih: Tensor,
        gain_hh: Tensor,
        gain_cell: Tensor,
        bias_cell: Tensor,
        lengths: tuple[Tensor, list[int]] | None,
        reverse: bool,
        replay: Callable[..., tuple[Tensor, Tensor, Tensor]] | None = None,
        mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Outputs (T, B, H), h_n and c_n (B, H) of one direction.

        `replay(x, h_0, c_0, W_ih, W_hh, b_ih, b_hh, g_ih, g_hh, g_c, b_c)` recomputes the
        three with autograd for second derivatives; None refuses them. `mask` (m) is a constant.
        """
        parameters = (weight_ih, weight_hh, bias_ih, bias_hh, gain_ih, gain_hh, gain_cell,
                      bias_cell)  # fmt: skip
        if replay is not None:  # the Function's own inputs, so the replay's graph reaches them
            inputs = (x, hidden0, cell0, *parameters) + (None,) * 4  # None: lengths … mask
            ctx.replay: Replay = (replay, inputs)  # type: ignore[attr-defined]
        outputs, hidden_n, cell_n, kept = ln_lstm_forward(
            x, (hidden0, cell0), parameters[:4], parameters[4:], lengths, reverse, mask
        )
        ctx.save_for_backward(x, hidden0, cell0, *parameters)
        ctx.kept = kept  # type: ignore[attr-defined]  # intermediates: p, r, gates, c, h, μ, 1/√v
        ctx.lengths, ctx.reverse, ctx.mask = lengths, reverse, mask  # type: ignore[attr-defined]
        return outputs, hidden_n, cell_n

    @staticmethod
    @hand_derived_backward
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor | None, ...]:
        """∂L/∂ of the eleven tensor inputs from the gradients of the three outputs."""
        grads_in = ln_lstm_backward(
            grads, ctx.saved_tensors, ctx.kept, ctx.lengths, ctx.reverse, ctx.needs_input_grad,
            ctx.mask,
        )  # fmt: skip
        return (*grads_in, None, None, None, None)  # lengths, reverse, replay, mask: none


def ln_lstm_sequence(
    x: Tensor,
    state0: tuple[Tensor, Tensor],
    weights: tuple[Tensor, Tensor, Tensor | None, Tensor | None],
    norms: Norms,
    *,
    lengths: Tensor | None = None,
    reverse: bool = False,
    replay: Callable[..., tuple[Tensor, Tensor, Tensor]] | None = None,
    mask: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Run one direction of a layer-normalised LSTM over a sequence, with the hand backward.

    The numbers are those of `LSTMCell(layer_norm=True)` stepped over time (torch.nn.LSTM's
    gates, no zoneout); the equations of both passes are in the module docstring. No checks are
    made here, and no autocast: `rnnkit.layers.fast.lstm_ln` sends autocast to the cell's step.
    Second derivatives (create_graph=True) go through `replay` (see `LayerNormLSTM.forward`);
    without one they raise a RuntimeError.

    Shapes:
        x (T, B, F); state0 = (h_0, c_0), each (B, H); weights = (W_ih (4H, F), W_hh (4H, H),
        b_ih (4H,) or None, b_hh (4H,) or None); norms = (g_ih (4H,), g_hh (4H,), g_c (H,),
        b_c (H,)); lengths (B,) int64 sorted longest first; mask m (B, H) or None; returns
        outputs (T, B, H) and h_n, c_n (B, H).

    Example:
        >>> from rnnkit.cells import LSTMCell
        >>> cell = LSTMCell(3, 4, layer_norm=True)
        >>> x = torch.randn(6, 2, 3)  # (T, B, F)
        >>> zeros = torch.zeros(2, 4)  # (B, H)
        >>> weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        >>> norms = (cell.gain_ih, cell.gain_hh, cell.gain_cell, cell.bias_cell)
        >>> outputs, hidden_n, cell_n = ln_lstm_sequence(x, (zeros, zeros), weights, norms)
        >>> outputs.shape, bool(torch.equal(outputs[-1], hidden_n))  # (T, B, H)
        (torch.Size([6, 2, 4]), True)
    """
    sizes = None if lengths is None else batch_sizes(lengths, x.shape[0])  # (len_b, b_t)
    return LayerNormLSTM.apply(x, *state0, *weights, *norms, sizes, reverse, replay, mask)


__all__ = ["LayerNormLSTM", "Norms", "ln_lstm_backward", "ln_lstm_forward", "ln_lstm_sequence"]

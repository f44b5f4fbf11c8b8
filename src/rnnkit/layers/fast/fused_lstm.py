"""Fast path for the standard LSTM layer: the whole sequence in one autograd node, backward by hand.

References:
    https://doi.org/10.1162/neco.1997.9.8.1735 (Hochreiter & Schmidhuber 1997)
    https://doi.org/10.1109/5.58337 (Werbos 1990, backpropagation through time)
    https://pytorch.org/docs/stable/notes/extending.html (custom autograd Functions)

`rnnkit.cells.lstm.LSTMCell` is where the LSTM equations are taught; this module computes the same
numbers for the configuration torch.nn.LSTM has (σ gates, tanh, no peephole, no coupling, no
projection) as fast as the CPU allows, and `tests/layers/test_fused_lstm.py` checks it against
stepping the cell under autograd. Autograd would record about twenty nodes per step and run two
small matrix products per step backwards; here the forward writes every step into preallocated
buffers in place, and the backward runs one recurrent product per step and then one large product
over all T·B rows for each weight.

Forward, per step t (rows of x_t, h_{t-1} are batch samples, so W x is written x Wᵀ in code):
    [a_i | a_f | a_g | a_o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh     (B, 4H)
    i, f, o = σ(a_i), σ(a_f), σ(a_o);  c̃ = tanh(a_g)
    c_t = f ⊙ c_{t-1} + i ⊙ c̃;  h_t = o ⊙ tanh(c_t)

Backward, from δh_t = ∂L/∂h_t (gradient of output t plus what h_{t+1} sends back), the chain
rule through the forward equations gives, for t = T…1:
    δc_t = δc_{t+1} ⊙ f_{t+1} + δh_t ⊙ o ⊙ (1 − tanh²(c_t))
    δa_i = δc_t ⊙ c̃ ⊙ i(1 − i)          δa_f = δc_t ⊙ c_{t-1} ⊙ f(1 − f)
    δa_g = δc_t ⊙ i ⊙ (1 − c̃²)          δa_o = δh_t ⊙ tanh(c_t) ⊙ o(1 − o)
    δh_{t-1} = g_{t-1} + [δa_i | δa_f | δa_g | δa_o] W_hh
    ∂L/∂W_hh = Σ_t δa_tᵀ h_{t-1},  ∂L/∂W_ih = Σ_t δa_tᵀ x_t,  ∂L/∂b = Σ_t Σ_batch δa_t,
    ∂L/∂x_t = δa_t W_ih,  ∂L/∂h_0 = δa_1 W_hh,  ∂L/∂c_0 = δc_1 ⊙ f_1
The factors that do not depend on δ (c̃ ⊙ i(1 − i), …) are computed for all t at once before the
loop, so the loop itself runs six tensor operations per step.

Regularisers (`rnnkit.cells.lstm.LSTMCell`'s recurrent_dropout and zoneout, masks given): with
the recurrent dropout mask m (B, H) and the zoneout masks d^h_t, d^c_t (0/1 in training, p_h,
p_c in eval), the forward reads m ⊙ h_{t-1} in the product and keeps part of the old state,
    ĉ_t = f ⊙ c_{t-1} + i ⊙ c̃,  ĥ_t = o ⊙ tanh(ĉ_t)
    c_t = d^c_t ⊙ c_{t-1} + (1 − d^c_t) ⊙ ĉ_t,  h_t = d^h_t ⊙ h_{t-1} + (1 − d^h_t) ⊙ ĥ_t
and the backward becomes, with δĥ_t = (1 − d^h_t) ⊙ δh_t,
    δĉ_t = (1 − d^c_t) ⊙ δc_t + δĥ_t ⊙ o ⊙ (1 − tanh²(ĉ_t))     (δc_t, δh_t above with ĉ, ĥ)
    δa as above with δĉ_t for δc_t and δĥ_t for δh_t (in δa_o)
    δc_{t-1} = d^c_t ⊙ δc_t + f ⊙ δĉ_t
    δh_{t-1} = g_{t-1} + d^h_t ⊙ δh_t + m ⊙ ([δa_i | δa_f | δa_g | δa_o] W_hh)
    ∂L/∂W_hh = Σ_t δa_tᵀ (m ⊙ h_{t-1})
ĉ_t is not stored: the backward recomputes it from the saved gates and c_{t-1}.

Variable lengths. The batch is sorted by length, longest first, so at step t the sequences still
running are the first b_t rows (`batch_sizes`, as in torch's PackedSequence); the loop computes
only those rows, a sequence's state stops at its last step, and its outputs past it stay zero.
In the reversed direction (t = T…1) the running rows grow instead, and a sequence starts at its
own last step from h_0.

where x_t (B, F) is the input, h_t (B, H) and c_t (B, H) the states, i, f, o the gates, c̃ the
candidate, σ the logistic sigmoid, ⊙ the element-wise product, g_t the gradient arriving at
output t, δ the gradients of L with respect to the named quantity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx

from rnnkit.layers.autocast import autocast_dtype, cast_all, recurrence_dtype
from rnnkit.layers.fast.first_order import Replay, hand_derived_backward
from rnnkit.layers.fast.recurrent_product import RecurrentProduct, onednn_ready
from rnnkit.layers.lengths import lengths_mask


def _combined_bias(bias_ih: Tensor | None, bias_hh: Tensor | None) -> Tensor | None:
    """b_ih + b_hh, the only combination of the two biases the equations use."""
    if bias_ih is None or bias_hh is None:
        return bias_ih if bias_hh is None else bias_hh
    return bias_ih + bias_hh


def _step_order(steps: int, reverse: bool) -> range:
    """Time steps in the order the recurrence visits them."""
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _place_initial_state(
    buffers: tuple[Tensor, Tensor], state0: tuple[Tensor, Tensor], lengths: Tensor
) -> None:
    """Reversed direction: put h_0, c_0 at step len_b, the slot that step len_b − 1 reads."""
    T = buffers[0].shape[0]
    rows = torch.nonzero(lengths < T).flatten()  # sequences of length T read h_0 directly
    slots, rows = lengths[rows].to(buffers[0].device), rows.to(buffers[0].device)
    for buffer, initial in zip(buffers, state0, strict=True):
        buffer[slots, rows] = initial[rows]


def _candidate_doubled(weight: Tensor | None) -> Tensor | None:
    """The parameter with its c̃ rows doubled, so σ(2a_g) comes out of the one σ over all gates."""
    if weight is None:
        return None
    H = weight.shape[0] // 4
    scale = weight.new_ones(4 * H)
    scale[2 * H : 3 * H] = 2.0
    return weight * (scale if weight.dim() == 1 else scale[:, None])


Regularisers = tuple[Tensor | None, Tensor | None, Tensor | None]
"""(m (B, H), d^h (T, B, H), d^c (T, B, H)): recurrent dropout and zoneout masks, None if off."""


def _output_hidden(
    cell: Tensor, output_gate: Tensor, out: Tensor, minus_two: Tensor | None = None
) -> Tensor:
    """h_t = o ⊙ tanh(c_t) = o − 2 o ⊙ σ(−2c_t), written into `out` (B, H).

    tanh(c) = 1 − 2σ(−2c); torch.tanh is several times slower than σ on CPU (about 2 ns an
    element against 0.5 on the development machine), so three light kernels (scale, σ,
    addcmul) beat tanh and the product by o. `minus_two`, a 0-dim tensor −2 of the cell's dtype
    made once per sequence, spares the scale the conversion of a Python number that torch makes
    on every call (`_constants`).
    """
    scale = -2.0 if minus_two is None else minus_two
    squashed = torch.mul(cell, scale, out=out).sigmoid_()  # σ(−2c_t), in `out` for now
    return torch.addcmul(output_gate, output_gate, squashed, value=-2.0, out=out)


def _constants(like: Tensor, *values: float) -> tuple[Tensor, ...]:
    """0-dim tensors of `like`'s dtype and device: per-step operands in place of Python numbers.

    `t.sub_(0.5)` turns 0.5 into a tensor on every call (an `aten::to` copy, about 1.5 µs,
    as long as the kernel itself at B·H = 4096); a 0-dim tensor made once is used as it is.
    """
    return tuple(like.new_full((), value) for value in values)


def _full_batch_steps(
    gates: Tensor,
    cells: Tensor,
    hiddens: Tensor,
    state0: tuple[Tensor, Tensor],
    recurrent: RecurrentProduct,
    reverse: bool,
    regularisers: Regularisers | None = None,
) -> None:
    """The forward loop without lengths: every step fills all B rows.

    The same equations as `_run_forward`'s loop, with every per-step view (gate chunks, h_t,
    c_t, c_{t-1}, the zoneout masks) taken for all T steps at once before the loop, so a plain
    step runs only its seven kernels: the product, σ, s − ½, f ⊙ c_{t-1}, + i ⊙ c̃, and
    o ⊙ tanh(c_t) in `_output_hidden`'s three. Recurrent dropout adds m ⊙ h_{t-1} (into a
    buffer of its own), zoneout one lerp for h_t and one for c_t (ĉ_t is made in a scratch
    buffer, c_t written from it).
    """
    mask, keep_h, keep_c = regularisers or (None, None, None)
    T = gates.shape[0]
    steps = list(_step_order(T, reverse))
    blocks = gates.unbind(0)  # T × (B, 4H)
    input_gates, forget_gates, half_candidates, output_gates = (
        part.unbind(0) for part in gates.chunk(4, dim=-1)
    )  # each T × (B, H)
    cell_steps, hidden_steps = cells.unbind(0), hiddens.unbind(0)
    keeps_h = None if keep_h is None else keep_h.unbind(0)  # T × (B, H): d^h_t
    keeps_c = None if keep_c is None else keep_c.unbind(0)  # d^c_t
    half, minus_two = _constants(gates, 0.5, -2.0)
    hidden_prev, cell_prev = state0
    dropped = None if mask is None else torch.empty_like(hidden_prev)  # m ⊙ h_{t-1}, (B, H)
    hat = None if keeps_c is None else torch.empty_like(cell_prev)  # ĉ_t, (B, H)
    for t in steps:
        hidden_in = hidden_prev if dropped is None else torch.mul(hidden_prev, mask, out=dropped)
        recurrent.add_to(blocks[t], hidden_in).sigmoid_()  # i, f, s, o
        half_candidate = half_candidates[t].sub_(half)  # s − ½ = c̃ / 2
        out = cell_steps[t] if hat is None else hat
        cell = torch.mul(forget_gates[t], cell_prev, out=out)  # f ⊙ c_{t-1}
        cell.addcmul_(input_gates[t], half_candidate, value=2.0)  # c_t (ĉ_t) = f ⊙ c_{t-1} + i ⊙ c̃
        hidden = _output_hidden(cell, output_gates[t], hidden_steps[t], minus_two)  # h_t (ĥ_t)
        if keeps_h is not None:  # h_t = d^h ⊙ h_{t-1} + (1 − d^h) ⊙ ĥ_t = lerp(ĥ_t, h_{t-1}, d^h)
            hidden.lerp_(hidden_prev, keeps_h[t])
        if keeps_c is not None:  # c_t = lerp(ĉ_t, c_{t-1}, d^c)
            cell = torch.lerp(cell, cell_prev, keeps_c[t], out=cell_steps[t])
        hidden_prev, cell_prev = hidden, cell


def _run_forward(
    x: Tensor,
    state0: tuple[Tensor, Tensor],
    weights: tuple[Tensor, Tensor, Tensor | None],
    lengths: tuple[Tensor, list[int]] | None,
    reverse: bool,
    regularisers: Regularisers | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Gates [i | f | s | o] (T, B, 4H) with c̃ = 2s − 1, cells and hiddens (T, B, H).

    tanh(a) = 2σ(2a) − 1, so doubling the c̃ rows of the weights lets one σ over the whole gate
    block replace three kernels (torch.tanh is several times slower than σ on CPU).
    """
    hidden0, cell0 = state0
    weight_ih, weight_hh, bias = (_candidate_doubled(w) for w in weights)
    T, B, F = x.shape
    H = weight_hh.shape[1]
    flat_x = x.reshape(T * B, F)  # (T·B, F)
    gates = flat_x @ weight_ih.t() if bias is None else torch.addmm(bias, flat_x, weight_ih.t())
    gates = gates.view(T, B, 4 * H)  # W_ih x_t + b for every t, then the gates in place
    fresh = x.new_empty if lengths is None else x.new_zeros  # zeros where a sequence has ended
    hiddens, cells = fresh(T, B, H), fresh(T, B, H)  # (T, B, H)
    if lengths is not None and reverse:  # a sequence starts at its own end from h_0, c_0
        _place_initial_state((hiddens, cells), state0, lengths[0])
    recurrent = RecurrentProduct(weight_hh, B, onednn_ready(weight_hh, B))
    if lengths is None:
        _full_batch_steps(gates, cells, hiddens, state0, recurrent, reverse, regularisers)
        return gates, cells, hiddens
    mask, keep_h, keep_c = regularisers or (None, None, None)
    previous = -1
    for t in _step_order(T, reverse):
        b = lengths[1][t]
        hidden_prev = hidden0[:b] if previous < 0 else hiddens[previous, :b]  # h_{t-1}
        cell_prev = cell0[:b] if previous < 0 else cells[previous, :b]  # c_{t-1}
        hidden_in = hidden_prev if mask is None else hidden_prev * mask[:b]  # m ⊙ h_{t-1}
        step_gates = recurrent.add_to(gates[t, :b], hidden_in).sigmoid_()  # i, f, s, o
        input_gate, forget_gate, half_candidate, output_gate = step_gates.chunk(4, dim=1)
        half_candidate.sub_(0.5)  # s − ½ = c̃ / 2
        out = cells[t, :b] if keep_c is None else None  # zoneout: ĉ_t apart from c_t
        cell = torch.mul(forget_gate, cell_prev, out=out)  # f ⊙ c_{t-1}
        cell.addcmul_(input_gate, half_candidate, value=2.0)  # c_t = f ⊙ c_{t-1} + i ⊙ c̃
        _output_hidden(cell, output_gate, hiddens[t, :b])  # h_t = o ⊙ tanh(c_t)
        if keep_h is not None:  # h_t = d^h ⊙ h_{t-1} + (1 − d^h) ⊙ ĥ_t = lerp(ĥ_t, h_{t-1}, d^h)
            hiddens[t, :b].lerp_(hidden_prev, keep_h[t, :b])
        if keep_c is not None:  # c_t = d^c ⊙ c_{t-1} + (1 − d^c) ⊙ ĉ_t = lerp(ĉ_t, c_{t-1}, d^c)
            torch.lerp(cell, cell_prev, keep_c[t, :b], out=cells[t, :b])
        previous = t
    return gates, cells, hiddens


def _tanh(x: Tensor) -> Tensor:
    """tanh(x) = 2σ(2x) − 1 as a new tensor (σ is the faster CPU kernel)."""
    return torch.mul(x, 2.0).sigmoid_().mul_(2.0).sub_(1.0)


def _candidate_cells(gates: Tensor, cells: Tensor, cell0: Tensor, reverse: bool) -> Tensor:
    """ĉ_t = f ⊙ c_{t-1} + i ⊙ c̃ for all t, recomputed as the forward did (zoneout of c_t)."""
    input_gate, forget_gate, half_candidate, _ = gates.chunk(4, dim=-1)  # (T, B, H)
    previous = torch.empty_like(cells)  # c_{t-1}
    if reverse:
        previous[:-1], previous[-1] = cells[1:], cell0
    else:
        previous[1:], previous[0] = cells[:-1], cell0
    return torch.mul(forget_gate, previous).addcmul_(input_gate, half_candidate, value=2.0)


def _local_factors(
    gates: Tensor, cells: Tensor, cell0: Tensor, reverse: bool, hats: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """The factors of the backward equations that do not depend on δ, for all t at once.

    Returns Q (T, B, 4H) = [c̃ ⊙ i(1 − i) | c_{t-1} ⊙ f(1 − f) | i ⊙ (1 − c̃²) |
    tanh(c_t) ⊙ o(1 − o)] and A (T, B, H) = o ⊙ (1 − tanh²(c_t)); with zoneout of c_t, `hats`
    is ĉ_t, which takes c_t's place in tanh(c_t).
    """
    input_gate, forget_gate, half_candidate, output_gate = gates.chunk(4, dim=-1)  # (T, B, H)
    factors = torch.empty_like(gates)  # (T, B, 4H)
    q_i, q_f, q_g, q_o = factors.chunk(4, dim=-1)
    torch.addcmul(input_gate, input_gate, input_gate, value=-1.0, out=q_i)  # i(1 − i)
    q_i.mul_(half_candidate).mul_(2.0)  # ⊙ c̃
    torch.addcmul(forget_gate, forget_gate, forget_gate, value=-1.0, out=q_f)  # f(1 − f)
    if reverse:  # ⊙ c_{t-1}, which is c_{t+1} (or c_0 at the sequence's start) when reversed
        q_f[:-1].mul_(cells[1:])
        q_f[-1].mul_(cell0)
    else:
        q_f[1:].mul_(cells[:-1])
        q_f[0].mul_(cell0)
    torch.mul(half_candidate, half_candidate, out=q_g).mul_(-4.0).add_(1.0)  # 1 − c̃²
    q_g.mul_(input_gate)  # ⊙ i
    tanh_cell = _tanh(cells if hats is None else hats)  # tanh(c_t), or tanh(ĉ_t)
    torch.addcmul(output_gate, output_gate, output_gate, value=-1.0, out=q_o)  # o(1 − o)
    q_o.mul_(tanh_cell)  # ⊙ tanh(c_t)
    tanh_cell.square_()
    through_cell = torch.addcmul(output_gate, output_gate, tanh_cell, value=-1.0, out=tanh_cell)
    return factors, through_cell  # A = o − o ⊙ tanh²(c_t)


def _full_batch_backward_steps(
    grads: tuple[Tensor, Tensor, Tensor],
    factors: tuple[Tensor, Tensor, Tensor],
    recurrent: RecurrentProduct,
    reverse: bool,
    regularisers: Regularisers | None = None,
) -> tuple[Tensor, Tensor]:
    """`_run_backward` without lengths: the same equations, every row real.

    Every per-step view is taken for all T steps before the loop, and the gradient arriving
    at output t − 1 is added by the recurrent product itself (δh_{t-1} = g_{t-1} + δa_t W_hh,
    one addmm), so a plain step runs five kernels. Zoneout of h_t adds one (d^h ⊙ δh_t, the
    product written into a second buffer, as δh_t is still read), of c_t two (δĉ_t apart from
    δc_t), recurrent dropout two (m ⊙ after the product, then + g_{t-1}).
    """
    grad_outputs, grad_hidden, grad_cell = grads
    delta, through_cell, forget_gate = factors  # Q (T, B, 4H), A (T, B, H), f (T, B, H)
    mask, keep_h, keep_c = regularisers or (None, None, None)
    H = delta.shape[-1] // 4
    order = list(reversed(_step_order(delta.shape[0], reverse)))  # the backward's visit order
    deltas = delta.unbind(0)  # T × (B, 4H): Q_t, becomes δa_t
    cell_rows = delta[..., : 3 * H].unflatten(-1, (3, H)).unbind(0)  # T × (B, 3, H): i, f, g
    output_rows = delta[..., 3 * H :].unbind(0)  # T × (B, H): o
    through, forget = through_cell.unbind(0), forget_gate.unbind(0)  # T × (B, H): A_t, f_t
    keeps_h = None if keep_h is None else keep_h.unbind(0)  # T × (B, H): d^h_t
    keeps_c = None if keep_c is None else keep_c.unbind(0)  # d^c_t
    arriving = grad_outputs.unbind(0)  # T × (B, H): g_t
    carried_hidden = grad_hidden + arriving[order[0]]  # δh_T = ∂L/∂h_n + g_T, (B, H)
    spare = None if keeps_h is None else torch.empty_like(carried_hidden)  # δh_{t-1} under d^h
    carried_cell = grad_cell.clone()  # δc_{t+1} ⊙ f_{t+1}, or ∂L/∂c_n, (B, H)
    hat = carried_cell if keeps_c is None else torch.empty_like(carried_cell)  # δĉ_t
    hat_column = hat.unsqueeze(1)  # (B, 1, H), a view that follows the updates
    for index, t in enumerate(order):
        if keeps_c is not None:  # (1 − d^c) ⊙ δc_t enters δĉ_t, d^c ⊙ δc_t skips the step
            torch.addcmul(carried_cell, carried_cell, keeps_c[t], value=-1.0, out=hat)
            carried_cell.mul_(keeps_c[t])
        hat.addcmul_(carried_hidden, through[t])  # δĉ_t (δc_t without zoneout of c_t)
        cell_rows[t].mul_(hat_column)  # δa_i, δa_f, δa_g
        output_rows[t].mul_(carried_hidden)  # δa_o
        if keeps_c is None:
            carried_cell.mul_(forget[t])  # δc_t ⊙ f_t, sent to step t − 1
        else:
            carried_cell.addcmul_(hat, forget[t])  # δc_{t-1} = d^c ⊙ δc_t + f ⊙ δĉ_t
        following = arriving[order[index + 1]] if index + 1 < len(order) else None  # g_{t-1}
        target = carried_hidden if spare is None else spare  # becomes δh_{t-1}
        if following is not None and mask is None:  # g_{t-1} + δa_t W_hh
            recurrent.write_sum(target, following, deltas[t])
        else:  # δa_t W_hh (∂L/∂h_0 after the last step), m ⊙ it, + g_{t-1}
            recurrent.write(target, deltas[t])
            if mask is not None:
                target.mul_(mask)
                if following is not None:
                    target.add_(following)
        if spare is not None and keeps_h is not None:  # + d^h ⊙ δh_t
            target.addcmul_(carried_hidden, keeps_h[t])
            carried_hidden, spare = target, carried_hidden
    return carried_hidden, carried_cell


def _run_backward(
    grads: tuple[Tensor, Tensor, Tensor],
    factors: tuple[Tensor, Tensor, Tensor],
    recurrent: RecurrentProduct,
    batch_sizes: list[int] | None,
    reverse: bool,
    regularisers: Regularisers | None = None,
) -> tuple[Tensor, Tensor]:
    """Turn Q into δa_t in place, t = T…1 (six operations a step); return δh_0, δc_0.

    Under zoneout of h_t, `factors` hold A ⊙ (1 − d^h) and Q_o ⊙ (1 − d^h) (`lstm_backward`
    folds δĥ_t = (1 − d^h) ⊙ δh_t into them), so δh_t itself multiplies them here.
    """
    if batch_sizes is None:
        return _full_batch_backward_steps(grads, factors, recurrent, reverse, regularisers)
    grad_outputs, grad_hidden, grad_cell = grads
    delta, through_cell, forget_gate = factors  # Q (T, B, 4H), A (T, B, H), f (T, B, H)
    mask, keep_h, keep_c = regularisers or (None, None, None)
    T, G = delta.shape[0], delta.shape[-1]
    H = G // 4
    carried_hidden = grad_hidden.clone()  # δh from later steps and from h_n, (B, H)
    carried_cell = grad_cell.clone()  # δc_{t+1} ⊙ f_{t+1}, or ∂L/∂c_n, (B, H)
    for t in reversed(_step_order(T, reverse)):
        b = batch_sizes[t]
        grad_h = carried_hidden[:b].add_(grad_outputs[t, :b])  # δh_t
        kept_h = None if keep_h is None else grad_h * keep_h[t, :b]  # d^h ⊙ δh_t, to h_{t-1}
        cell_grad = carried_cell[:b]  # δc_t
        if keep_c is not None:  # (1 − d^c) ⊙ δc_t enters δĉ_t, d^c ⊙ δc_t skips the step
            hat = torch.addcmul(cell_grad, cell_grad, keep_c[t, :b], value=-1.0)
            cell_grad.mul_(keep_c[t, :b])
        else:
            hat = cell_grad
        hat.addcmul_(grad_h, through_cell[t, :b])  # δĉ_t (δc_t without zoneout of c_t)
        step_delta = delta[t, :b]  # Q_t, becomes δa_t
        step_delta[:, : 3 * H].unflatten(1, (3, H)).mul_(hat.unsqueeze(1))  # δa_i, δa_f, δa_g
        step_delta[:, 3 * H :].mul_(grad_h)  # δa_o
        if keep_c is not None:
            cell_grad.addcmul_(hat, forget_gate[t, :b])  # δc_{t-1} = d^c ⊙ δc_t + f ⊙ δĉ_t
        else:
            cell_grad.mul_(forget_gate[t, :b])  # δc_t ⊙ f_t, sent to step t − 1
        recurrent.write(carried_hidden[:b], step_delta)  # δa_t W_hh, sent to h_{t-1}
        if mask is not None:
            carried_hidden[:b].mul_(mask[:b])  # m ⊙ (δa_t W_hh)
        if kept_h is not None:
            carried_hidden[:b].add_(kept_h)  # + d^h ⊙ δh_t
    return carried_hidden, carried_cell


def _weight_grads(
    delta: Tensor,
    x: Tensor,
    hiddens: Tensor,
    hidden0: Tensor,
    reverse: bool,
    mask: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """∂L/∂W_ih = Σ_t δa_tᵀ x_t and ∂L/∂W_hh = Σ_t δa_tᵀ h_{t-1}, each one matrix product
    (h_{t-1} read as m ⊙ h_{t-1} under recurrent dropout)."""
    T, B, G = delta.shape
    grad_weight_ih = delta.view(T * B, G).t() @ x.reshape(T * B, x.shape[-1])  # B = 0 works
    return grad_weight_ih, _recurrent_weight_grad(delta, hiddens, hidden0, reverse, mask)


def _recurrent_weight_grad(
    delta: Tensor, hiddens: Tensor, hidden0: Tensor, reverse: bool, mask: Tensor | None = None
) -> Tensor:
    """∂L/∂W_hh = Σ_t δ_tᵀ h_{t-1} (m ⊙ h_{t-1} under recurrent dropout) in two products, δ_t
    (T, B, G) the gradient of the recurrent product W_hh h_{t-1} (δa_t here; `layer_norm_lstm`
    passes the gradient under its normalisation)."""
    if mask is not None:
        hiddens, hidden0 = hiddens * mask, hidden0 * mask  # m ⊙ h_{t-1}, (T, B, H), (B, H)
    T, B, G = delta.shape
    first, later = (T - 1, slice(0, T - 1)) if reverse else (0, slice(1, T))
    previous = slice(1, T) if reverse else slice(0, T - 1)  # h_{t-1} of the later steps
    grad_weight_hh = delta[first].t() @ hidden0  # δ_1ᵀ h_0
    rows, H = (T - 1) * B, hiddens.shape[-1]
    grad_weight_hh.addmm_(delta[later].reshape(rows, G).t(), hiddens[previous].reshape(rows, H))
    return grad_weight_hh


def _final_states(
    cells: Tensor, hiddens: Tensor, lengths: Tensor | None, reverse: bool
) -> tuple[Tensor, Tensor]:
    """h_n, c_n (B, H): the state after each sequence's last step in this direction."""
    T, B, _ = hiddens.shape
    if lengths is None or reverse:
        last = 0 if reverse else T - 1
        return hiddens[last].clone(), cells[last].clone()
    steps = (lengths - 1).to(hiddens.device)  # len_b − 1
    rows = torch.arange(B, device=hiddens.device)
    return hiddens[steps, rows], cells[steps, rows]


def batch_sizes(lengths: Tensor, steps: int) -> tuple[Tensor, list[int]]:
    """(len_b on the CPU as int64, [b_t for t < T]): b_t = #{b : len_b > t}, the rows still
    running at step t of a batch sorted longest first (torch's PackedSequence batch_sizes)."""
    lengths = lengths.to("cpu", torch.int64)
    counts = torch.bincount(lengths, minlength=steps + 1)  # sequences of each length
    active = lengths.numel() - torch.cumsum(counts, 0)[:-1]  # b_t
    return lengths, active.tolist()


def _mask(lengths: Tensor, like: Tensor) -> Tensor:
    """m (T, B, 1) bool, True where t < len_b."""
    return lengths_mask(lengths, like.shape[0], device=like.device).t().unsqueeze(-1)


def lstm_forward(
    x: Tensor,
    state0: tuple[Tensor, Tensor],
    weights: tuple[Tensor, Tensor, Tensor | None],
    lengths: tuple[Tensor, list[int]] | None,
    reverse: bool,
    regularisers: Regularisers | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """The forward equations: outputs, h_n, c_n, and what the backward reads (gates, c, h).

    Shapes:
        x (T, B, F); state0 (h_0, c_0) (B, H); weights (W_ih, W_hh, b_ih + b_hh or None);
        returns outputs (T, B, H), h_n, c_n (B, H), gates (T, B, 4H), cells and hiddens
        (T, B, H). Without lengths, outputs is hiddens (the same tensor).
    """
    gates, cells, hiddens = _run_forward(x, state0, weights, lengths, reverse, regularisers)
    sorted_lengths = None if lengths is None else lengths[0]
    hidden_n, cell_n = _final_states(cells, hiddens, sorted_lengths, reverse)
    outputs = hiddens
    if sorted_lengths is not None and reverse:  # the h_0 placed at step len_b is no output
        outputs = hiddens * _mask(sorted_lengths, hiddens)
    return outputs, hidden_n, cell_n, gates, cells, hiddens


def lstm_backward(
    grads: tuple[Tensor, Tensor, Tensor],
    saved: tuple[Tensor, ...],
    lengths: tuple[Tensor, list[int]] | None,
    reverse: bool,
    needs: tuple[bool, ...],
    regularisers: Regularisers | None = None,
) -> tuple[Tensor | None, ...]:
    """The backward equations: ∂L/∂ of x, h_0, c_0, W_ih, W_hh, b_ih, b_hh (None where unneeded).

    Args:
        grads: the gradients of outputs (T, B, H), h_n and c_n (B, H).
        saved: (x, h_0, c_0, W_ih, W_hh, gates, cells, hiddens), the last three from
            `lstm_forward` (read, not changed).
        lengths: as `lstm_forward`'s.
        reverse: as `lstm_forward`'s.
        needs: which of the seven gradients to return.
        regularisers: the masks (m, d^h, d^c) the forward ran with, or None.
    """
    x, hidden0, cell0, weight_ih, weight_hh, gates, cells, hiddens = saved
    T, B, F = x.shape
    G = gates.shape[-1]
    recurrent_mask, _, keep_c = regularisers or (None, None, None)  # m, d^c
    hats = None if keep_c is None else _candidate_cells(gates, cells, cell0, reverse)  # ĉ_t
    delta, through_cell = _local_factors(gates, cells, cell0, reverse, hats)
    keep_h = None if regularisers is None else regularisers[1]
    if keep_h is not None:  # δĥ_t = (1 − d^h) ⊙ δh_t reaches δa only through A and Q_o
        through_cell.addcmul_(through_cell, keep_h, value=-1.0)  # A ⊙ (1 − d^h)
        output_factor = delta[..., 3 * (G // 4) :]
        output_factor.addcmul_(output_factor, keep_h, value=-1.0)  # Q_o ⊙ (1 − d^h)
    if lengths is not None:  # padded rows of Q hold unused gates; δa must be 0 there
        mask = _mask(lengths[0], x)  # (T, B, 1)
        delta.masked_fill_(~mask, 0.0)
        x = x.masked_fill(~mask, 0.0)  # padding may hold anything; 0 · NaN would leak
    grad_hidden0, grad_cell0 = _run_backward(
        (grads[0].contiguous(), grads[1], grads[2]),
        (delta, through_cell, gates[..., G // 4 : G // 2]),  # Q, A, f
        RecurrentProduct(weight_hh.t().contiguous(), B, onednn_ready(weight_hh, B)),
        None if lengths is None else lengths[1],
        reverse,
        regularisers,
    )
    grad_x = (delta.view(T * B, G) @ weight_ih).view(T, B, F) if needs[0] else None
    grad_weight_ih, grad_weight_hh = _weight_grads(
        delta, x, hiddens, hidden0, reverse, recurrent_mask
    )
    grad_bias = delta.view(T * B, G).sum(0) if needs[5] or needs[6] else None  # Σ δa_t
    grad_bias_hh = grad_bias.clone() if needs[5] and needs[6] else grad_bias
    return (
        grad_x,
        grad_hidden0 if needs[1] else None,
        grad_cell0 if needs[2] else None,
        grad_weight_ih if needs[3] else None,
        grad_weight_hh if needs[4] else None,
        grad_bias if needs[5] else None,
        grad_bias_hh if needs[6] else None,
    )


class FusedLSTM(torch.autograd.Function):
    """A whole LSTM direction over (T, B, F) with the hand-derived backward of the module docstring.

    Called through `lstm_sequence`. First derivatives are taken by hand; second ones through the
    forward's `replay` (`hand_derived_backward`).
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
        lengths: tuple[Tensor, list[int]] | None,
        reverse: bool,
        replay: Callable[..., tuple[Tensor, Tensor, Tensor]] | None = None,
        regularisers: Regularisers | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Outputs (T, B, H), h_n and c_n (B, H) of one direction.

        `replay(x, h_0, c_0, W_ih, W_hh, b_ih, b_hh)` recomputes the three with autograd for
        second derivatives (`first_order.hand_derived_backward`); None refuses them.
        `regularisers` (m, d^h, d^c) are constants: no gradient flows to them.
        """
        if replay is not None:  # the Function's own inputs, so the replay's graph reaches them
            inputs = (x, hidden0, cell0, weight_ih, weight_hh, bias_ih, bias_hh) + (None,) * 4
            ctx.replay: Replay = (replay, inputs)  # type: ignore[attr-defined]
        weights = (weight_ih, weight_hh, _combined_bias(bias_ih, bias_hh))
        outputs, hidden_n, cell_n, gates, cells, hiddens = lstm_forward(
            x, (hidden0, cell0), weights, lengths, reverse, regularisers
        )
        ctx.save_for_backward(x, hidden0, cell0, weight_ih, weight_hh, gates, cells, hiddens)
        ctx.lengths, ctx.reverse = lengths, reverse  # type: ignore[attr-defined]
        ctx.regularisers = regularisers  # type: ignore[attr-defined]
        return outputs, hidden_n, cell_n

    @staticmethod
    @hand_derived_backward
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor | None, ...]:
        """∂L/∂ of x, h_0, c_0, W_ih, W_hh, b_ih, b_hh from the gradients of the three outputs."""
        saved = ctx.saved_tensors  # x, h_0, c_0, W_ih, W_hh, gates, cells, hiddens
        grads_in = lstm_backward(
            grads, saved, ctx.lengths, ctx.reverse, ctx.needs_input_grad, ctx.regularisers
        )
        return (*grads_in, None, None, None, None)  # lengths, reverse, replay, masks: none


def lstm_sequence(
    x: Tensor,
    state0: tuple[Tensor, Tensor],
    weights: tuple[Tensor, Tensor, Tensor | None, Tensor | None],
    *,
    lengths: Tensor | None = None,
    reverse: bool = False,
    replay: Callable[..., tuple[Tensor, Tensor, Tensor]] | None = None,
    regularisers: Regularisers | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Run one direction of a standard LSTM layer over a sequence, with the hand-derived backward.

    Second derivatives (create_graph=True) are taken through `replay(x, h_0, c_0, W_ih, W_hh,
    b_ih, b_hh)`, the same direction recomputed with autograd (the layers pass the cell's own
    step); without one, or under autocast, they raise a RuntimeError.

    The numbers are those of `LSTMCell` stepped over time (σ gates, tanh, no peephole, coupling
    or projection); the equations of both passes are in the module docstring. No checks are
    made here: the public layers (`rnnkit.LSTM`) check their arguments before calling this.

    Shapes:
        x (T, B, F); state0 = (h_0, c_0), each (B, H); weights = (W_ih (4H, F), W_hh (4H, H),
        b_ih (4H,) or None, b_hh (4H,) or None); lengths (B,) int64 sorted longest first;
        returns outputs (T, B, H) and h_n, c_n (B, H). Under `torch.autocast` all three come
        in the dtypes of torch.nn.LSTM's (`rnnkit.layers.autocast`): its low-precision dtype,
        or on the CPU with `lengths` c_0's dtype (the loop then runs in it).

    Args:
        x: the inputs, time-major.
        state0: the initial state (h_0, c_0).
        weights: the parameters in torch.nn.LSTM's layout (gate rows i|f|g|o).
        lengths: len_b, each in [1, T] and non-increasing; None when every sequence is T long.
        reverse: run from t = T to 1 (each sequence from its own last step).
        replay: see above.
        regularisers: (m (B, H), d^h (T, B, H), d^c (T, B, H)), each None when off: recurrent
            dropout and zoneout masks (module docstring), in the sorted batch order.

    Returns:
        (outputs, h_n, c_n): outputs zero past each sequence's length; h_n, c_n taken after
        each sequence's last step in this direction.

    Example:
        >>> from rnnkit.cells import LSTMCell
        >>> cell = LSTMCell(3, 4)
        >>> x = torch.randn(6, 2, 3)  # (T, B, F)
        >>> zeros = torch.zeros(2, 4)  # (B, H)
        >>> weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        >>> outputs, hidden_n, cell_n = lstm_sequence(x, (zeros, zeros), weights)
        >>> outputs.shape, bool(torch.equal(outputs[-1], hidden_n))  # (T, B, H)
        (torch.Size([6, 2, 4]), True)
    """
    sizes = None if lengths is None else batch_sizes(lengths, x.shape[0])
    if autocast_dtype(x.device.type) is not None:  # one dtype for the in-place loop
        # D where torch.nn.LSTM runs in D; else (CPU, packed) the state's dtype, as torch keeps
        low = recurrence_dtype("LSTM", x.device.type, packed=lengths is not None)
        common = low or state0[1].dtype  # (layers/autocast.py)
        x, *state0 = cast_all(common, x, *state0)
        weights = tuple(cast_all(common, *weights))  # type: ignore[assignment]
        replay = None  # the weights are cast copies, which the cell's replay does not read
        if regularisers is not None:
            regularisers = tuple(None if r is None else r.to(common) for r in regularisers)
    with torch.autocast(x.device.type, enabled=False):  # all in one dtype: nothing to cast
        return FusedLSTM.apply(x, *state0, *weights, sizes, reverse, replay, regularisers)


__all__ = [
    "FusedLSTM",
    "Regularisers",
    "batch_sizes",
    "lstm_backward",
    "lstm_forward",
    "lstm_sequence",
]

"""Fast path for the standard GRU layer: a lean time loop that autograd differentiates.

References:
    https://arxiv.org/abs/1406.1078 (Cho et al. 2014)
    https://pytorch.org/docs/stable/generated/torch.nn.GRU.html (the reset-after form)

`rnnkit.cells.gru.GRUCell` is where the GRU is taught; this loop computes the same numbers for
torch.nn.GRU's configuration (reset_after=True) with fewer autograd nodes and fewer saved
tensors per step (about 6H numbers a row instead of 8H), which keeps peak memory near torch's:

    [g_r | g_z | g_n] = W_hh h_{t-1} + b_hh                one addmm
    [r_t | z_t] = σ(a_rz + g_rz)                           one σ for both gates
    n_t = tanh(a_n + r_t ⊙ g_n)                            one addcmul and one tanh
    h_t = n_t + z_t ⊙ (h_{t-1} − n_t)                      one lerp: (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

where a = W_ih x_t + b_ih is computed for all steps at once. Under `torch.autocast` the dtypes
follow torch.nn.GRU's: on the CPU the products run in the low-precision type and the state
keeps h_0's dtype; on CUDA the whole recurrence runs in the low-precision type
(`rnnkit.layers.autocast`).

`gru_forward` and `gru_backward` are the same recurrence with its backward derived by hand, for
the traced graphs of `torch.compile` and `torch.export` (`rnnkit.layers.fast.traceable`), where
a loop differentiated by autograd would be unrolled T times. From δh_t = ∂L/∂h_t (the gradient
of output t plus what h_{t+1} sends back), for t = T…1:

    δn = δh_t ⊙ (1 − z_t)              δz = δh_t ⊙ (h_{t-1} − n_t)
    δa_n = δn ⊙ (1 − n_t²)             δg_n = δa_n ⊙ r_t           (n_t = tanh(a_n + r_t ⊙ g_n))
    δa_r = δa_n ⊙ g_n ⊙ r_t(1 − r_t)   δa_z = δz ⊙ z_t(1 − z_t)
    δh_{t-1} = δh_t ⊙ z_t + [δa_r | δa_z | δg_n] W_hh
    ∂L/∂W_hh = Σ_t [δa_r | δa_z | δg_n]ᵀ h_{t-1},  ∂L/∂b_hh = Σ_t Σ_batch [δa_r | δa_z | δg_n]
    ∂L/∂W_ih = Σ_t [δa_r | δa_z | δa_n]ᵀ x_t,      ∂L/∂b_ih = Σ_t Σ_batch [δa_r | δa_z | δa_n]
    ∂L/∂x_t = [δa_r | δa_z | δa_n] W_ih,            ∂L/∂h_0 = δh_0 as the loop leaves it

where g = W_hh h_{t-1} + b_hh, and r_t, z_t, n_t are the gates the forward saved.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.layers.autocast import cast_all, recurrence_dtype
from rnnkit.layers.lengths import SequenceLengths


def gru_sequence(
    x: Tensor,
    hidden0: Tensor,
    weights: tuple[Tensor, Tensor, Tensor | None, Tensor | None],
    lengths: SequenceLengths | None = None,
    *,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """Run one direction of a reset-after GRU layer over a sequence; no checks (hot path).

    Shapes:
        x (T, B, F); hidden0 (B, H); weights = (W_ih (3H, F), W_hh (3H, H), b_ih, b_hh (3H,) or
        None); returns outputs (T, B, H), zero past each sequence's length, and h_n (B, H).

    Args:
        x: the inputs, time-major.
        hidden0: h_0.
        weights: torch.nn.GRU's parameters of one layer and direction (rows r|z|n).
        lengths: the real steps of each sequence (state kept, output zero on padding), or None.
        reverse: run t = T…1, each sequence from its own last real step.

    Returns:
        (outputs, h_n).

    Example:
        >>> from rnnkit.cells import GRUCell
        >>> cell = GRUCell(3, 4)
        >>> x = torch.randn(5, 2, 3)  # (T, B, F)
        >>> weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        >>> outputs, hidden = gru_sequence(x, torch.zeros(2, 4), weights)
        >>> state = cell.init_state(2)
        >>> for x_t in x:
        ...     state = cell(x_t, state)
        >>> torch.allclose(hidden, state.hidden, atol=1e-6)
        True
    """
    low = recurrence_dtype("GRU", x.device.type)  # D under CUDA autocast (layers/autocast.py)
    if low is not None:  # the whole recurrence in D, as cuDNN's GRU under autocast
        x, hidden0, *weights = cast_all(low, x, hidden0, *weights)
    weight_ih, weight_hh, bias_ih, bias_hh = weights
    H = weight_hh.shape[1]
    if lengths is None and _inference(x, hidden0, weights):
        return _inference_sequence(x, hidden0, weights, reverse)
    projected = F.linear(x, weight_ih, bias_ih)  # (T, B, 3H), one product
    gates_in, new_in = (part.unbind(0) for part in projected.split_with_sizes([2 * H, H], -1))
    masks = None if lengths is None else lengths.mask.unbind(0)  # T × (B, 1)
    order = range(len(gates_in) - 1, -1, -1) if reverse else range(len(gates_in))
    hidden, outputs = hidden0, []
    for t in order:
        step = gru_step(gates_in[t], new_in[t], hidden, weight_hh, bias_hh)  # h_t
        if masks is None:
            hidden = step
            outputs.append(step)
        else:
            hidden = torch.where(masks[t], step, hidden)  # kept on padding
            outputs.append(step.masked_fill(~masks[t], 0.0))  # zero output on padding
    if reverse:
        outputs.reverse()
    return torch.stack(outputs), hidden


def _new_rows_doubled(
    weights: tuple[Tensor, Tensor, Tensor | None, Tensor | None],
) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
    """W_ih, W_hh, b_ih, b_hh with their n rows ×2, so the products give 2a_n and 2g_n.

    Then u' = 2a_n + r_t ⊙ 2g_n = 2u and n_t = tanh(u) = 2σ(u') − 1: σ and one add replace
    torch.tanh, several times slower than σ per element on CPU. ×2 is exact in floating point.
    """
    H = weights[1].shape[1]
    doubled = weights[1].new_ones(3 * H)
    doubled[2 * H :] = 2.0

    def scaled(tensor: Tensor | None) -> Tensor | None:
        if tensor is None:
            return None
        return tensor * (doubled if tensor.dim() == 1 else doubled[:, None])

    weight_ih, weight_hh, bias_ih, bias_hh = (scaled(w) for w in weights)
    return weight_ih, weight_hh, bias_ih, bias_hh  # type: ignore[return-value]


def _inference(x: Tensor, hidden0: Tensor, weights: tuple[Tensor | None, ...]) -> bool:
    """Whether no gradient is wanted (no_grad, inference_mode, or nothing requires one) and
    every tensor has x's dtype (autocast leaves h_0 in another): the in-place loop applies."""
    tensors = [t for t in (x, hidden0, *weights) if t is not None]
    if any(t.dtype != x.dtype for t in tensors):
        return False
    return not torch.is_grad_enabled() or not any(t.requires_grad for t in tensors)


def _inference_sequence(
    x: Tensor,
    hidden0: Tensor,
    weights: tuple[Tensor, Tensor, Tensor | None, Tensor | None],
    reverse: bool,
) -> tuple[Tensor, Tensor]:
    """`gru_sequence` when no gradient is taken: the same equations into preallocated buffers.

    n_t = tanh(u) with u = a_n + r_t ⊙ g_n runs as 2σ(2u) − 1 (torch.tanh is several times
    slower than σ on CPU): with the n rows of the weights doubled (`_new_rows_doubled`)
    u' = 2u comes out of the same addcmul, and a step is the recurrent product, one add and
    σ for both gates, addcmul, σ, 2σ − 1 and the lerp, with every view taken before the loop.
    """
    weight_ih, weight_hh, bias_ih, bias_hh = _new_rows_doubled(weights)  # a'_n = 2a_n, g'_n = 2g_n
    T, B, _ = x.shape
    H = weight_hh.shape[1]
    projected = F.linear(x, weight_ih, bias_ih)  # a, n rows doubled, (T, B, 3H)
    gates_in, new_in = (part.unbind(0) for part in projected.split_with_sizes([2 * H, H], -1))
    weight_hh_t = weight_hh.t()
    recurrent = x.new_empty(B, 3 * H)  # g = W_hh h_{t-1} + b_hh, n rows doubled
    recurrent_rz, recurrent_n = recurrent.split_with_sizes([2 * H, H], -1)
    gates = x.new_empty(B, 2 * H)  # r_t | z_t
    reset, update = gates.chunk(2, dim=-1)
    new = x.new_empty(B, H)  # n_t
    minus_one = x.new_full((), -1.0)  # 0-dim: no conversion of a Python number per step
    outputs = x.new_empty(T, B, H)
    steps = outputs.unbind(0)
    order = range(T - 1, -1, -1) if reverse else range(T)
    hidden = hidden0
    for t in order:
        if bias_hh is None:
            torch.mm(hidden, weight_hh_t, out=recurrent)
        else:
            torch.addmm(bias_hh, hidden, weight_hh_t, out=recurrent)
        torch.add(gates_in[t], recurrent_rz, out=gates).sigmoid_()  # r_t, z_t
        torch.addcmul(new_in[t], reset, recurrent_n, out=new).sigmoid_()  # σ(2u)
        torch.add(minus_one, new, alpha=2.0, out=new)  # n_t = 2σ(2u) − 1 = tanh(u)
        hidden = torch.lerp(new, hidden, update, out=steps[t])  # h_t = n_t + z_t (h_{t-1} − n_t)
    return outputs, hidden


def gru_step(
    gates_in: Tensor, new_in: Tensor, hidden: Tensor, weight_hh: Tensor, bias_hh: Tensor | None
) -> Tensor:
    """h_t from a_rz = W_i{r,z} x_t + b_i{r,z} (B, 2H), a_n (B, H) and h_{t-1} (B, H).

    The step of `gru_sequence` (module docstring), also the one-step route of a GRU layer
    (`rnnkit.layers.fast`, streaming): one product, one σ for both gates, addcmul, tanh, lerp.
    """
    recurrent_rz, recurrent_n = F.linear(hidden, weight_hh, bias_hh).split_with_sizes(
        [gates_in.shape[-1], new_in.shape[-1]], -1
    )  # W_hh h_{t-1} + b_hh, (B, 2H) and (B, H)
    reset, update = (gates_in + recurrent_rz).sigmoid_().chunk(2, dim=-1)  # r_t, z_t
    new = torch.addcmul(new_in, reset, recurrent_n).tanh_()  # n_t
    if new.dtype != hidden.dtype:  # CPU autocast: gates in D, the state keeps h_0's dtype
        new, update = new.to(hidden.dtype), update.to(hidden.dtype)
    return torch.lerp(new, hidden, update)  # h_t = n_t + z_t ⊙ (h_{t-1} − n_t)


def gru_forward(
    x: Tensor, hidden0: Tensor, weights: tuple[Tensor, Tensor, Tensor | None, Tensor | None]
) -> tuple[Tensor, Tensor]:
    """The recurrence, no autograd: outputs (T, B, H) and the saved [r | z | n | g_n] (T, B, 4H).

    All T steps are real (no lengths) and run forwards; the final state is outputs[-1].
    """
    weight_ih, weight_hh, bias_ih, bias_hh = weights
    T, B, _ = x.shape
    H = weight_hh.shape[1]
    projected = F.linear(x, weight_ih, bias_ih)  # a = W_ih x_t + b_ih, (T, B, 3H)
    outputs, saved = x.new_empty(T, B, H), x.new_empty(T, B, 4 * H)
    hidden = hidden0
    for t in range(T):
        recurrent = F.linear(hidden, weight_hh, bias_hh)  # g = W_hh h_{t-1} + b_hh, (B, 3H)
        gates = saved[t]  # r | z | n | g_n
        torch.sigmoid(projected[t, :, : 2 * H] + recurrent[:, : 2 * H], out=gates[:, : 2 * H])
        reset, update = gates[:, :H], gates[:, H : 2 * H]
        new = torch.addcmul(projected[t, :, 2 * H :], reset, recurrent[:, 2 * H :]).tanh_()
        gates[:, 2 * H : 3 * H] = new  # n_t
        gates[:, 3 * H :] = recurrent[:, 2 * H :]  # g_n
        hidden = torch.lerp(new, hidden, update, out=outputs[t])  # h_t
    return outputs, saved


def gru_backward(
    grads: tuple[Tensor, Tensor],
    x: Tensor,
    hidden0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    outputs: Tensor,
    saved: Tensor,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """∂L/∂ of x, h_0, W_ih, W_hh, b_ih, b_hh by the equations of the module docstring.

    Args:
        grads: the gradients of the outputs (T, B, H) and of h_n (B, H).
        x, hidden0, weight_ih, weight_hh: the forward's inputs.
        outputs, saved: what `gru_forward` returned.
    """
    grad_outputs, grad_hidden = grads
    T, B, F_in = x.shape
    H = weight_hh.shape[1]
    delta_input = x.new_empty(T, B, 3 * H)  # [δa_r | δa_z | δa_n]
    delta_recurrent = x.new_empty(T, B, 3 * H)  # [δa_r | δa_z | δg_n]
    carried = grad_hidden.clone()  # δh_t, (B, H)
    for t in range(T - 1, -1, -1):
        carried.add_(grad_outputs[t])  # δh_t
        reset, update, new, recurrent_n = saved[t].split(H, dim=1)
        hidden_prev = hidden0 if t == 0 else outputs[t - 1]
        delta_n = (carried * (1 - update)).mul_(1 - new * new)  # δa_n
        delta_input[t, :, 2 * H :] = delta_n
        torch.mul(delta_n, reset, out=delta_recurrent[t, :, 2 * H :])  # δg_n
        delta_r = (delta_n * recurrent_n).mul_(reset * (1 - reset))  # δa_r
        delta_z = (carried * (hidden_prev - new)).mul_(update * (1 - update))  # δa_z
        delta_input[t, :, :H] = delta_recurrent[t, :, :H] = delta_r
        delta_input[t, :, H : 2 * H] = delta_recurrent[t, :, H : 2 * H] = delta_z
        carried = torch.addmm(carried * update, delta_recurrent[t], weight_hh)  # δh_{t-1}
    flat_input = delta_input.view(T * B, 3 * H)
    flat_recurrent = delta_recurrent.view(T * B, 3 * H)
    previous = torch.cat([hidden0.unsqueeze(0), outputs[:-1]]).view(T * B, H)  # h_{t-1}
    return (
        (flat_input @ weight_ih).view(T, B, F_in),  # ∂L/∂x_t
        carried,  # ∂L/∂h_0
        flat_input.t() @ x.reshape(T * B, F_in),  # ∂L/∂W_ih
        flat_recurrent.t() @ previous,  # ∂L/∂W_hh
        flat_input.sum(0),  # ∂L/∂b_ih
        flat_recurrent.sum(0),  # ∂L/∂b_hh
    )


__all__ = ["gru_backward", "gru_forward", "gru_sequence", "gru_step"]

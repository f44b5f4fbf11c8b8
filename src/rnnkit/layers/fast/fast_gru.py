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
    projected = F.linear(x, weight_ih, bias_ih).unbind(0)  # T × (B, 3H), one product
    masks = None if lengths is None else lengths.mask.unbind(0)  # T × (B, 1)
    order = range(len(projected) - 1, -1, -1) if reverse else range(len(projected))
    hidden, outputs = hidden0, []
    for t in order:
        a_t = projected[t]
        recurrent = F.linear(hidden, weight_hh, bias_hh)  # W_hh h_{t-1} + b_hh, (B, 3H)
        reset, update = torch.sigmoid(a_t[:, : 2 * H] + recurrent[:, : 2 * H]).chunk(2, dim=1)
        new = torch.tanh(torch.addcmul(a_t[:, 2 * H :], reset, recurrent[:, 2 * H :]))  # n_t
        if new.dtype != hidden.dtype:  # CPU autocast: gates in D, the state keeps h_0's dtype
            new, update = new.to(hidden.dtype), update.to(hidden.dtype)
        step = torch.lerp(new, hidden, update)  # h_t = n_t + z_t ⊙ (h_{t-1} − n_t)
        if masks is None:
            hidden = step
            outputs.append(step)
        else:
            hidden = torch.where(masks[t], step, hidden)  # kept on padding
            outputs.append(step.masked_fill(~masks[t], 0.0))  # zero output on padding
    if reverse:
        outputs.reverse()
    return torch.stack(outputs), hidden


__all__ = ["gru_sequence"]

"""Mixed precision inside the recurrent layers: torch.nn's dtype rules under `torch.autocast`.

References:
    https://pytorch.org/docs/stable/amp.html (autocast, its op lists per device)
    https://github.com/pytorch/pytorch/blob/v2.13.0/aten/src/ATen/autocast_mode.cpp

Autocast decides per operator: a matrix product runs in the low-precision type D (bfloat16 or
float16), an element-wise operator in the promoted type of its inputs. A time loop of in-place
products into preallocated buffers (`elman_bptt`, `fused_lstm`) fails under it, since `addmm_`
into a float32 buffer refuses D inputs, and a loop that mixes a float32 h_0 with D gates changes
the state's dtype from one step to the next. So the layers follow the dtypes torch.nn's layers
return under autocast (torch 2.13; tests/layers/test_autocast.py compares them case by case):

    CPU   RNN; LSTM without projection, input not packed
              the whole recurrence in D: outputs, h_n (and c_n) in D
          GRU; LSTM with projection or packed input (or `lengths`); rnnkit's LSTM variants
              torch runs the composite of its cell: products in D, the state in the dtype its
              step promotes to (float32 for float32 input; a projected h_t comes out in D)
    CUDA  every layer: the whole recurrence in D (cuDNN's autocast casts input, h_0, c_0 and
          every weight to D)

"The whole recurrence in D" is done as torch's cuDNN autocast does it: input, initial state and
weights are cast to D once (the casts are differentiable, so the float32 parameters receive
float32 gradients), then the recurrence runs with autocast off. Products of D tensors accumulate
in float32 inside the kernels, as torch's do.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor

from rnnkit.cells.base import RecurrentCell, State
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.rnn import ElmanCell

Kind = Literal["RNN", "LSTM", "GRU", "composite"]
"""RNN, LSTM (torch's configuration without projection), GRU, or "composite": a cell torch.nn
runs on the CPU as the composite of its step (a projected LSTM, rnnkit's variants)."""


def autocast_dtype(device_type: str) -> torch.dtype | None:
    """D, the low-precision dtype autocast uses on `device_type` now, or None when it is off."""
    if not torch.is_autocast_enabled(device_type):
        return None
    return torch.get_autocast_dtype(device_type)


def recurrence_dtype(kind: Kind, device_type: str, *, packed: bool = False) -> torch.dtype | None:
    """D when torch.nn runs this layer's whole recurrence in D now (the table above), else None.

    Example:
        >>> with torch.autocast("cpu", dtype=torch.bfloat16):
        ...     recurrence_dtype("LSTM", "cpu"), recurrence_dtype("GRU", "cpu")
        (torch.bfloat16, None)
        >>> recurrence_dtype("LSTM", "cpu") is None  # autocast off
        True
    """
    dtype = autocast_dtype(device_type)
    composite = kind in ("GRU", "composite") or (kind == "LSTM" and packed)
    if dtype is None or (device_type == "cpu" and composite):
        return None
    return dtype


def cast_all(dtype: torch.dtype, *tensors: Any) -> list[Any]:
    """Each tensor cast to `dtype`, anything else (None) as it is; differentiable, and a no-op
    for a tensor already in `dtype`."""
    return [t.to(dtype) if isinstance(t, Tensor) else t for t in tensors]


def kind_of(cell: RecurrentCell) -> Kind:
    """Which row of the table above a cell's time loop follows."""
    if isinstance(cell, ElmanCell):
        return "RNN"
    if isinstance(cell, GRUCell):
        return "GRU"
    if isinstance(cell, LSTMCell) and cell.is_torch_like:
        return "LSTM"
    return "composite"


def cast_state(state: State, kind: Kind, device_type: str, *, packed: bool = False) -> State:
    """The initial state of a recurrence, in D where torch.nn keeps the state in D (see above).

    With autocast off, or where torch runs the composite of the cell, it comes back unchanged.
    """
    dtype = recurrence_dtype(kind, device_type, packed=packed)
    if dtype is None or all(field.dtype == dtype for field in state):
        return state
    return type(state)(*(field.to(dtype) for field in state))


__all__ = ["Kind", "autocast_dtype", "cast_all", "cast_state", "kind_of", "recurrence_dtype"]

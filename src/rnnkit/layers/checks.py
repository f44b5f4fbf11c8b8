"""Argument checks at the public boundary of the layers: rank, sizes, batch, dtype, finiteness.

References:
    https://github.com/pytorch/pytorch/blob/e6f551a/torch/nn/modules/rnn.py (`check_input`)

Every check raises `rnnkit.errors.ShapeError` with the argument's name, the expected shape and the
received one. The checks run once per call, never inside the time loop. The shape, batch, dtype
and device checks raise `LayerMismatchError`, a ShapeError that is also the RuntimeError torch.nn's
layers raise for the same mistakes, so code written for torch.nn catches it as before.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rnnkit.cells.base import RecurrentCell, State
from rnnkit.errors import ShapeError


class LayerMismatchError(ShapeError, RuntimeError):
    """A wrong rank, size, batch, T = 0, dtype or device; also a RuntimeError, as in torch.nn.

    torch.nn.RNN / LSTM / GRU raise RuntimeError for these (`RNNBase.check_input`,
    `check_hidden_size`, "Expected sequence length to be larger than 0"), ValueError for a wrong
    rank or input dtype; this type is both, so either `except` written for torch.nn catches it.
    """


def shape_of(value: Any) -> str:
    """A short description of what was received, for error messages."""
    if isinstance(value, Tensor):
        return str(tuple(value.shape))
    return type(value).__name__


def layout_of(batch_first: bool) -> str:
    """The input layout a layer reads: "(B, T, F)" with batch_first=True, else "(T, B, F)"."""
    return "(B, T, F)" if batch_first else "(T, B, F)"


def describe_input(shape: tuple[int, ...], *, batch_first: bool) -> str:
    """Where B and T come from, for messages: "input (B, T, F) = (3, 5, 4) with batch_first=True".

    Example:
        >>> describe_input((3, 5, 4), batch_first=True)
        'input (B, T, F) = (3, 5, 4) with batch_first=True'
    """
    return f"input {layout_of(batch_first)} = {tuple(shape)} with batch_first={batch_first}"


def check_sequence(
    x: Any, *, input_size: int, batch_first: bool, layer: str, allow_unbatched: bool = False
) -> None:
    """x must be a floating tensor (B, T, F) (batch_first) or (T, B, F) with F = input_size.

    With `allow_unbatched`, a 2-D x is read as unbatched (T, F), as torch.nn's layers do. Every
    message names the layout the layer was asked for and the shape exactly as it was passed.
    """
    unbatched = allow_unbatched and isinstance(x, Tensor) and x.dim() == 2
    where = "unbatched (T, F)" if unbatched else f"{layout_of(batch_first)} with {batch_first=}"
    if not isinstance(x, Tensor) or x.dim() != (2 if unbatched else 3):
        expected = where + (", or unbatched (T, F)," if allow_unbatched else "")
        raise LayerMismatchError(
            f"{layer} input must be {expected} with F = {input_size}; got {shape_of(x)}."
        )
    if x.shape[-1] != input_size:
        raise LayerMismatchError(
            f"{layer} input must be {where}, and F = input_size = {input_size}; got "
            f"{tuple(x.shape)}. Check input_size."
        )
    if not x.is_floating_point():
        raise LayerMismatchError(f"{layer} input must be a floating tensor; got {x.dtype}.")
    if x.shape[0 if unbatched or not batch_first else 1] == 0:
        raise LayerMismatchError(
            f"{layer} input must have T ≥ 1 time steps, as {where}; got {tuple(x.shape)}."
        )


def check_dtype(x: Tensor, parameter: Tensor, *, argument: str, layer: str) -> None:
    """x must have the parameters' dtype and device (torch does no silent casting here either).

    Under `torch.autocast` on x's device any floating dtypes may meet, as in torch.nn's layers:
    the layer casts them itself (`rnnkit.layers.autocast`).
    """
    mixed_precision = torch.is_autocast_enabled(x.device.type) and x.is_floating_point()
    if x.device != parameter.device or (x.dtype != parameter.dtype and not mixed_precision):
        raise LayerMismatchError(
            f"{layer} `{argument}` must have the parameters' dtype and device "
            f"({parameter.dtype}, {parameter.device}); got ({x.dtype}, {x.device}). "
            f"Convert it with .to(...) or convert the layer."
        )


def check_finite(tensor: Tensor, *, argument: str, layer: str) -> None:
    """Raise ShapeError if `tensor` holds NaN or ±inf (an opt-in check: it syncs the device)."""
    if not bool(torch.isfinite(tensor).all()):
        bad = int((~torch.isfinite(tensor)).sum())
        raise ShapeError(
            f"{layer} `{argument}` must be finite (check_finite=True); got {bad} NaN/inf "
            f"values in a tensor of shape {tuple(tensor.shape)}."
        )


def check_cell_state(
    state: Any, cell: RecurrentCell, batch_size: int, *, layer: str, source: str = ""
) -> State:
    """`state` must be the cell's state type with fields (B, state_size) / (B, hidden_size).

    `source` (see `describe_input`) says where B was read, so the message names the input layout.
    """
    origin = f" (B = {batch_size} from {source})" if source else ""
    state_type = cell.state_type
    fields = ", ".join(state_type._fields)
    if not isinstance(state, tuple) or len(state) != len(state_type._fields):
        raise LayerMismatchError(
            f"{layer} state must be {state_type.__name__}({fields}); got {shape_of(state)}."
        )
    state = state_type(*state)
    for field, tensor in zip(state_type._fields, state, strict=True):
        size = cell.state_size if field == "hidden" else cell.hidden_size
        if not isinstance(tensor, Tensor) or tuple(tensor.shape) != (batch_size, size):
            raise LayerMismatchError(
                f"{layer} state.{field} must be (B, {size}) = ({batch_size}, {size}){origin}; "
                f"got {shape_of(tensor)}. Check the batch size and hidden_size."
            )
    return state


def check_layer_state(
    tensor: Any,
    *,
    argument: str,
    expected: tuple[int, ...],
    layer: str,
    meaning: str,
    source: str = "",
) -> None:
    """A stacked state tensor (L·D, B, H) (or (L·D, H) unbatched) must have shape `expected`.

    The state is (L·D, B, H) whatever batch_first is, as in torch; `source` (see
    `describe_input`) says where B was read.
    """
    if not isinstance(tensor, Tensor) or tuple(tensor.shape) != expected:
        origin = ""
        if source:
            origin = f" (B = {expected[1]} from {source})" if len(expected) == 3 else f" ({source})"
        raise LayerMismatchError(
            f"{layer} `{argument}` must be {meaning} = {expected}{origin}; got "
            f"{shape_of(tensor)}. Check num_layers, bidirectional, hidden_size and the batch size."
        )


__all__ = [
    "LayerMismatchError",
    "check_cell_state",
    "check_dtype",
    "check_finite",
    "check_layer_state",
    "check_sequence",
    "describe_input",
    "layout_of",
    "shape_of",
]

"""Nested tensors: a batch or a recurrent state as tuples, NamedTuples, lists and dicts of tensors.

The trainer never looks inside a batch or a state; it maps a function over every tensor in it:
to move a batch to the device, to detach a carried state (truncated BPTT), or to cut a batch
along time (`Objective.slice_time`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor


def map_tensors(value: Any, fn: Callable[[Tensor], Tensor]) -> Any:
    """Apply `fn` to every tensor inside tuples, NamedTuples, lists and dicts of `value`."""
    if isinstance(value, Tensor):
        return fn(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # NamedTuple
        return type(value)(*(map_tensors(item, fn) for item in value))
    if isinstance(value, list | tuple):
        return type(value)(map_tensors(item, fn) for item in value)
    if isinstance(value, dict):
        return {key: map_tensors(item, fn) for key, item in value.items()}
    return value


def iter_tensors(value: Any) -> Iterable[Tensor]:
    """Every tensor inside `value`, depth first."""
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from iter_tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_tensors(item)


def detach_state(state: Any) -> Any:
    """The recurrent state cut from the graph: gradients stop here (truncated BPTT)."""
    return map_tensors(state, lambda t: t.detach())


def to_device(value: Any, device: torch.device) -> Any:
    """Move every tensor inside `value` to `device`."""
    return map_tensors(value, lambda t: t.to(device, non_blocking=True))

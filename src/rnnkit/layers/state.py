"""Layer states: the (L·D, B, H) layout of torch.nn, carried state and its detachment for TBPTT.

References:
    https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html (h_n, c_n of shape (L·D, B, H))
    https://doi.org/10.1162/neco.1990.2.4.490 (Williams & Peng 1990, truncated BPTT)

A stack of L layers with D directions keeps one cell state per (layer, direction). torch.nn lays
them out as one tensor (L·D, B, H) per state field, row k = layer·D + direction (direction 1 is
the reversed pass); `split_layer_state` and `stack_layer_states` convert between that layout and
a list of per-cell `RNNState` / `LSTMState`.

Streaming: feed a long sequence in chunks and pass the returned state into the next call; the
outputs are those of one call over the whole sequence. To train on such a stream with truncated
BPTT, `detach_state` cuts the graph between chunks so the gradient stops at the chunk boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import torch
from torch import Tensor

from rnnkit.cells.base import State

StateT = TypeVar("StateT")


def detach_state(state: StateT) -> StateT:
    """The same state with every tensor detached from the graph, for truncated BPTT.

    Works on a tensor, None, and (nested) tuples, NamedTuples, lists and dicts of them, so it
    takes both `h_n` and `(h_n, c_n)` as torch returns them, and rnnkit's state NamedTuples.

    Example:
        >>> hidden = torch.ones(1, 2, 3, requires_grad=True) * 2  # (L·D, B, H)
        >>> detach_state((hidden, hidden))[0].requires_grad
        False
    """
    if state is None:
        return state
    if isinstance(state, Tensor):
        return state.detach()  # type: ignore[return-value]
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # a NamedTuple
        return type(state)(*(detach_state(part) for part in state))  # type: ignore[return-value]
    if isinstance(state, tuple | list):
        return type(state)(detach_state(part) for part in state)  # type: ignore[return-value]
    if isinstance(state, dict):
        return {key: detach_state(value) for key, value in state.items()}  # type: ignore[return-value]
    raise TypeError(f"detach_state takes tensors, tuples, lists and dicts; got {type(state)}.")


def reset_rows(state: StateT, keep: Tensor) -> StateT:
    """Zero the state of the sequences that start afresh (keep[b] False), keep the others.

    For streaming over a batch of independent streams: when stream b ends and a new one takes
    its row, its carried state must restart from zero.

    Shapes:
        keep (B,) bool; every tensor of `state` has B on its second-to-last axis ((B, H) or
        (L·D, B, H)).

    Example:
        >>> hidden = torch.ones(1, 2, 3)  # (L·D, B, H)
        >>> reset_rows(hidden, torch.tensor([True, False]))[0].sum(-1).tolist()
        [3.0, 0.0]
    """
    if isinstance(state, Tensor):
        return state * keep.to(state.device, state.dtype)[:, None]  # type: ignore[return-value]
    if isinstance(state, tuple) and hasattr(state, "_fields"):
        return type(state)(*(reset_rows(part, keep) for part in state))  # type: ignore[return-value]
    if isinstance(state, tuple | list):
        return type(state)(reset_rows(part, keep) for part in state)  # type: ignore[return-value]
    raise TypeError(f"reset_rows takes tensors, tuples and lists; got {type(state)}.")


def split_layer_state(state: State, num_layers: int, num_directions: int) -> list[list[State]]:
    """(L·D, B, ·) per field -> state[layer][direction], each field (B, ·).

    Example:
        >>> from rnnkit.cells import RNNState
        >>> stacked = RNNState(torch.zeros(4, 2, 3))  # L = 2, D = 2, B = 2, H = 3
        >>> cells = split_layer_state(stacked, 2, 2)
        >>> len(cells), len(cells[0]), tuple(cells[1][1].hidden.shape)
        (2, 2, (2, 3))
    """
    state_type = type(state)
    rows = [field.unbind(0) for field in state]  # per field, L·D tensors (B, ·)
    return [
        [
            state_type(*(field[layer * num_directions + direction] for field in rows))
            for direction in range(num_directions)
        ]
        for layer in range(num_layers)
    ]


def stack_layer_states(states: Sequence[Sequence[State]]) -> State:
    """state[layer][direction] -> one state whose fields are (L·D, B, ·), as torch lays them out."""
    flat = [state for layer in states for state in layer]
    state_type = type(flat[0])
    return state_type(*(torch.stack(list(fields)) for fields in zip(*flat, strict=True)))


__all__ = ["detach_state", "reset_rows", "split_layer_state", "stack_layer_states"]

"""A tape of every step the rnnkit cells of a model compute, kept in the autograd graph.

The analysis tools need the hidden states h_t themselves as graph nodes: ∂L/∂h_t (per-step
gradient norms) and the one-step Jacobian ∂h_{t+1}/∂h_t (the Pascanu regulariser Ω). Inside
`record_steps(model)` every cell's `step` is wrapped so that each call appends
(input projection, previous state, new state) to the tape, and every `Recurrent` loop (the
drop-in layers `rnnkit.RNN/LSTM/GRU` are made of them) runs with bptt="autograd" (the cell's
own step) instead of a fast sequence function, so all of their steps are seen. The forward
pass computes the same numbers as without the tape (tests/analysis/test_tape.py); only the
speed differs.

Cells are found in module order: a drop-in layer's cells in torch.nn's (layer, direction) order,
the `Recurrent` layers of a `Stacked` or `Bidirectional` bottom to top, forward before
backward, then bare cells.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from torch import Tensor, nn

from rnnkit.cells.base import RecurrentCell, State
from rnnkit.errors import ConfigError
from rnnkit.layers.recurrent import Recurrent


@dataclass
class CellSteps:
    """The steps one cell ran during the recorded forward passes, in the order they ran."""

    cell: RecurrentCell
    reverse: bool  # a backward direction: it ran t = T…1
    projections: list[Tensor] = field(default_factory=list)  # W_ih x_t + b, (B, G) each
    previous: list[State] = field(default_factory=list)  # state_{t−1} each step started from
    states: list[State] = field(default_factory=list)  # state_t each step computed

    def hiddens_in_time_order(self) -> list[Tensor]:
        """h_1…h_T as graph nodes, in time order (a backward direction's steps flipped)."""
        hiddens = [state.hidden for state in self.states]
        return hiddens[::-1] if self.reverse else hiddens


def _cells_of(model: nn.Module) -> list[tuple[RecurrentCell, bool]]:
    """(cell, reverse) for every rnnkit cell in `model`, in module order, each once."""
    found: list[tuple[RecurrentCell, bool]] = []
    seen: set[int] = set()

    def add(cell: RecurrentCell, reverse: bool) -> None:
        if id(cell) not in seen:
            seen.add(id(cell))
            found.append((cell, reverse))

    for module in model.modules():  # a Recurrent comes before its cell
        if isinstance(module, Recurrent):
            add(module.cell, module.reverse)
        elif isinstance(module, RecurrentCell):
            add(module, False)
    return found


def _wrap_step(cell: RecurrentCell, record: CellSteps) -> None:
    """Shadow `cell.step` with a function that appends every call to `record`."""
    step = cell.step

    def recorded_step(projected: Tensor, state: State, masks: Any = None) -> State:
        new = step(projected, state, masks)  # masks: this step's regulariser masks, or None
        record.projections.append(projected)
        record.previous.append(state)
        record.states.append(new)
        return new

    cell.__dict__["step"] = recorded_step


@contextlib.contextmanager
def record_steps(model: nn.Module) -> Iterator[list[CellSteps]]:
    """Record every cell step of `model`'s forward passes inside the block.

    Yields one `CellSteps` per cell (see the module docstring for the order); they fill as the
    model runs. On exit the cells' `step` and the loops' `bptt` are restored.

    Raises:
        ConfigError: the model holds no rnnkit cell.

    Example:
        >>> import torch
        >>> from rnnkit.layers import GRU
        >>> layer = GRU(3, 4, num_layers=2)
        >>> with record_steps(layer) as tape:
        ...     _ = layer(torch.randn(5, 2, 3))  # (T, B, F)
        >>> [len(cell_steps.states) for cell_steps in tape]  # T steps in each of 2 layers
        [5, 5]
    """
    cells = _cells_of(model)
    if not cells:
        raise ConfigError(
            f"{type(model).__name__} holds no rnnkit cell (ElmanCell, LSTMCell, GRUCell, …) to "
            "record; build it from rnnkit layers or cells."
        )
    tape = [CellSteps(cell, reverse) for cell, reverse in cells]
    loops = [m for m in model.modules() if isinstance(m, Recurrent)]
    choices = [loop.bptt for loop in loops]
    try:
        for record in tape:
            _wrap_step(record.cell, record)
        for loop in loops:
            loop.bptt = "autograd"  # the cell's own step, so the tape sees every step
        yield tape
    finally:
        for record in tape:
            record.cell.__dict__.pop("step", None)
        for loop, bptt in zip(loops, choices, strict=True):
            loop.bptt = bptt


__all__ = ["CellSteps", "record_steps"]

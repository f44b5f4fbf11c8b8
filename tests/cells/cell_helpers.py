"""Helpers shared by the cell tests: random states, constant weights, gradcheck of a whole cell."""

from __future__ import annotations

import torch
from torch.func import functional_call

from rnnkit.cells import RecurrentCell
from rnnkit.cells.base import State


def random_state(cell: RecurrentCell, batch_size: int, *, requires_grad: bool = False) -> State:
    """A random state of the cell's type: hidden (B, state_size), cell (B, hidden_size)."""
    tensors = []
    for field in cell.state_type._fields:
        size = cell.state_size if field == "hidden" else cell.hidden_size
        tensors.append(torch.randn(batch_size, size, requires_grad=requires_grad))
    return cell.state_type(*tensors)


def fill_parameters(cell: RecurrentCell, value: float, **overrides: float) -> RecurrentCell:
    """Set every parameter to `value`, or to overrides[name] for the names given."""
    with torch.no_grad():
        for name, parameter in cell.named_parameters():
            parameter.fill_(overrides.get(name, value))
    return cell


def cell_gradcheck(cell: RecurrentCell, batch_size: int = 2) -> bool:
    """gradcheck of forward(x_t, state) w.r.t. x_t, every state tensor and every parameter."""
    names = [name for name, _ in cell.named_parameters()]
    parameters = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    x_t = torch.randn(batch_size, cell.input_size, requires_grad=True)
    state = list(random_state(cell, batch_size, requires_grad=True))

    def step(x_t: torch.Tensor, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        state = cell.state_type(*tensors[: len(cell.state_type._fields)])
        values = dict(zip(names, tensors[len(state) :], strict=True))
        return tuple(functional_call(cell, values, (x_t, state)))

    return torch.autograd.gradcheck(step, (x_t, *state, *parameters), atol=1e-8)

"""Per-time-step gradient norms ‖∂L/∂h_t‖ back through time, to see gradients vanish or explode.

References:
    https://arxiv.org/abs/1211.5063 (Pascanu, Mikolov & Bengio 2013)
    https://doi.org/10.1109/72.279181 (Bengio, Simard & Frasconi 1994)

The gradient reaching h_t is the sum over every later loss term of a Jacobian product
(Pascanu et al. 2013, eqs. 3-5):

    ∂L/∂h_t = Σ_{τ ≥ t} ∂L_τ/∂h_τ · ∂h_τ/∂h_t,    ∂h_τ/∂h_t = Π_{k=t+1…τ} ∂h_k/∂h_{k-1}

so with a loss at the last step only, ‖∂L/∂h_t‖ falls geometrically with the distance T − t
when the Jacobians are contractive (vanishing) and grows when they expand (exploding)
(Bengio et al. 1994). Here the gradients come from one backward pass: the hidden states are
kept as graph nodes and `torch.autograd.grad` returns ∂L/∂h_t for all of them at once, the
total derivative through both the outputs and the recurrence. Parameters' `.grad` are left
untouched.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.cells.base import RecurrentCell, State
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.recurrent import Recurrent
from rnnkit.layers.stacked import Stacked

Analysable = RecurrentCell | Recurrent | Stacked


def _run_keeping_hiddens(
    cell: RecurrentCell, x: Tensor, state: State, *, reverse: bool
) -> tuple[Tensor, list[Tensor]]:
    """Run `cell` over x (T, B, F); return outputs (T, B, H) and h_1…h_T in time order."""
    projected = cell.project_input(x).unbind(0)  # T × (B, G)
    order = range(len(projected) - 1, -1, -1) if reverse else range(len(projected))
    hiddens: list[Tensor] = [x.new_empty(0)] * len(projected)
    for t in order:
        state = cell.step(projected[t], state)  # state_t
        hiddens[t] = state.hidden  # h_t, kept as a graph node
    return torch.stack(hiddens), hiddens  # (T, B, H)


def _recurrent_layers(model: Analysable) -> list[tuple[RecurrentCell, bool]]:
    """(cell, reverse) for each layer, bottom to top."""
    if isinstance(model, RecurrentCell):
        return [(model, False)]
    if isinstance(model, Recurrent):
        return [(model.cell, model.reverse)]
    if isinstance(model, Stacked):
        if model.num_directions != 1:
            raise ConfigError(
                "step_gradient_norms supports stacks of single-direction Recurrent layers; got "
                "a bidirectional stack. Analyse each direction as its own Recurrent layer."
            )
        return [(layer.cell, layer.reverse) for layer in model.layers]
    raise ConfigError(
        f"step_gradient_norms takes an rnnkit cell, Recurrent or Stacked; got "
        f"{type(model).__name__}. For rnnkit.RNN/LSTM/GRU build the same cells into a "
        f"Stacked of Recurrent layers."
    )


def step_gradient_norms(
    model: Analysable,
    x: Tensor,
    loss_fn: Callable[[Tensor], Tensor],
    *,
    batch_first: bool | None = None,
    state0: State | None = None,
) -> Tensor:
    """‖∂L/∂h_t‖ for every step t (and every layer of a stack) from one backward pass.

    ‖∂L/∂h_t‖ = (Σ_b Σ_i (∂L/∂h_{t,b,i})²)^½  (Pascanu et al. 2013), over the whole batch.

    A stack runs layer by layer on its own cells, with its dropout between layers when it is in
    training mode (call `model.eval()` for a deterministic picture).

    Shapes:
        x (T, B, F), or (B, T, F) when batch first; `loss_fn` receives the top layer's outputs
        h_1…h_T in the same layout, (T, B, H) or (B, T, H), and returns a scalar.
        Returns (T,) for a cell or a Recurrent layer, (L, T) for a Stacked.

    Args:
        model: an rnnkit cell, a `Recurrent` layer or a `Stacked` of single-direction layers.
        x: the input sequence.
        loss_fn: maps the outputs to the scalar loss L.
        batch_first: layout of x; None takes the layer's own `batch_first` (False for a cell).
        state0: the initial state of a cell or Recurrent layer, zeros if None.

    Returns:
        The gradient norms, index t − 1 for h_t.

    Raises:
        ShapeError: x is not 3-D with the model's input features.
        ConfigError: an unsupported model, or state0 given for a stack.

    Example:
        >>> from rnnkit.cells import ElmanCell
        >>> cell = ElmanCell(3, 4)
        >>> norms = step_gradient_norms(cell, torch.randn(6, 2, 3), lambda y: y[-1].sum())
        >>> norms.shape  # (T,)
        torch.Size([6])
    """
    layers = _recurrent_layers(model)
    if batch_first is None:
        batch_first = bool(getattr(model, "batch_first", False))
    first = layers[0][0]
    if x.dim() != 3 or x.shape[-1] != first.input_size:
        layout = "(B, T, F)" if batch_first else "(T, B, F)"
        raise ShapeError(
            f"step_gradient_norms input must be {layout} with F = {first.input_size}; got "
            f"{tuple(x.shape)}. Check batch_first and the input size."
        )
    if state0 is not None and len(layers) > 1:
        raise ConfigError("step_gradient_norms takes state0 only for one layer; got a stack.")
    with torch.enable_grad():
        outputs = x.transpose(0, 1) if batch_first else x  # (T, B, F)
        outputs = outputs if outputs.requires_grad else outputs.detach().requires_grad_(True)
        per_layer: list[list[Tensor]] = []
        for index, (cell, reverse) in enumerate(layers):
            if index > 0 and getattr(model, "dropout", 0.0) > 0.0 and model.training:
                outputs = F.dropout(outputs, p=model.dropout, training=True)  # between layers
            state = state0 or cell.init_state(outputs.shape[1], dtype=x.dtype, device=x.device)
            outputs, hiddens = _run_keeping_hiddens(cell, outputs, state, reverse=reverse)
            per_layer.append(hiddens)
        loss = loss_fn(outputs.transpose(0, 1) if batch_first else outputs)
        flat = [h for hiddens in per_layer for h in hiddens]
        gradients = torch.autograd.grad(loss, flat, allow_unused=True)
    zero = x.new_zeros(())  # ∂L/∂h_t = 0 where L does not depend on h_t
    norms = [zero if g is None else torch.linalg.vector_norm(g) for g in gradients]
    result = torch.stack(norms).view(len(layers), -1)  # (L, T)
    return result if isinstance(model, Stacked) else result[0]


__all__ = ["step_gradient_norms"]

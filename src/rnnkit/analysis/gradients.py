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
kept as graph nodes (`rnnkit.analysis.tape`) and `torch.autograd.grad` returns ∂L/∂h_t for
all of them at once, the total derivative through both the outputs and the recurrence.
Parameters' `.grad` are left untouched.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from rnnkit.analysis.tape import record_steps
from rnnkit.cells.base import RecurrentCell, State
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.recurrent import Recurrent, run_cell


def _forward(model: nn.Module, x: Tensor, state0: State | None, batch_first: bool) -> Tensor:
    """The model's outputs for x: a cell runs its own time loop, a layer its forward."""
    if isinstance(model, RecurrentCell):
        time_major = x.transpose(0, 1) if batch_first else x  # (T, B, F)
        state = state0 or model.init_state(x.shape[1 - batch_first], dtype=x.dtype, device=x.device)
        outputs, _ = run_cell(model, time_major, state)
        return outputs.transpose(0, 1) if batch_first else outputs
    result = model(x) if state0 is None else model(x, state0)
    return result[0] if isinstance(result, tuple) else result


def step_gradient_norms(
    model: nn.Module,
    x: Tensor,
    loss_fn: Callable[[Tensor], Tensor],
    *,
    batch_first: bool | None = None,
    state0: State | None = None,
) -> Tensor:
    """‖∂L/∂h_t‖ for every step t of every cell (layer, direction) from one backward pass.

    ‖∂L/∂h_t‖ = (Σ_b Σ_i (∂L/∂h_{t,b,i})²)^½  (Pascanu et al. 2013), over the whole batch.

    Any rnnkit recurrent model works: a cell, `Recurrent`, `Bidirectional`, `Stacked`, or the
    drop-in `rnnkit.RNN/LSTM/GRU` (any number of layers and directions). The steps are read
    from `rnnkit.analysis.tape.record_steps`; a model in training mode applies its dropout
    (call `model.eval()` for a deterministic picture).

    Shapes:
        x as the model takes it: (T, B, F), or (B, T, F) when batch first; `loss_fn` receives
        the model's outputs in the same layout and returns a scalar.
        Returns (T,) for a cell or a `Recurrent` layer, else (C, T) with one row per cell:
        (L, T) for a one-direction stack, (L·D, T) in (layer, direction) order — torch.nn's
        order of `weight_hh_l{k}[_reverse]` — for a bidirectional one.

    Args:
        model: an rnnkit cell or a module built from rnnkit cells.
        x: the input sequence, all of it real (no padding).
        loss_fn: maps the outputs to the scalar loss L.
        batch_first: layout of x for a cell (default False); a layer uses its own.
        state0: the initial state, passed as the model's second argument (zeros if None).

    Returns:
        The gradient norms, column t − 1 for h_t in time order (a backward direction too).

    Raises:
        ShapeError: x is not 3-D with the model's input features.
        ConfigError: the model holds no rnnkit cell.

    Example:
        >>> from rnnkit.layers import LSTM
        >>> layer = LSTM(3, 4, num_layers=2, bidirectional=True)
        >>> norms = step_gradient_norms(layer, torch.randn(6, 2, 3), lambda y: y[-1].sum())
        >>> norms.shape  # (L·D, T)
        torch.Size([4, 6])
    """
    if not isinstance(model, nn.Module):
        raise ConfigError(f"step_gradient_norms takes an rnnkit model; got {type(model).__name__}")
    if not isinstance(model, RecurrentCell):
        batch_first = bool(getattr(model, "batch_first", False))
    batch_first = bool(batch_first)
    with record_steps(model) as tape:
        features = tape[0].cell.input_size  # the bottom layer's F
        if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[-1] != features:
            layout = "(B, T, F)" if batch_first else "(T, B, F)"
            raise ShapeError(
                f"step_gradient_norms input must be {layout} with F = {features}; got "
                f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}. "
                "Check batch_first and the input size."
            )
        with torch.enable_grad():
            loss = loss_fn(_forward(model, x, state0, batch_first))
            rows = [cell_steps.hiddens_in_time_order() for cell_steps in tape]
            flat = [hidden for row in rows for hidden in row]
            gradients = torch.autograd.grad(loss, flat, allow_unused=True)
    zero = x.new_zeros(())  # ∂L/∂h_t = 0 where L does not depend on h_t
    norms = torch.stack([zero if g is None else torch.linalg.vector_norm(g) for g in gradients])
    if len({len(row) for row in rows}) != 1:
        raise ConfigError(
            f"step_gradient_norms needs every cell to run the same number of steps; got "
            f"{[len(row) for row in rows]}."
        )
    result = norms.view(len(rows), -1)  # (C, T)
    return result[0] if isinstance(model, RecurrentCell | Recurrent) else result


__all__ = ["step_gradient_norms"]

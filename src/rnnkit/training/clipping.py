"""Gradient clipping: rescale the global gradient norm to θ₀, or clamp each entry.

The lecture's pseudocode (Pascanu et al. 2013, Algorithm 1):

    ĝ ← ∂L/∂θ
    if ‖ĝ‖ ≥ θ₀ then ĝ ← (θ₀ / ‖ĝ‖) ĝ

with ‖ĝ‖ the norm of all gradients of the model stacked into one vector (the "global" norm).
Clipping keeps the direction of the step and bounds its length, which stops a single
exploding gradient from throwing the weights far away.

References:
    Pascanu, Mikolov & Bengio 2013, "On the difficulty of training recurrent neural networks",
    https://arxiv.org/abs/1211.5063
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import torch
from torch import Tensor, nn


class ClipResult(NamedTuple):
    """Global gradient norm before and after clipping (equal when nothing was clipped)."""

    norm_before: float
    norm_after: float


def _gradients(parameters: Iterable[nn.Parameter]) -> list[Tensor]:
    return [p.grad for p in parameters if p.grad is not None]


def global_grad_norm(parameters: Iterable[nn.Parameter]) -> float:
    """‖g‖ = √(Σ_p ‖g_p‖²), the 2-norm of all gradients as one vector (nan/inf if any is).

    >>> weight = nn.Parameter(torch.zeros(2)); weight.grad = torch.tensor([3.0, 4.0])
    >>> global_grad_norm([weight])
    5.0
    """
    grads = _gradients(parameters)
    if not grads:
        return 0.0
    norms = torch.stack(
        [torch.linalg.vector_norm(g.detach(), dtype=torch.float64) for g in grads]
    )  # (P,)
    return float(torch.linalg.vector_norm(norms))  # ‖g‖


def clip_grad_norm(parameters: Iterable[nn.Parameter], max_norm: float) -> ClipResult:
    """Rescale all gradients in place so that their global norm is at most θ₀ = `max_norm`.

    g ← θ₀ · g / ‖g‖   if ‖g‖ > θ₀  (Pascanu et al. 2013)

    Unlike `torch.nn.utils.clip_grad_norm_` there is no ε in the denominator, so the norm
    after clipping is θ₀ up to rounding. A nan/inf norm is returned as is and nothing changes.

    Example:
        >>> weight = nn.Parameter(torch.zeros(2)); weight.grad = torch.tensor([3.0, 4.0])
        >>> result = clip_grad_norm([weight], 1.0)
        >>> result.norm_before, round(result.norm_after, 6), weight.grad
        (5.0, 1.0, tensor([0.6000, 0.8000]))
    """
    parameters = list(parameters)
    norm = global_grad_norm(parameters)  # ‖g‖
    if not torch.isfinite(torch.tensor(norm)) or norm <= max_norm:
        return ClipResult(norm, norm)
    scale = max_norm / norm  # θ₀ / ‖g‖
    for grad in _gradients(parameters):
        grad.mul_(scale)  # g ← θ₀ · g / ‖g‖
    return ClipResult(norm, global_grad_norm(parameters))


def clip_grad_value(parameters: Iterable[nn.Parameter], max_value: float) -> None:
    """Clamp every gradient entry in place: g_i ← min(max(g_i, −v), v) with v = `max_value`.

    >>> weight = nn.Parameter(torch.zeros(2)); weight.grad = torch.tensor([3.0, -0.5])
    >>> clip_grad_value([weight], 1.0); weight.grad
    tensor([ 1.0000, -0.5000])
    """
    for grad in _gradients(parameters):
        grad.clamp_(-max_value, max_value)

"""Masked mean squared and mean absolute error for forecasting, averaged over the real steps.

References:
    https://pytorch.org/docs/stable/generated/torch.nn.MSELoss.html
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.errors import ShapeError
from rnnkit.losses.sequence import valid_mask


def _step_mask(
    predictions: Tensor, targets: Tensor, mask: Tensor | None, lengths: Tensor | None
) -> Tensor:
    """(B, T, 1) float weights, 1 on counted steps, checked against the predictions."""
    if tuple(predictions.shape) != tuple(targets.shape) or predictions.ndim not in (2, 3):
        raise ShapeError(
            f"predictions and targets must both be (B, T) or (B, T, F); got "
            f"{tuple(predictions.shape)} and {tuple(targets.shape)}"
        )
    B, T = predictions.shape[:2]
    dummy = torch.zeros(B, T, dtype=torch.int64, device=predictions.device)  # (B, T)
    valid = valid_mask(dummy, mask=mask, lengths=lengths)  # (B, T)
    return valid.unsqueeze(-1).to(predictions.dtype)  # (B, T, 1)


def _masked_mean(errors: Tensor, weights: Tensor) -> Tensor:
    if errors.ndim == 2:
        errors = errors.unsqueeze(-1)  # (B, T, 1)
    count = weights.sum() * errors.shape[-1]  # N · F
    return (errors * weights).sum() / count.clamp(min=1)


def masked_mse(
    predictions: Tensor,
    targets: Tensor,
    *,
    mask: Tensor | None = None,
    lengths: Tensor | None = None,
) -> Tensor:
    """Mean squared error over the valid steps and all features.

    MSE = (1/(N·F)) Σ_{b,t valid} Σ_f (ŷ_{b,t,f} − y_{b,t,f})²

    where ŷ is the prediction, y the target, N the number of valid steps and F the features.

    Shapes:
        predictions, targets (B, T) or (B, T, F); mask (B, T) bool; lengths (B,). Scalar out.

    Example:
        >>> masked_mse(torch.tensor([[1.0, 5.0]]), torch.tensor([[0.0, 0.0]]),
        ...            lengths=torch.tensor([1])).item()
        1.0
    """
    weights = _step_mask(predictions, targets, mask, lengths)
    return _masked_mean((predictions - targets) ** 2, weights)


def masked_mae(
    predictions: Tensor,
    targets: Tensor,
    *,
    mask: Tensor | None = None,
    lengths: Tensor | None = None,
) -> Tensor:
    """Mean absolute error over the valid steps and all features.

    MAE = (1/(N·F)) Σ_{b,t valid} Σ_f |ŷ_{b,t,f} − y_{b,t,f}|

    Shapes:
        predictions, targets (B, T) or (B, T, F); mask (B, T) bool; lengths (B,). Scalar out.

    Example:
        >>> masked_mae(torch.tensor([[1.0, -3.0]]), torch.tensor([[0.0, 0.0]])).item()
        2.0
    """
    weights = _step_mask(predictions, targets, mask, lengths)
    return _masked_mean((predictions - targets).abs(), weights)

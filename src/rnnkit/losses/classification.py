"""Losses of many-to-one classifiers: binary cross-entropy (spam, sentiment), C-way cross-entropy.

Both work on logits, never on probabilities, so log σ(z) is computed without overflow.

References:
    https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.losses.sequence import sequence_cross_entropy


def binary_cross_entropy(
    logits: Tensor,
    targets: Tensor,
    *,
    mask: Tensor | None = None,
    pos_weight: float | Tensor | None = None,
    label_smoothing: float = 0.0,
) -> Tensor:
    """Mean binary cross-entropy over the N counted entries, from logits.

    L = −(1/N) Σ_i [p·y_i log σ(z_i) + (1 − y_i) log(1 − σ(z_i))]
      = (1/N) Σ_i [p·y_i softplus(−z_i) + (1 − y_i) softplus(z_i)]   since log σ(z) = −softplus(−z)
    y_i ← (1 − ε)·y_i + ε/2                                            label smoothing

    where z_i is a logit, y_i ∈ [0, 1] its target, p the weight of positives (1 by default) and
    ε the label smoothing.

    Shapes:
        logits (…) float; targets (…) same shape, 0/1 or probabilities; mask (…) bool. Scalar out.

    Example:
        >>> round(binary_cross_entropy(torch.zeros(3), torch.tensor([1.0, 0.0, 1.0])).item(), 4)
        0.6931
    """
    if tuple(targets.shape) != tuple(logits.shape):
        raise ShapeError(
            f"targets must have the shape of the logits {tuple(logits.shape)}; "
            f"got {tuple(targets.shape)}"
        )
    if not 0.0 <= label_smoothing < 1.0:
        raise ConfigError(f"label_smoothing must be in [0, 1); got {label_smoothing}")
    if logits.dtype in (torch.float16, torch.bfloat16):  # mixed precision: the loss in fp32
        logits = logits.float()
    targets = targets.to(logits.dtype)
    targets = (1.0 - label_smoothing) * targets + label_smoothing / 2.0  # smoothed y_i
    weight = 1.0 if pos_weight is None else pos_weight
    per_entry = weight * targets * F.softplus(-logits) + (1.0 - targets) * F.softplus(logits)
    if mask is None:
        return per_entry.mean()
    if tuple(mask.shape) != tuple(logits.shape):
        raise ShapeError(
            f"mask must have the shape of the logits {tuple(logits.shape)}; got {tuple(mask.shape)}"
        )
    mask = mask.to(torch.bool)
    return (per_entry * mask).sum() / mask.sum().clamp(min=1)


def cross_entropy(
    logits: Tensor, targets: Tensor, *, label_smoothing: float = 0.0, ignore_index: int = -100
) -> Tensor:
    """Mean C-way cross-entropy of one label per sequence, L = −(1/B) Σ_b log softmax(z_b)[c_b].

    The same loss as `sequence_cross_entropy` with one step per sequence.

    Shapes:
        logits (B, C) float; targets (B,) int64. Scalar out.

    Example:
        >>> round(cross_entropy(torch.zeros(2, 3), torch.tensor([0, 2])).item(), 4)  # log 3
        1.0986
    """
    if logits.ndim != 2 or tuple(targets.shape) != (logits.shape[0],):
        raise ShapeError(
            f"cross_entropy expects logits (B, C) and targets (B,); got {tuple(logits.shape)} "
            f"and {tuple(targets.shape)}"
        )
    return sequence_cross_entropy(
        logits.unsqueeze(1),  # (B, 1, C)
        targets.unsqueeze(1),  # (B, 1)
        label_smoothing=label_smoothing,
        ignore_index=ignore_index,
    )

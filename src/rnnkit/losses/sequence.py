"""Per-token cross-entropy of a sequence model, averaged over the valid (unpadded) steps.

The lecture's sequence loss is the mean negative log-probability of the correct label at each
step, L = −(1/T) Σ_t log y_t[l_t]; with padding, T becomes the number of real steps. Perplexity
and bits per character are two read-outs of the same mean.

References:
    https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html
    Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer Vision" (§7,
    label smoothing), https://arxiv.org/abs/1512.00567
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.errors import ConfigError, ShapeError

Reduction = Literal["mean", "sum", "none"]


def valid_mask(
    targets: Tensor,
    *,
    mask: Tensor | None = None,
    lengths: Tensor | None = None,
    ignore_index: int = -100,
) -> Tensor:
    """The steps that count: mask ∧ (t < length) ∧ (target ≠ ignore_index).

    Shapes:
        targets (B, T) int64; mask (B, T) bool, True on real steps; lengths (B,) int64.
        Returns (B, T) bool.
    """
    if targets.ndim != 2:
        raise ShapeError(f"targets must be (B, T); got {tuple(targets.shape)}")
    B, T = targets.shape
    valid = targets != ignore_index  # (B, T)
    if mask is not None:
        if tuple(mask.shape) != (B, T):
            raise ShapeError(f"mask must be (B, T) = {(B, T)} as targets; got {tuple(mask.shape)}")
        valid = valid & mask.to(torch.bool)
    if lengths is not None:
        if tuple(lengths.shape) != (B,):
            raise ShapeError(f"lengths must be (B,) = ({B},); got {tuple(lengths.shape)}")
        steps = torch.arange(T, device=targets.device)  # (T,)
        valid = valid & (steps.unsqueeze(0) < lengths.to(targets.device).unsqueeze(1))  # (B, T)
    return valid


def _check(logits: Tensor, targets: Tensor, label_smoothing: float) -> None:
    if logits.ndim != 3:
        raise ShapeError(f"logits must be (B, T, V); got {tuple(logits.shape)}")
    if tuple(targets.shape) != tuple(logits.shape[:2]):
        raise ShapeError(
            f"targets must be (B, T) = {tuple(logits.shape[:2])} like the logits; "
            f"got {tuple(targets.shape)}"
        )
    if targets.dtype not in (torch.int64, torch.int32):
        raise ShapeError(f"targets must hold integer class ids; got dtype {targets.dtype}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ConfigError(f"label_smoothing must be in [0, 1); got {label_smoothing}")


def sequence_cross_entropy(
    logits: Tensor,
    targets: Tensor,
    *,
    mask: Tensor | None = None,
    lengths: Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
) -> Tensor:
    """Cross-entropy per step, averaged over the N valid steps of the batch.

    y_t = softmax(z_t)                                 output distribution at step t
    L = −(1/N) Σ_{b,t valid} log y_{b,t}[l_{b,t}]      (lecture: −(1/T) Σ_t log y_t[l_t])
    q = (1 − ε)·onehot(l) + ε/V                        smoothed target  (Szegedy et al. 2016)
    L_ε = −(1/N) Σ_{b,t valid} Σ_v q_v log y_{b,t}[v]

    where z_t are the logits, l_t the correct label, V the vocabulary size, ε the label
    smoothing and N the number of valid steps (see `valid_mask`). With N = 0 the mean is 0.

    Shapes:
        logits (B, T, V) float; targets (B, T) int64; mask (B, T) bool; lengths (B,) int64.
        Returns a scalar for "mean"/"sum", (B, T) with zeros on invalid steps for "none".

    Args:
        logits: unnormalised scores z.
        targets: correct labels l; `ignore_index` marks steps that do not count.
        mask: True on real steps.
        lengths: number of real steps of each sequence.
        ignore_index: target value of padded steps.
        label_smoothing: ε in [0, 1).
        reduction: "mean" over valid steps, "sum", or "none" (per step).

    Example:
        >>> logits = torch.zeros(1, 2, 4)  # uniform over V = 4
        >>> targets = torch.tensor([[1, -100]])
        >>> round(sequence_cross_entropy(logits, targets).item(), 4)  # log 4
        1.3863
    """
    _check(logits, targets, label_smoothing)
    valid = valid_mask(targets, mask=mask, lengths=lengths, ignore_index=ignore_index)  # (B, T)
    labels = torch.where(valid, targets, torch.zeros_like(targets))  # (B, T), 0 on ignored steps
    V = logits.shape[-1]
    if valid.any() and (labels.min() < 0 or labels.max() >= V):
        raise ShapeError(
            f"target ids must lie in [0, {V}) or equal ignore_index={ignore_index}; got range "
            f"[{int(labels.min())}, {int(labels.max())}]. Check the vocabulary size."
        )
    if logits.dtype in (torch.float16, torch.bfloat16):  # mixed precision: softmax in fp32
        logits = logits.float()
    log_probs = F.log_softmax(logits, dim=-1)  # log y_t, (B, T, V)
    nll = -log_probs.gather(-1, labels.unsqueeze(-1)).squeeze(-1)  # −log y_t[l_t], (B, T)
    if label_smoothing > 0.0:
        uniform = -log_probs.mean(dim=-1)  # −(1/V) Σ_v log y_t[v], (B, T)
        nll = (1.0 - label_smoothing) * nll + label_smoothing * uniform  # −Σ_v q_v log y_t[v]
    nll = nll * valid  # (B, T), zero on invalid steps
    if reduction == "none":
        return nll
    total = nll.sum()
    if reduction == "sum":
        return total
    return total / valid.sum().clamp(min=1)  # L = total / N


def perplexity(mean_nll: float) -> float:
    """PPL = exp(L) for a mean negative log-likelihood L in nats.

    >>> round(perplexity(math.log(4.0)), 6)
    4.0
    >>> perplexity(1000.0)  # past float64's range: inf, as torch gives, not OverflowError
    inf
    """
    return math.exp(mean_nll) if mean_nll < 709.0 else float("inf")


def bits_per_char(mean_nll: float) -> float:
    """BPC = L / ln 2: the mean negative log-likelihood in bits instead of nats.

    >>> bits_per_char(math.log(2.0))
    1.0
    """
    return mean_nll / math.log(2.0)

"""Frame-level negative log-likelihood of binary frames (piano rolls), in nats per frame.

Each pitch of a frame is an independent Bernoulli given the past, so the log-likelihood of a
frame is a sum of P binary log-likelihoods, and a sequence's is the sum over its frames:

    log p(x_t | x_{<t}) = Σ_p [x_{t,p} log σ(a_{t,p}) + (1 − x_{t,p}) log(1 − σ(a_{t,p}))]
    L = −(1/N) Σ_{b,t valid} log p(x_t | x_{<t})         mean over the N valid frames

where a_{t,p} is the logit of pitch p at frame t. L is the "log-likelihood per time step" of
Boulanger-Lewandowski et al. (2012, Table 1) with the sign turned: nats per frame, summed over
the pitches, not averaged (a coin flip per key scores P·log 2 = 61.00 nats for P = 88).

References:
    Boulanger-Lewandowski, Bengio & Vincent. Modeling Temporal Dependencies in
        High-Dimensional Sequences: Application to Polyphonic Music Generation and
        Transcription. ICML 2012.
    https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.errors import ShapeError


def frame_log_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """−log p(x_t | x_{<t}) of every frame: the binary cross-entropy summed over pitches.

    Shapes: logits, targets (B, T, P) -> (B, T).

    >>> round(frame_log_loss(torch.zeros(1, 1, 88), torch.ones(1, 1, 88)).item(), 2)  # 88 log 2
    61.0
    """
    if logits.ndim != 3 or logits.shape != targets.shape:
        raise ShapeError(f"logits and targets must both be (B, T, P); got {tuple(logits.shape)} "
                         f"and {tuple(targets.shape)}")  # fmt: skip
    per_pitch = F.binary_cross_entropy_with_logits(
        logits, targets.to(logits.dtype), reduction="none"
    )  # (B, T, P)
    return per_pitch.sum(dim=-1)  # (B, T)


def frame_nll(logits: Tensor, targets: Tensor, mask: Tensor | None = None) -> Tensor:
    """L, the mean negative log-likelihood per valid frame (nats), as a scalar.

    Shapes: logits, targets (B, T, P); mask (B, T) bool, True on real frames.
    """
    per_frame = frame_log_loss(logits, targets)  # (B, T)
    if mask is None:
        return per_frame.mean()
    if tuple(mask.shape) != tuple(per_frame.shape):
        raise ShapeError(f"mask must be (B, T) = {tuple(per_frame.shape)}; got "
                         f"{tuple(mask.shape)}")  # fmt: skip
    valid = mask.to(torch.bool)
    return per_frame[valid].sum() / valid.sum().clamp(min=1)


__all__ = ["frame_log_loss", "frame_nll"]

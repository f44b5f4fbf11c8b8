"""Evaluation metrics on label tensors: accuracy, precision/recall/F1, and a weighted mean.

Entity-level F1 for BIO tagging (seqeval) and BLEU (sacrebleu) belong to their tasks; the
metrics here count per-position labels, e.g. the class of a many-to-one classifier.

References:
    van Rijsbergen 1979, "Information Retrieval", ch. 7 (the F measure)
    https://scikit-learn.org/stable/modules/model_evaluation.html#precision-recall-f-measure-metrics
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from rnnkit.errors import ShapeError


def _selected(predictions: Tensor, targets: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    if predictions.shape != targets.shape:
        raise ShapeError(
            f"predictions and targets must have one shape; got {tuple(predictions.shape)} "
            f"and {tuple(targets.shape)}. Take argmax of the logits first."
        )
    if mask is None:
        return predictions.reshape(-1), targets.reshape(-1)
    if mask.shape != targets.shape:
        raise ShapeError(f"mask must be {tuple(targets.shape)}; got {tuple(mask.shape)}")
    mask = mask.to(torch.bool)
    return predictions[mask], targets[mask]


def accuracy(predictions: Tensor, targets: Tensor, *, mask: Tensor | None = None) -> float:
    """Fraction of counted positions where the predicted label equals the target.

    acc = (1/N) Σ_i [ŷ_i = y_i]

    Shapes:
        predictions, targets (…) int; mask (…) bool, True on counted positions.

    >>> accuracy(torch.tensor([1, 0, 2, 2]), torch.tensor([1, 1, 2, 0]))
    0.5
    """
    predicted, target = _selected(predictions, targets, mask)
    if target.numel() == 0:
        return 0.0
    return float((predicted == target).double().mean())


def f1_score(
    predictions: Tensor,
    targets: Tensor,
    *,
    average: Literal["binary", "macro", "micro"] = "macro",
    num_classes: int | None = None,
    positive: int = 1,
    mask: Tensor | None = None,
) -> float:
    """F1, the harmonic mean of precision and recall, per class then averaged.

    P_c = TP_c / (TP_c + FP_c),  R_c = TP_c / (TP_c + FN_c)
    F1_c = 2·P_c·R_c / (P_c + R_c) = 2·TP_c / (2·TP_c + FP_c + FN_c)   (0 when undefined)
    "binary": F1 of class `positive`; "macro": mean of F1_c over the C classes;
    "micro": F1 of the pooled counts (equals accuracy for single-label data).

    Shapes:
        predictions, targets (…) int in [0, C); mask (…) bool.

    >>> round(f1_score(torch.tensor([1, 1, 0, 0]), torch.tensor([1, 0, 0, 1]), average="binary"), 4)
    0.5
    """
    predicted, target = _selected(predictions, targets, mask)
    if num_classes is None:
        both = torch.cat([predicted.reshape(-1), target.reshape(-1)])  # (2N,)
        num_classes = int(both.max()) + 1 if both.numel() else 1
    C = num_classes
    classes = torch.arange(C, device=target.device)  # (C,)
    predicted_is = predicted.unsqueeze(0) == classes.unsqueeze(1)  # (C, N)
    target_is = target.unsqueeze(0) == classes.unsqueeze(1)  # (C, N)
    true_pos = (predicted_is & target_is).sum(1).double()  # TP_c, (C,)
    false_pos = (predicted_is & ~target_is).sum(1).double()  # FP_c
    false_neg = (~predicted_is & target_is).sum(1).double()  # FN_c
    if average == "micro":
        true_pos, false_pos, false_neg = true_pos.sum(), false_pos.sum(), false_neg.sum()
    denominator = 2 * true_pos + false_pos + false_neg
    f1 = torch.where(denominator > 0, 2 * true_pos / denominator.clamp(min=1), 0.0)  # F1_c
    if average == "binary":
        return float(f1[positive])
    return float(f1.mean())


class WeightedMean:
    """A running mean Σ w_i x_i / Σ w_i, e.g. a loss weighted by the tokens of each batch.

    >>> mean = WeightedMean(); mean.add(2.0, 1); mean.add(5.0, 2); mean.value
    4.0
    """

    def __init__(self) -> None:
        self.total = 0.0
        self.weight = 0.0

    def add(self, value: float, weight: float = 1.0) -> None:
        """Add `value` with weight `weight`."""
        self.total += value * weight
        self.weight += weight

    @property
    def value(self) -> float:
        """The mean so far (0 before the first value)."""
        return self.total / self.weight if self.weight else 0.0

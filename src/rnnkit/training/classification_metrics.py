"""Metrics of a C-class classifier: confusion matrix, accuracy, precision/recall/F1, ROC-AUC.

With the confusion matrix M (C, C), M[i, j] = #{n : y_n = i, ŷ_n = j} (rows true, columns
predicted, as scikit-learn), for class c:

    TP_c = M[c, c]     FP_c = Σ_i M[i, c] − TP_c     FN_c = Σ_j M[c, j] − TP_c
    P_c = TP_c / (TP_c + FP_c)     R_c = TP_c / (TP_c + FN_c)     (0 when the denominator is 0)
    F1_c = 2·P_c·R_c / (P_c + R_c)  (van Rijsbergen 1979)     (0 when P_c + R_c = 0)
    macro average = (1/C) Σ_c (·)_c       accuracy = Σ_c M[c, c] / Σ M

ROC-AUC of a binary scorer is the probability that a random positive scores above a random
negative (ties count ½), computed from ranks (Mann-Whitney U; Hanley & McNeil 1982):

    AUC = (Σ_{n positive} rank_n − n₊(n₊ + 1)/2) / (n₊ · n₋)

where rank_n is the 1-based rank of score s_n among all N scores, tied scores sharing the mean
of their ranks.

References:
    van Rijsbergen 1979, "Information Retrieval", ch. 7 (the F measure)
    Hanley & McNeil 1982, "The meaning and use of the area under a receiver operating
    characteristic (ROC) curve", Radiology 143(1)
    https://scikit-learn.org/stable/modules/model_evaluation.html (the same zero_division=0 rules)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit.errors import DataError, ShapeError
from rnnkit.represent.word2vec.evaluation import average_ranks  # ties share their mean rank


def _check_labels(predictions: Tensor, targets: Tensor, num_classes: int) -> None:
    if predictions.shape != targets.shape or predictions.ndim != 1:
        raise ShapeError(
            f"predictions and targets must both be (N,); got {tuple(predictions.shape)} and "
            f"{tuple(targets.shape)}. Take argmax of the logits first."
        )
    for name, labels in (("predictions", predictions), ("targets", targets)):
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
            raise ShapeError(
                f"{name} must be class ids in [0, {num_classes}); got range "
                f"[{int(labels.min())}, {int(labels.max())}]"
            )


def confusion_matrix(predictions: Tensor, targets: Tensor, num_classes: int) -> Tensor:
    """M (C, C) int64 with M[i, j] = #{n : y_n = i, ŷ_n = j}: rows true class, columns predicted.

    Shapes:
        predictions, targets (N,) int class ids in [0, C).

    >>> confusion_matrix(torch.tensor([0, 1, 1, 1]), torch.tensor([0, 0, 1, 1]), 2).tolist()
    [[1, 1], [0, 2]]
    """
    _check_labels(predictions, targets, num_classes)
    cells = targets.long() * num_classes + predictions.long()  # i·C + j, (N,)
    counts = torch.bincount(cells.cpu(), minlength=num_classes * num_classes)  # (C·C,)
    return counts.reshape(num_classes, num_classes)  # M


def per_class_scores(confusion: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Precision P_c, recall R_c and F1_c of every class from M; each (C,) float64.

    >>> precision, recall, f1 = per_class_scores(torch.tensor([[1, 1], [0, 2]]))
    >>> precision.tolist(), recall.tolist(), [round(v, 4) for v in f1.tolist()]
    ([1.0, 0.6666666666666666], [0.5, 1.0], [0.6667, 0.8])
    """
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ShapeError(f"a confusion matrix is (C, C); got {tuple(confusion.shape)}")
    counts = confusion.double()
    true_pos = counts.diagonal()  # TP_c
    predicted = counts.sum(0)  # TP_c + FP_c
    actual = counts.sum(1)  # TP_c + FN_c
    precision = torch.where(predicted > 0, true_pos / predicted.clamp(min=1), 0.0)  # P_c
    recall = torch.where(actual > 0, true_pos / actual.clamp(min=1), 0.0)  # R_c
    total = precision + recall
    f1 = torch.where(total > 0, 2 * precision * recall / total.clamp(min=1e-300), 0.0)  # F1_c
    return precision, recall, f1


def roc_auc(scores: Tensor, targets: Tensor) -> float:
    """Area under the ROC curve of binary `scores` (higher = class 1) by the rank formula.

    Shapes:
        scores (N,) float; targets (N,) 0/1.

    Raises:
        DataError: targets hold only one class (the AUC is undefined).

    >>> roc_auc(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1]))
    0.75
    """
    if scores.ndim != 1 or scores.shape != targets.shape:
        raise ShapeError(
            f"scores and targets must both be (N,); got {tuple(scores.shape)} and "
            f"{tuple(targets.shape)}"
        )
    positive = targets.cpu() == 1
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())  # n₊, n₋
    if n_pos == 0 or n_neg == 0:
        raise DataError(
            f"ROC-AUC needs both classes among the targets; got {n_pos} positives and "
            f"{n_neg} negatives"
        )
    ranks = average_ranks(scores.detach().cpu().double())  # rank_n
    u = float(ranks[positive].sum()) - n_pos * (n_pos + 1) / 2  # Mann-Whitney U
    return u / (n_pos * n_neg)  # AUC


@dataclass(frozen=True)
class ClassificationScores:
    """Everything measured on one evaluation set; `as_dict` names the entries for metrics.jsonl."""

    confusion: Tensor  # M (C, C) int64
    precision: Tensor  # P_c (C,)
    recall: Tensor  # R_c (C,)
    f1: Tensor  # F1_c (C,)
    auc: float | None  # binary only (None for C > 2 or a single class present)

    @property
    def accuracy(self) -> float:
        """Σ_c M[c, c] / Σ M."""
        total = int(self.confusion.sum())
        return float(self.confusion.diagonal().sum()) / total if total else 0.0

    def as_dict(self, class_names: Sequence[str]) -> dict[str, float]:
        """accuracy, macro P/R/F1, per-class P/R/F1, auc, and the counts as cm_<i>_<j>."""
        row: dict[str, float] = {
            "accuracy": self.accuracy,
            "precision_macro": float(self.precision.mean()),
            "recall_macro": float(self.recall.mean()),
            "f1_macro": float(self.f1.mean()),
        }
        for c, name in enumerate(class_names):
            row[f"precision_{name}"] = float(self.precision[c])
            row[f"recall_{name}"] = float(self.recall[c])
            row[f"f1_{name}"] = float(self.f1[c])
        if self.auc is not None:
            row["auc"] = self.auc
        C = self.confusion.shape[0]
        for i in range(C):
            for j in range(C):
                row[f"cm_{i}_{j}"] = float(self.confusion[i, j])
        return row


def classification_scores(
    predictions: Tensor, targets: Tensor, num_classes: int, *, scores: Tensor | None = None
) -> ClassificationScores:
    """All metrics of predicted class ids; `scores` (N,) of class 1 add the binary ROC-AUC.

    >>> result = classification_scores(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]), 2)
    >>> round(result.accuracy, 4), round(float(result.f1.mean()), 4)
    (0.6667, 0.6667)
    """
    confusion = confusion_matrix(predictions, targets, num_classes)
    precision, recall, f1 = per_class_scores(confusion)
    auc = None
    if scores is not None and num_classes == 2 and 0 < int(targets.sum()) < targets.numel():
        auc = roc_auc(scores, targets)
    return ClassificationScores(confusion, precision, recall, f1, auc)


def confusion_from_row(row: dict[str, float]) -> Tensor:
    """M (C, C) rebuilt from the cm_<i>_<j> (or val_cm_<i>_<j>) entries of a metrics row."""
    cells = {}
    for key, value in row.items():
        name = key.removeprefix("val_")
        if name.startswith("cm_"):
            i, j = (int(part) for part in name[3:].split("_"))
            cells[i, j] = int(value)
    if not cells:
        raise DataError("the metrics row holds no confusion-matrix entries (cm_<i>_<j>)")
    C = max(max(i, j) for i, j in cells) + 1
    confusion = torch.zeros(C, C, dtype=torch.int64)
    for (i, j), value in cells.items():
        confusion[i, j] = value
    return confusion

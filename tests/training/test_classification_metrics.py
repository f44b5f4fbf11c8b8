"""Classification metrics against scikit-learn's definitions on fixed examples (compared live)."""

from __future__ import annotations

import pytest
import torch
from sklearn import metrics as sk

from rnnkit.errors import DataError, ShapeError
from rnnkit.training.classification_metrics import (
    average_ranks,
    classification_scores,
    confusion_from_row,
    confusion_matrix,
    per_class_scores,
    roc_auc,
)

# three classes; class 2 is never predicted, so its precision is 0/0 (scikit-learn: 0)
TARGETS = torch.tensor([0, 1, 2, 2, 1, 0, 0, 1, 2, 1, 1, 0])
PREDICTIONS = torch.tensor([0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0])


def test_confusion_matrix_and_per_class_scores_match_sklearn() -> None:
    confusion = confusion_matrix(PREDICTIONS, TARGETS, 3)
    assert (
        confusion.tolist() == sk.confusion_matrix(TARGETS, PREDICTIONS, labels=[0, 1, 2]).tolist()
    )
    precision, recall, f1 = per_class_scores(confusion)
    expected = sk.precision_recall_fscore_support(
        TARGETS, PREDICTIONS, labels=[0, 1, 2], zero_division=0
    )
    for ours, theirs in zip((precision, recall, f1), expected[:3], strict=True):
        assert ours.tolist() == pytest.approx(theirs.tolist(), abs=1e-12)
    assert precision[2] == 0.0


def test_macro_scores_and_accuracy_match_sklearn() -> None:
    scores = classification_scores(PREDICTIONS, TARGETS, 3)
    row = scores.as_dict(["a", "b", "c"])
    assert row["accuracy"] == pytest.approx(sk.accuracy_score(TARGETS, PREDICTIONS))
    for name in ("precision", "recall", "f1"):
        function = {"precision": sk.precision_score, "recall": sk.recall_score, "f1": sk.f1_score}
        expected = function[name](TARGETS, PREDICTIONS, average="macro", zero_division=0)
        assert row[f"{name}_macro"] == pytest.approx(expected, abs=1e-12)
    assert row["f1_c"] == 0.0
    assert "auc" not in row  # three classes
    assert torch.equal(
        confusion_from_row({f"val_{k}": v for k, v in row.items()}), scores.confusion
    )


@pytest.mark.parametrize(
    ("scores", "targets"),
    [
        ([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]),
        ([0.5, 0.5, 0.5, 0.2, 0.9, 0.5], [1, 0, 1, 0, 1, 0]),  # ties across classes
        ([0.9, 0.8, 0.7, 0.1], [0, 0, 0, 1]),  # perfectly wrong
        ([3.0, -1.0, 2.0, 2.0, 0.0, 7.0, 2.0], [1, 0, 0, 1, 0, 1, 1]),
    ],
)
def test_roc_auc_matches_sklearn(scores: list[float], targets: list[int]) -> None:
    ours = roc_auc(torch.tensor(scores), torch.tensor(targets))
    assert ours == pytest.approx(sk.roc_auc_score(targets, scores), abs=1e-12)


def test_binary_scores_add_auc_from_class_one_scores() -> None:
    targets = torch.tensor([0, 0, 1, 1, 1])
    probability = torch.tensor([0.2, 0.6, 0.55, 0.9, 0.4])
    result = classification_scores((probability >= 0.5).long(), targets, 2, scores=probability)
    assert result.auc == pytest.approx(sk.roc_auc_score(targets, probability))
    assert result.as_dict(["ham", "spam"])["f1_spam"] == pytest.approx(
        sk.f1_score(targets, (probability >= 0.5).long())
    )


def test_average_ranks_share_ties() -> None:
    assert average_ranks(torch.tensor([2.0, 2.0, 2.0, 1.0])).tolist() == [3.0, 3.0, 3.0, 1.0]


def test_errors() -> None:
    with pytest.raises(DataError, match="both classes"):
        roc_auc(torch.tensor([0.1, 0.2]), torch.tensor([1, 1]))
    with pytest.raises(ShapeError, match="class ids in"):
        confusion_matrix(torch.tensor([0, 3]), torch.tensor([0, 1]), 2)
    with pytest.raises(ShapeError, match="argmax"):
        confusion_matrix(torch.zeros(2, 2, dtype=torch.long), torch.tensor([0, 1]), 2)
    with pytest.raises(DataError, match="no confusion"):
        confusion_from_row({"accuracy": 1.0})

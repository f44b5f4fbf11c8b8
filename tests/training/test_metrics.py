"""Accuracy, F1 and the weighted mean, against hand-counted examples."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ShapeError
from rnnkit.training import WeightedMean, accuracy, f1_score


def test_accuracy_with_and_without_mask() -> None:
    predicted = torch.tensor([[1, 2, 0], [0, 0, 1]])
    target = torch.tensor([[1, 1, 0], [0, 2, 2]])
    assert accuracy(predicted, target) == pytest.approx(3 / 6)
    mask = torch.tensor([[True, False, True], [True, False, False]])
    assert accuracy(predicted, target, mask=mask) == 1.0
    assert accuracy(predicted[:0], target[:0]) == 0.0


def test_f1_binary_macro_micro_by_hand() -> None:
    predicted = torch.tensor([1, 1, 1, 0, 0, 2])
    target = torch.tensor([1, 0, 1, 1, 0, 1])
    # class 1: TP 2, FP 1, FN 2 -> F1 = 4/7; class 0: TP 1, FP 1, FN 1 -> 1/2; class 2: 0
    assert f1_score(predicted, target, average="binary") == pytest.approx(4 / 7)
    assert f1_score(predicted, target, average="macro") == pytest.approx((4 / 7 + 1 / 2 + 0) / 3)
    assert f1_score(predicted, target, average="micro") == pytest.approx(
        accuracy(predicted, target)
    )
    assert f1_score(predicted, target, num_classes=4) == pytest.approx((4 / 7 + 1 / 2) / 4)


def test_shapes_must_agree() -> None:
    with pytest.raises(ShapeError, match="argmax"):
        accuracy(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long))


def test_weighted_mean() -> None:
    mean = WeightedMean()
    assert mean.value == 0.0
    mean.add(1.0, 3)
    mean.add(3.0, 1)
    assert mean.value == pytest.approx(1.5)

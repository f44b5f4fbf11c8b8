"""Masked MSE and MAE over the valid steps of a forecast."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnnkit.errors import ShapeError
from rnnkit.losses import masked_mae, masked_mse


def test_mse_and_mae_by_hand_with_lengths() -> None:
    predictions = torch.tensor([[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [9.0, 9.0]]])  # (2, 2, 2)
    targets = torch.zeros(2, 2, 2)
    lengths = torch.tensor([2, 1])  # the last step of the second sequence is padding
    assert float(masked_mse(predictions, targets, lengths=lengths)) == pytest.approx(30 / 6)
    assert float(masked_mae(predictions, targets, lengths=lengths)) == pytest.approx(10 / 6)


def test_unmasked_equals_torch_and_mask_equals_lengths() -> None:
    predictions, targets = torch.randn(3, 5, 2), torch.randn(3, 5, 2)
    assert float(masked_mse(predictions, targets)) == pytest.approx(
        float(F.mse_loss(predictions, targets))
    )
    assert float(masked_mae(predictions, targets)) == pytest.approx(
        float(F.l1_loss(predictions, targets))
    )
    lengths = torch.tensor([5, 3, 1])
    mask = torch.arange(5).unsqueeze(0) < lengths.unsqueeze(1)
    assert float(masked_mse(predictions, targets, mask=mask)) == pytest.approx(
        float(masked_mse(predictions, targets, lengths=lengths))
    )
    assert float(masked_mse(predictions[..., 0], targets[..., 0], mask=mask)) == pytest.approx(
        float(F.mse_loss(predictions[..., 0][mask], targets[..., 0][mask]))
    )


def test_shape_errors() -> None:
    with pytest.raises(ShapeError, match="got"):
        masked_mse(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ShapeError, match="got"):
        masked_mae(torch.zeros(2), torch.zeros(2))

"""Binary and C-way cross-entropy from logits."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.losses import binary_cross_entropy, cross_entropy


def test_binary_cross_entropy_matches_torch_including_extreme_logits() -> None:
    logits = torch.tensor([-200.0, -3.0, 0.0, 2.5, 150.0], dtype=torch.float64)
    targets = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    expected = F.binary_cross_entropy_with_logits(logits, targets)
    assert float(binary_cross_entropy(logits, targets)) == pytest.approx(float(expected), abs=1e-12)
    assert torch.isfinite(binary_cross_entropy(logits, 1 - targets))  # no log(0)


def test_binary_cross_entropy_by_hand_with_mask_and_pos_weight() -> None:
    logits = torch.tensor([[0.5, -1.0], [2.0, 0.0]], dtype=torch.float64)
    targets = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    mask = torch.tensor([[True, True], [False, True]])
    sigma = torch.sigmoid(logits)
    by_hand = (
        -(3.0 * torch.log(sigma[0, 0]) + torch.log(1 - sigma[0, 1]) + 3.0 * torch.log(sigma[1, 1]))
        / 3
    )
    loss = binary_cross_entropy(logits, targets, mask=mask, pos_weight=3.0)
    assert float(loss) == pytest.approx(float(by_hand), abs=1e-12)
    torch_loss = F.binary_cross_entropy_with_logits(
        logits[mask], targets[mask], pos_weight=torch.tensor(3.0, dtype=torch.float64)
    )
    assert float(loss) == pytest.approx(float(torch_loss), abs=1e-12)


def test_binary_label_smoothing_moves_targets_towards_one_half() -> None:
    logits = torch.tensor([1.0, -2.0], dtype=torch.float64)
    targets = torch.tensor([1.0, 0.0], dtype=torch.float64)
    smoothed = torch.tensor([0.95, 0.05], dtype=torch.float64)
    expected = F.binary_cross_entropy_with_logits(logits, smoothed)
    loss = binary_cross_entropy(logits, targets, label_smoothing=0.1)
    assert float(loss) == pytest.approx(float(expected), abs=1e-12)


def test_binary_bad_inputs() -> None:
    with pytest.raises(ShapeError, match="got"):
        binary_cross_entropy(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ShapeError, match="mask"):
        binary_cross_entropy(torch.zeros(3), torch.zeros(3), mask=torch.ones(2, dtype=torch.bool))
    with pytest.raises(ConfigError):
        binary_cross_entropy(torch.zeros(3), torch.zeros(3), label_smoothing=-0.1)


def test_cross_entropy_matches_torch() -> None:
    logits = torch.randn(6, 4, dtype=torch.float64)
    targets = torch.tensor([0, 3, 1, 1, -100, 2])
    expected = F.cross_entropy(logits, targets, label_smoothing=0.1)
    loss = cross_entropy(logits, targets, label_smoothing=0.1)
    assert float(loss) == pytest.approx(float(expected), abs=1e-12)
    with pytest.raises(ShapeError, match=r"\(B, C\)"):
        cross_entropy(logits, targets[:3])

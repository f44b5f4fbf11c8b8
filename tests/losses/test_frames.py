"""Frame-level NLL against the Bernoulli log-likelihood written out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit.errors import ShapeError
from rnnkit.losses.frames import frame_log_loss, frame_nll


def test_frame_log_loss_is_the_bernoulli_sum_by_hand() -> None:
    logits = torch.tensor([[[0.0, 2.0, -1.0], [1.0, -3.0, 0.5]]])  # (1, 2, 3)
    targets = torch.tensor([[[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]])

    def sigmoid(a: float) -> float:
        return 1 / (1 + math.exp(-a))

    def log_p(a: float, x: float) -> float:  # log σ(a) if x = 1, log(1 − σ(a)) if x = 0
        return math.log(sigmoid(a)) if x else math.log(1 - sigmoid(a))

    rows = zip(logits[0].tolist(), targets[0].tolist(), strict=True)
    by_hand = [-sum(log_p(a, x) for a, x in zip(row, xs, strict=True)) for row, xs in rows]
    assert frame_log_loss(logits, targets)[0].tolist() == pytest.approx(by_hand, rel=1e-6)
    assert float(frame_nll(logits, targets)) == pytest.approx(sum(by_hand) / 2, rel=1e-6)


def test_masked_frames_do_not_count() -> None:
    logits, targets = torch.randn(2, 4, 5), torch.randint(0, 2, (2, 4, 5)).float()
    mask = torch.tensor([[True, True, True, False], [True, False, False, False]])
    per_frame = frame_log_loss(logits, targets)
    expected = (per_frame[0, :3].sum() + per_frame[1, 0]) / 4
    assert float(frame_nll(logits, targets, mask)) == pytest.approx(float(expected), rel=1e-6)


def test_coin_flips_score_88_log_2_nats() -> None:
    targets = torch.randint(0, 2, (3, 7, 88)).float()
    assert float(frame_nll(torch.zeros(3, 7, 88), targets)) == pytest.approx(61.0, abs=0.005)


def test_shapes_are_checked() -> None:
    with pytest.raises(ShapeError, match="got"):
        frame_log_loss(torch.zeros(2, 3, 4), torch.zeros(2, 3, 5))
    with pytest.raises(ShapeError, match="mask must be"):
        frame_nll(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4), torch.ones(3, 2, dtype=torch.bool))

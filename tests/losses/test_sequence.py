"""Masked sequence cross-entropy: the lecture's −(1/T) Σ log y_t[l_t] over valid steps."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.losses import bits_per_char, perplexity, sequence_cross_entropy, valid_mask


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    logits = torch.randn(3, 5, 7, dtype=torch.float64)  # (B, T, V)
    targets = torch.randint(7, (3, 5))  # (B, T)
    lengths = torch.tensor([5, 2, 4])
    return logits, targets, lengths


def test_equals_the_lecture_formula_over_valid_steps() -> None:
    logits, targets, lengths = _batch()
    loss = sequence_cross_entropy(logits, targets, lengths=lengths)
    terms = []
    for b in range(3):
        for t in range(int(lengths[b])):
            y_t = torch.softmax(logits[b, t], dim=-1)
            terms.append(-math.log(float(y_t[targets[b, t]])))
    assert float(loss) == pytest.approx(sum(terms) / len(terms), abs=1e-12)


def test_lengths_mask_and_ignore_index_agree_with_torch() -> None:
    logits, targets, lengths = _batch()
    mask = torch.arange(5).unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
    padded = targets.masked_fill(~mask, -100)
    expected = F.cross_entropy(logits.reshape(-1, 7), padded.reshape(-1), ignore_index=-100)
    for loss in (
        sequence_cross_entropy(logits, targets, lengths=lengths),
        sequence_cross_entropy(logits, targets, mask=mask),
        sequence_cross_entropy(logits, padded),
    ):
        assert float(loss) == pytest.approx(float(expected), abs=1e-12)


def test_label_smoothing_matches_torch() -> None:
    logits, targets, _ = _batch()
    padded = targets.clone()
    padded[1, 2:] = -100
    expected = F.cross_entropy(
        logits.reshape(-1, 7), padded.reshape(-1), ignore_index=-100, label_smoothing=0.2
    )
    loss = sequence_cross_entropy(logits, padded, label_smoothing=0.2)
    assert float(loss) == pytest.approx(float(expected), abs=1e-12)


def test_reductions_and_empty_batch() -> None:
    logits, targets, lengths = _batch()
    per_step = sequence_cross_entropy(logits, targets, lengths=lengths, reduction="none")
    assert per_step.shape == (3, 5)
    assert float(per_step[1, 2:].abs().sum()) == 0.0  # padded steps contribute nothing
    total = sequence_cross_entropy(logits, targets, lengths=lengths, reduction="sum")
    assert float(total) == pytest.approx(float(per_step.sum()))
    nothing = sequence_cross_entropy(logits, torch.full_like(targets, -100))
    assert float(nothing) == 0.0


def test_gradient_flows_only_through_valid_steps() -> None:
    logits, targets, lengths = _batch()
    logits.requires_grad_(True)
    sequence_cross_entropy(logits, targets, lengths=lengths).backward()
    assert float(logits.grad[1, 2:].abs().sum()) == 0.0
    assert float(logits.grad[1, :2].abs().sum()) > 0.0


def test_bad_inputs_raise_with_what_was_received() -> None:
    logits, targets, _ = _batch()
    with pytest.raises(ShapeError, match=r"logits must be \(B, T, V\); got \(3, 5\)"):
        sequence_cross_entropy(logits[..., 0], targets)
    with pytest.raises(ShapeError, match="got"):
        sequence_cross_entropy(logits, targets[:, :4])
    with pytest.raises(ShapeError, match="dtype"):
        sequence_cross_entropy(logits, targets.double())
    with pytest.raises(ShapeError, match=r"\[0, 7\)"):
        sequence_cross_entropy(logits, targets + 7)
    with pytest.raises(ShapeError, match="lengths"):
        sequence_cross_entropy(logits, targets, lengths=torch.tensor([1, 2]))
    with pytest.raises(ConfigError, match="label_smoothing"):
        sequence_cross_entropy(logits, targets, label_smoothing=1.0)


def test_valid_mask_combines_all_three() -> None:
    targets = torch.tensor([[1, -100, 2, 3]])
    mask = torch.tensor([[True, True, False, True]])
    valid = valid_mask(targets, mask=mask, lengths=torch.tensor([3]))
    assert valid.tolist() == [[True, False, False, False]]


def test_perplexity_and_bits_per_char() -> None:
    assert perplexity(math.log(50.0)) == pytest.approx(50.0)
    assert bits_per_char(math.log(8.0)) == pytest.approx(3.0)
    uniform = sequence_cross_entropy(torch.zeros(2, 3, 16), torch.zeros(2, 3, dtype=torch.long))
    assert perplexity(float(uniform)) == pytest.approx(16.0, rel=1e-6)  # V for a uniform model


def test_half_precision_logits_give_a_float32_loss() -> None:
    logits, targets, _ = _batch()
    loss = sequence_cross_entropy(logits.to(torch.bfloat16), targets)
    assert loss.dtype == torch.float32
    assert float(loss) == pytest.approx(float(sequence_cross_entropy(logits, targets)), rel=2e-2)

"""Global-norm clipping g ← θ₀·g/‖g‖ when ‖g‖ > θ₀, and value clipping."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rnnkit.training import clip_grad_norm, clip_grad_value, global_grad_norm


def _params(*grads: list[float]) -> list[nn.Parameter]:
    params = []
    for grad in grads:
        param = nn.Parameter(torch.zeros(len(grad), dtype=torch.float64))
        param.grad = torch.tensor(grad, dtype=torch.float64)
        params.append(param)
    return params


def test_global_norm_spans_all_parameters() -> None:
    params = _params([1.0, 2.0], [2.0], [4.0])
    assert global_grad_norm(params) == pytest.approx(5.0)  # √(1 + 4 + 4 + 16)
    params.append(nn.Parameter(torch.zeros(3)))  # no grad: ignored
    assert global_grad_norm(params) == pytest.approx(5.0)


def test_clipping_rescales_to_theta_exactly_as_the_pseudocode() -> None:
    params = _params([3.0, 0.0], [0.0, 4.0])  # ‖g‖ = 5
    result = clip_grad_norm(params, 2.0)
    assert result.norm_before == pytest.approx(5.0)
    assert result.norm_after == pytest.approx(2.0, abs=1e-12)
    assert params[0].grad.tolist() == pytest.approx([3.0 * 2.0 / 5.0, 0.0], abs=1e-15)
    assert params[1].grad.tolist() == pytest.approx([0.0, 4.0 * 2.0 / 5.0], abs=1e-15)


def test_no_change_at_or_below_the_threshold() -> None:
    params = _params([3.0, 4.0])
    result = clip_grad_norm(params, 5.0)
    assert result == (pytest.approx(5.0), pytest.approx(5.0))
    assert params[0].grad.tolist() == [3.0, 4.0]


def test_agrees_with_torch_clip_grad_norm() -> None:
    ours = _params(torch.randn(10).tolist(), torch.randn(7).tolist())
    theirs = [nn.Parameter(p.detach().clone()) for p in ours]
    for mine, other in zip(ours, theirs, strict=True):
        other.grad = mine.grad.clone()
    before = clip_grad_norm(ours, 0.5).norm_before
    torch_before = torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    assert before == pytest.approx(float(torch_before))
    for mine, other in zip(ours, theirs, strict=True):
        torch.testing.assert_close(mine.grad, other.grad, rtol=1e-5, atol=1e-7)


def test_nonfinite_norm_is_reported_and_nothing_changes() -> None:
    params = _params([math.inf, 1.0])
    result = clip_grad_norm(params, 1.0)
    assert math.isinf(result.norm_before)
    assert params[0].grad[1] == 1.0


def test_value_clipping_clamps_each_entry() -> None:
    params = _params([3.0, -0.5, -7.0])
    clip_grad_value(params, 1.0)
    assert params[0].grad.tolist() == [1.0, -0.5, -1.0]

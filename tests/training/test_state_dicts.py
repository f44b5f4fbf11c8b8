"""Loading checkpoint weights into a model: names, shapes, and weights that are not finite."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

from rnnkit.errors import CheckpointError
from rnnkit.training.state_dicts import load_model_tensors, nonfinite_parameters


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))


def test_weights_load_when_names_and_shapes_match() -> None:
    source, target = _model(), nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
    load_model_tensors(target, source.state_dict(), source=Path("ckpt"))
    for a, b in zip(source.parameters(), target.parameters(), strict=True):
        assert torch.equal(a, b)


def test_missing_and_mis_shaped_weights_are_named() -> None:
    weights = _model().state_dict()
    weights.pop("2.bias")
    weights["0.weight"] = torch.zeros(5, 3)
    with pytest.raises(CheckpointError, match=r"ckpt does not match.*missing \['2.bias'\]"):
        load_model_tensors(_model(), weights, source=Path("ckpt"))


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_weights_holding_nan_or_inf_are_refused(value: float) -> None:
    """Regression (numerics campaign): `rnnkit generate` sampled from a model with nan weights."""
    weights = _model().state_dict()
    weights["2.weight"] = weights["2.weight"].clone()
    weights["2.weight"][0, 1] = value
    with pytest.raises(CheckpointError, match=r"ckpt: the parameters 2.weight hold nan or inf"):
        load_model_tensors(_model(), weights, source=Path("ckpt"))


def test_buffers_may_hold_inf() -> None:
    model = _model()
    model.register_buffer("mask", torch.tensor([0.0, -math.inf]))  # e.g. a CRF's forbidden moves
    assert nonfinite_parameters(model) == []
    target = _model()
    target.register_buffer("mask", torch.zeros(2))
    load_model_tensors(target, model.state_dict(), source=Path("ckpt"))
    assert target.mask[1] == -math.inf

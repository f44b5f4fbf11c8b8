"""The adding and temporal-order problems: markers in their windows, targets from them."""

from __future__ import annotations

import pytest
import torch

from rnnkit.datasets.long_range import (
    SYMBOLS,
    adding_problem,
    input_size,
    make_batch,
    temporal_order_problem,
)
from rnnkit.errors import ConfigError

T = 60


def test_adding_markers_and_targets() -> None:
    batch = adding_problem(500, T, torch.Generator().manual_seed(1))
    values, markers = batch.inputs[..., 0], batch.inputs[..., 1]
    assert torch.equal(markers.sum(1), torch.full((500,), 2.0))
    positions = markers.nonzero()[:, 1].view(500, 2)  # (t₁, t₂) per row, sorted
    assert positions[:, 0].max() < T // 10
    assert positions[:, 1].min() >= T // 10
    assert positions[:, 1].max() < T // 2
    rows = torch.arange(500)
    expected = values[rows, positions[:, 0]] + values[rows, positions[:, 1]]
    torch.testing.assert_close(batch.targets, expected)
    assert 0.9 < float(batch.targets.mean()) < 1.1  # E[v₁ + v₂] = 1
    assert 0.12 < float(batch.targets.var()) < 0.21  # Var = 1/6


def test_temporal_order_keys_and_classes() -> None:
    batch = temporal_order_problem(400, T, torch.Generator().manual_seed(2))
    symbols = batch.inputs.argmax(-1)  # (B, T)
    assert torch.equal(batch.inputs.sum(-1), torch.ones(400, T))  # one-hot
    keys = symbols >= 4  # X or Y
    assert torch.equal(keys.sum(1), torch.full((400,), 2))
    positions = keys.nonzero()[:, 1].view(400, 2)
    assert positions[:, 0].min() >= T // 10
    assert positions[:, 0].max() < 2 * T // 10
    assert positions[:, 1].min() >= T // 2
    assert positions[:, 1].max() < 6 * T // 10
    rows = torch.arange(400)
    first = symbols[rows, positions[:, 0]] - 4
    second = symbols[rows, positions[:, 1]] - 4
    assert torch.equal(batch.targets, 2 * first + second)
    assert set(batch.targets.tolist()) == {0, 1, 2, 3}


def test_same_seed_same_batch_and_sizes() -> None:
    first = make_batch("adding", 4, 30, torch.Generator().manual_seed(5))
    second = make_batch("adding", 4, 30, torch.Generator().manual_seed(5))
    assert torch.equal(first.inputs, second.inputs)
    assert input_size("adding") == 2
    assert input_size("temporal_order") == len(SYMBOLS)


def test_bad_arguments() -> None:
    generator = torch.Generator()
    with pytest.raises(ConfigError, match="T ≥ 20"):
        adding_problem(4, 10, generator)
    with pytest.raises(ConfigError, match="batch_size"):
        temporal_order_problem(0, 50, generator)
    with pytest.raises(ConfigError, match="problem must be one of"):
        make_batch("copy", 4, 50, generator)

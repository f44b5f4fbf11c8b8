"""The parity and addition tasks of Graves 2016, checked element by element in plain Python."""

from __future__ import annotations

import pytest
import torch

from rnnkit.datasets.act_tasks import (
    END_OF_NUMBER,
    NO_TARGET,
    addition_batch,
    digits_of,
    parity_batch,
    sum_digits,
)
from rnnkit.errors import ConfigError


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_parity_definition() -> None:
    batch = parity_batch(500, generator())
    assert batch.inputs.shape == (500, 64)
    counts = []
    for vector, target in zip(batch.inputs.tolist(), batch.targets.tolist(), strict=True):
        assert set(vector) <= {-1.0, 0.0, 1.0}
        nonzero = sum(value != 0 for value in vector)
        assert 1 <= nonzero <= 64
        counts.append(nonzero)
        assert target == sum(value == 1.0 for value in vector) % 2  # parity of the ones
    assert min(counts) < 10  # k spans 1 … 64
    assert max(counts) > 54
    positions = (batch.inputs != 0).float().mean(dim=0)
    assert positions.min() > 0.3  # random positions, not a prefix: every slot is used
    assert 0.4 < batch.targets.mean() < 0.6


def test_parity_is_seeded() -> None:
    first, second = parity_batch(8, generator(3)), parity_batch(8, generator(3))
    assert torch.equal(first.inputs, second.inputs)
    assert not torch.equal(first.inputs, parity_batch(8, generator(4)).inputs)


def decode_number(vector: list[float]) -> tuple[int, int]:
    """(value, number of digits) of one addition input vector, from its one-hot blocks."""
    value, digits = 0, 0
    for block in range(len(vector) // 10):
        code = vector[10 * block : 10 * block + 10]
        if sum(code) == 0:
            assert all(sum(vector[10 * b : 10 * b + 10]) == 0 for b in range(block, 5))
            break
        assert sum(code) == 1.0
        value, digits = 10 * value + code.index(1.0), digits + 1
    return value, digits


def test_addition_definition() -> None:
    batch = addition_batch(300, generator())
    assert batch.inputs.shape == (300, 5, 50)
    assert batch.targets.shape == (300, 5, 6)
    seen_lengths, seen_digits = set(), set()
    for b in range(300):
        length = int(batch.lengths[b])
        seen_lengths.add(length)
        running = 0
        for t in range(5):
            vector = batch.inputs[b, t].tolist()
            if t >= length:  # padding: no input, no target
                assert sum(vector) == 0
                assert batch.targets[b, t].tolist() == [NO_TARGET] * 6
                continue
            value, digits = decode_number(vector)
            seen_digits.add(digits)
            running += value
            assert int(batch.sums[b, t]) == running
            if t == 0:  # no target at the first step
                assert batch.targets[b, t].tolist() == [NO_TARGET] * 6
                continue
            text = str(running)
            expected = [int(c) for c in text] + [END_OF_NUMBER] * (6 - len(text))
            assert batch.targets[b, t].tolist() == expected
    assert seen_lengths == {1, 2, 3, 4, 5}
    assert seen_digits == {1, 2, 3, 4, 5}
    assert batch.mask.tolist() == [
        [1 <= t < int(length) for t in range(5)] for length in batch.lengths
    ]


def test_addition_options_and_digits() -> None:
    batch = addition_batch(50, generator(1), max_digits=2, max_length=3, min_length=3)
    assert batch.inputs.shape == (50, 3, 20)
    assert batch.targets.shape == (50, 3, sum_digits(2, 3))  # 3 · 99 = 297: 3 digits
    assert batch.lengths.tolist() == [3] * 50
    assert sum_digits() == 6  # 5 · 99999 = 499995
    assert digits_of(torch.tensor([0, 9, 10, 499995]), 6).tolist() == [
        [0, 10, 10, 10, 10, 10],
        [9, 10, 10, 10, 10, 10],
        [1, 0, 10, 10, 10, 10],
        [4, 9, 9, 9, 9, 5],
    ]


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="batch_size"):
        parity_batch(0, generator())
    with pytest.raises(ConfigError, match="size"):
        parity_batch(2, generator(), size=0)
    with pytest.raises(ConfigError, match="min_length"):
        addition_batch(2, generator(), min_length=6)
    with pytest.raises(ConfigError, match="max_digits"):
        addition_batch(2, generator(), max_digits=True)

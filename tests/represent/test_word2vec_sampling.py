"""word2vec sampling: subsampling probabilities, the noise distribution, dynamic windows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnkit.represent.word2vec.sampling import (
    AliasSampler,
    keep_probabilities,
    noise_distribution,
    subsample,
    window_bounds,
    window_contexts,
)


def test_keep_probabilities_follow_gensims_formula() -> None:
    counts = np.array([50_000, 5_000, 300, 20, 1])
    t, total = 1e-3, counts.sum()
    keep = keep_probabilities(counts, t)
    for count, p in zip(counts, keep, strict=True):
        expected = (math.sqrt(count / (t * total)) + 1) * (t * total) / count
        assert p == pytest.approx(min(1.0, expected), rel=1e-12)
    assert keep[0] < keep[1] < keep[2] < keep[3] == keep[4] == 1.0
    assert keep_probabilities(counts, 0.0).tolist() == [1.0] * 5


def test_subsample_keeps_each_word_at_its_rate() -> None:
    ids = torch.arange(3).repeat(40_000)  # (120000,)
    keep = torch.tensor([0.1, 0.5, 1.0], dtype=torch.float64)
    kept, positions = subsample(ids, keep, torch.Generator().manual_seed(0))
    assert torch.equal(ids[positions], kept)
    rates = torch.bincount(kept, minlength=3) / 40_000
    assert torch.allclose(rates, keep.float(), atol=0.01)  # 4 σ at p = 0.5 is 0.01
    assert rates[2] == 1.0


def test_alias_tables_encode_the_unigram_power_distribution_exactly() -> None:
    counts = np.random.default_rng(0).integers(1, 10_000, size=500)
    target = noise_distribution(counts, 0.75)
    assert np.allclose(target, counts**0.75 / (counts**0.75).sum(), rtol=1e-14, atol=0)
    sampler = AliasSampler(target)
    assert np.allclose(sampler.implied_probabilities(), target, rtol=1e-9, atol=1e-15)


def test_alias_draws_match_the_distribution() -> None:
    counts = np.array([1000, 100, 10, 1, 0])
    target = noise_distribution(counts, 0.75)
    draws = AliasSampler(target).sample((400_000,), torch.Generator().manual_seed(1))
    frequencies = np.bincount(draws.numpy(), minlength=5) / 400_000
    sigma = np.sqrt(target * (1 - target) / 400_000)
    assert np.all(np.abs(frequencies - target) <= 5 * sigma + 1e-12)
    assert frequencies[4] == 0.0  # a word of count 0 is never drawn


def test_window_contexts_respect_reach_and_segments() -> None:
    ids = torch.arange(100, 160)  # word id = 100 + position
    segment = torch.repeat_interleave(torch.arange(3), torch.tensor([25, 5, 30]))
    groups = window_contexts(ids, segment, 4, torch.Generator().manual_seed(2))
    assert len(groups) == 4
    seen = torch.cat([positions for positions, _, _ in groups])
    assert torch.equal(seen.sort().values, torch.arange(60))  # every position exactly once
    for b, (positions, contexts, mask) in enumerate(groups, start=1):
        assert contexts.shape == mask.shape == (positions.numel(), 2 * b)
        offsets = torch.cat([torch.arange(-b, 0), torch.arange(1, b + 1)])
        where = positions.unsqueeze(1) + offsets
        inside = (where >= 0) & (where < 60)
        same = inside & (segment[where.clamp(0, 59)] == segment[positions].unsqueeze(1))
        assert torch.equal(mask, same)
        assert torch.equal(contexts[mask], (where + 100)[mask])


def test_window_reach_is_uniform() -> None:
    ids = torch.zeros(50_000, dtype=torch.long)
    groups = window_contexts(ids, torch.zeros(50_000), 5, torch.Generator().manual_seed(3))
    sizes = torch.tensor([positions.numel() for positions, _, _ in groups]) / 50_000
    assert torch.allclose(sizes, torch.full((5,), 0.2), atol=0.01)


def test_window_bounds_stay_inside_the_segment_and_the_reach() -> None:
    segment = torch.repeat_interleave(torch.arange(4), torch.tensor([3, 10, 1, 6]))
    left, right = window_bounds(segment, 3, torch.Generator().manual_seed(4))
    position = torch.arange(20)
    assert torch.all(segment[left] == segment)
    assert torch.all(segment[right] == segment)
    assert torch.all((left <= position) & (position <= right))
    reach_left, reach_right = position - left, right - position
    assert reach_left.max() <= 3
    assert reach_right.max() <= 3
    assert left[13] == right[13] == 13  # a segment of one word has no context

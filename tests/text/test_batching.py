"""Padding, masks, length buckets and TBPTT chunks of token ids."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.text.batching import (
    BucketBatchSampler,
    lengths_to_mask,
    pad_sequences,
    stream_to_batches,
    tbptt_chunks,
)


def test_pad_sequences_right_pads_and_returns_lengths() -> None:
    ids, lengths = pad_sequences(
        [torch.tensor([4, 5]), torch.tensor([6, 7, 8]), torch.tensor([9])], 0
    )
    assert ids.tolist() == [[4, 5, 0], [6, 7, 8], [9, 0, 0]]
    assert lengths.tolist() == [2, 3, 1]
    assert ids.dtype == lengths.dtype == torch.int64


def test_mask_marks_real_steps_and_agrees_with_padding() -> None:
    ids, lengths = pad_sequences([torch.tensor([4, 5]), torch.tensor([6, 7, 8])], pad_id=0)
    mask = lengths_to_mask(lengths)
    assert mask.dtype == torch.bool
    assert mask.tolist() == [[True, True, False], [True, True, True]]
    assert torch.equal(ids == 0, ~mask)
    assert lengths_to_mask(lengths, 5).shape == (2, 5)


def test_padding_errors() -> None:
    with pytest.raises(DataError, match="at least one sequence"):
        pad_sequences([], 0)
    with pytest.raises(
        ShapeError, match=r"sequence 1 must be a 1-D integer tensor, got shape \(2, 2\)"
    ):
        pad_sequences([torch.tensor([1]), torch.zeros(2, 2, dtype=torch.int64)], 0)
    with pytest.raises(ShapeError, match="float32"):
        pad_sequences([torch.tensor([1.0])], 0)
    with pytest.raises(ShapeError, match="shorter than the longest length 3"):
        lengths_to_mask(torch.tensor([3, 1]), 2)
    with pytest.raises(ShapeError, match="≥ 0"):
        lengths_to_mask(torch.tensor([-1]))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=60), st.integers(1, 8), st.booleans())
def test_bucket_sampler_covers_every_index_once(
    lengths: list[int], batch_size: int, shuffle: bool
) -> None:
    generator = torch.Generator().manual_seed(0)
    sampler = BucketBatchSampler(
        lengths, batch_size, shuffle=shuffle, generator=generator, pool_batches=2
    )
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    assert all(len(batch) <= batch_size for batch in batches)


def test_bucket_sampler_groups_similar_lengths_and_is_reproducible() -> None:
    lengths = torch.randint(1, 100, (200,)).tolist()

    def spread(seed: int) -> tuple[list[list[int]], float]:
        sampler = BucketBatchSampler(lengths, 10, generator=torch.Generator().manual_seed(seed))
        batches = list(sampler)
        widths = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches]
        return batches, sum(widths) / len(widths)

    batches, mean_width = spread(7)
    assert batches == spread(7)[0]
    assert batches != spread(8)[0]
    assert mean_width < 15  # random batches of 10 from U{1..99} span ~80 on average


def test_bucket_sampler_drop_last_and_bad_settings() -> None:
    sampler = BucketBatchSampler([1, 2, 3, 4, 5], 2, shuffle=False, drop_last=True)
    assert list(sampler) == [[0, 1], [2, 3]]
    assert len(sampler) == 2
    with pytest.raises(ConfigError, match="batch_size must be a positive integer, got 0"):
        BucketBatchSampler([1], 0)
    with pytest.raises(DataError, match="non-empty"):
        BucketBatchSampler([], 2)


def test_stream_to_batches_keeps_rows_contiguous() -> None:
    streams = stream_to_batches(torch.arange(10), 3)
    assert streams.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def test_tbptt_chunks_shift_targets_by_one_and_cover_the_stream() -> None:
    streams = stream_to_batches(torch.arange(22), 2)  # (2, 11)
    chunks = list(tbptt_chunks(streams, 4))
    assert [x.shape[1] for x, _ in chunks] == [4, 4, 2]
    for inputs, targets in chunks:
        assert torch.equal(targets, inputs + 1)  # arange: the next id is id + 1
    assert torch.equal(torch.cat([x for x, _ in chunks], 1), streams[:, :-1])
    assert [x.shape[1] for x, _ in tbptt_chunks(streams, 4, drop_last=True)] == [4, 4]


def test_too_short_streams_are_clear_data_errors() -> None:
    with pytest.raises(DataError, match=r"too short for batch_size=4.*≥ 8 ids"):
        stream_to_batches(torch.arange(7), 4)
    with pytest.raises(DataError, match="no full chunk of seq_len=5"):
        tbptt_chunks(torch.zeros(2, 3, dtype=torch.int64), 5, drop_last=True)
    with pytest.raises(ShapeError, match="2-D integer tensor"):
        tbptt_chunks(torch.arange(5), 2)
    with pytest.raises(ConfigError, match="seq_len"):
        tbptt_chunks(torch.zeros(2, 3, dtype=torch.int64), 0)

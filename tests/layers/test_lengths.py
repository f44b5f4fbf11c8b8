"""Lengths: checks, masks, length-aware flip, last step, sorting, PackedSequence interop."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from rnnkit.errors import ShapeError
from rnnkit.layers.lengths import (
    check_lengths,
    flip_sequences,
    last_valid,
    lengths_mask,
    pack,
    pack_like,
    sort_by_length,
    unpack_sequence,
)


@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        (torch.tensor([0, 3]), r"\[1, 4\].*got \[0, 3\]"),
        (torch.tensor([-2, 3]), r"got \[-2, 3\]"),
        (torch.tensor([5, 3]), r"\[1, 4\].*got \[5, 3\]"),
        (torch.tensor([[3, 3]]), r"\(B,\) = \(2,\).*got \(1, 2\)"),
        (torch.tensor([3, 3, 3]), r"got \(3,\)"),
        (torch.tensor([3.0, 2.0]), r"integer tensor.*float"),
        (torch.tensor([True, True]), r"got \(2,\) torch.bool"),
        ("3, 3", r"integer tensor.*str"),
    ],
)
def test_bad_lengths_raise_shape_error(lengths: object, message: str) -> None:
    with pytest.raises(ShapeError, match=message):
        check_lengths(lengths, batch_size=2, steps=4)


def test_enforce_sorted() -> None:
    assert check_lengths([4, 4, 2], batch_size=3, steps=4, enforce_sorted=True).tolist() == [
        4,
        4,
        2,
    ]
    with pytest.raises(ShapeError, match="sorted longest first"):
        check_lengths([2, 4], batch_size=2, steps=4, enforce_sorted=True)
    with pytest.raises(ShapeError, match="sorted longest first"):
        pack(torch.zeros(4, 2, 1), [2, 4])


def test_flip_sequences_reverses_within_each_prefix() -> None:
    x = torch.arange(12.0).reshape(3, 4, 1)  # (B, T, F)
    lengths = torch.tensor([4, 1, 3])
    flipped = flip_sequences(x, lengths)
    for b, length in enumerate(lengths.tolist()):
        assert torch.equal(flipped[b, :length], x[b, :length].flip(0))
        assert torch.equal(flipped[b, length:], x[b, length:])
    assert torch.equal(flip_sequences(flipped, lengths), x)
    time_major = flip_sequences(x.transpose(0, 1), lengths, time_dim=0)
    assert torch.equal(time_major, flipped.transpose(0, 1))
    assert torch.equal(flip_sequences(x, None), x.flip(1))


def test_mask_last_valid_and_sorting() -> None:
    lengths = torch.tensor([2, 3, 1])
    assert lengths_mask(lengths, 3).sum(1).tolist() == [2, 3, 1]
    x = torch.arange(9.0).reshape(3, 3)  # (B, T)
    assert last_valid(x, lengths).tolist() == [1.0, 5.0, 6.0]
    assert last_valid(x.t(), lengths, time_dim=0).tolist() == [1.0, 5.0, 6.0]
    sorted_lengths, order, inverse = sort_by_length(torch.tensor([2, 3, 2, 1]))
    assert sorted_lengths.tolist() == [3, 2, 2, 1]
    assert order.tolist() == [1, 0, 2, 3]  # ties keep the batch order
    assert order[inverse].tolist() == [0, 1, 2, 3]


def test_pack_like_reproduces_torch_packing() -> None:
    x = torch.randn(5, 4, 2)  # (T, B, F)
    lengths = torch.tensor([3, 5, 1, 5])
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    padded, unpacked_lengths = unpack_sequence(packed)
    assert torch.equal(unpacked_lengths, lengths)
    assert torch.equal(padded[:, 1], x[:, 1])
    again = pack_like(padded, packed)
    assert torch.equal(again.data, packed.data)
    assert torch.equal(again.batch_sizes, packed.batch_sizes)
    assert torch.equal(again.unsorted_indices, packed.unsorted_indices)
    assert torch.equal(pack(x, lengths, enforce_sorted=False).data, packed.data)

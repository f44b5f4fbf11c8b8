"""BatchSource: seeded order, epochs, sharding over processes, saved and restored position."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import DataError
from rnnkit.training import BatchSource


def test_each_epoch_is_a_permutation_and_epochs_differ() -> None:
    source = BatchSource(torch.arange(12), batch_size=4, seed=3)
    epochs = [torch.cat([source.next_batch() for _ in range(3)]) for _ in range(2)]
    assert source.epoch == 2
    for order in epochs:
        assert sorted(order.tolist()) == list(range(12))
    assert epochs[0].tolist() != epochs[1].tolist()


def test_same_seed_same_order_different_seed_different_order() -> None:
    def order(seed: int) -> list[int]:
        source = BatchSource(torch.arange(20), batch_size=5, seed=seed)
        return torch.cat([source.next_batch() for _ in range(8)]).tolist()

    assert order(1) == order(1)
    assert order(1) != order(2)


def test_restored_position_continues_exactly() -> None:
    data = (torch.arange(30), torch.arange(30) * 10)
    source = BatchSource(data, batch_size=4, seed=5, drop_last=False)
    for _ in range(9):  # into the second epoch (8 batches per epoch)
        source.next_batch()
    saved = source.state_dict()
    expected = [source.next_batch() for _ in range(12)]
    restored = BatchSource(data, batch_size=4, seed=999, drop_last=False)
    restored.load_state_dict(saved)
    for want, got in zip(expected, [restored.next_batch() for _ in range(12)], strict=True):
        assert torch.equal(want[0], got[0])
        assert torch.equal(want[1], got[1])


def test_shards_of_two_processes_make_the_single_process_batch() -> None:
    data = torch.arange(40)
    single = BatchSource(data, batch_size=8, seed=7)
    shards = [BatchSource(data, batch_size=4, seed=7, rank=r, world_size=2) for r in range(2)]
    for _ in range(10):
        combined = torch.cat([shard.next_batch() for shard in shards])
        assert sorted(combined.tolist()) == sorted(single.next_batch().tolist())


def test_sequence_dataset_uses_collate_and_iteration_keeps_position() -> None:
    examples = [{"x": torch.tensor([i, i]), "y": i} for i in range(5)]
    source = BatchSource(examples, batch_size=2, shuffle=False, drop_last=False)
    batch = source.next_batch()
    assert batch["x"].shape == (2, 2)
    assert batch["y"].tolist() == [0, 1]
    assert [b["y"].tolist() for b in source] == [[0, 1], [2, 3], [4]]
    assert source.next_batch()["y"].tolist() == [2, 3]


def test_errors_name_the_problem() -> None:
    with pytest.raises(DataError, match="no batch of 8"):
        BatchSource(torch.arange(5), batch_size=8)
    with pytest.raises(DataError, match="share their first dim"):
        BatchSource((torch.arange(5), torch.arange(6)), batch_size=2)
    source = BatchSource(torch.arange(10), batch_size=2)
    with pytest.raises(DataError, match="batch_size=2"):
        BatchSource(torch.arange(10), batch_size=5).load_state_dict(source.state_dict())

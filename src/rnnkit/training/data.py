"""A resumable source of training batches: seeded order, sharding over processes, saved position.

Each epoch draws a permutation of the examples from the source's own `torch.Generator`; the
position (epoch, batches taken, generator state at the start of the epoch) goes into every
checkpoint, so a resumed run sees exactly the batches the interrupted one would have seen.
With several processes, every process draws the same permutation and takes every W-th example
from position `rank`, as `torch.utils.data.DistributedSampler` does, so the union of the W
per-process batches of a step is the batch of W·b examples a single process would take.

References:
    https://pytorch.org/docs/stable/data.html#torch.utils.data.distributed.DistributedSampler
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor
from torch.utils.data import default_collate

from rnnkit.errors import DataError
from rnnkit.seeding import make_generator

Dataset = Tensor | tuple[Tensor, ...] | Sequence[Any]


class BatchSource:
    """Batches of `batch_size` examples of `dataset`, in a seeded order, resumable.

    Args:
        dataset: a tensor (N, …), a tuple of tensors sharing N, or any sequence of examples.
        batch_size: b, examples per batch and process.
        collate: joins a list of examples into a batch (torch's `default_collate` by default);
            unused for tensor datasets, which are indexed directly.
        shuffle: draw a new permutation each epoch; False keeps the dataset order.
        drop_last: drop the last, smaller batch of an epoch.
        seed: seed of the generator that orders the examples.
        rank, world_size: this process and the number of processes; read from
            `torch.distributed` when it is initialised, else 0 and 1.

    Example:
        >>> source = BatchSource(torch.arange(10), batch_size=4, shuffle=False)
        >>> source.next_batch(), source.next_batch(), source.epoch
        (tensor([0, 1, 2, 3]), tensor([4, 5, 6, 7]), 1)
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        *,
        collate: Callable[[list[Any]], Any] | None = None,
        shuffle: bool = True,
        drop_last: bool = True,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        distributed = dist.is_available() and dist.is_initialized()
        self.rank = rank if rank is not None else (dist.get_rank() if distributed else 0)
        self.world_size = world_size or (dist.get_world_size() if distributed else 1)
        self.dataset, self.batch_size = dataset, batch_size
        self.collate = collate or default_collate
        self.shuffle, self.drop_last = shuffle, drop_last
        self.num_examples = _length(dataset)
        per_process = self.num_examples // self.world_size
        self.batches_per_epoch = (
            per_process // batch_size if drop_last else -(-per_process // batch_size)
        )
        if batch_size < 1 or self.batches_per_epoch == 0:
            raise DataError(
                f"{self.num_examples} examples make no batch of {batch_size} for each of "
                f"{self.world_size} process(es); use a smaller batch size or more data"
            )
        self.generator = make_generator(seed)
        self.epoch, self.index = 0, 0
        self._start_epoch(self.generator.get_state())

    def _start_epoch(self, generator_state: Tensor) -> None:
        """Draw this epoch's order from the generator state saved at its start."""
        self._epoch_generator_state = generator_state.clone()
        self.generator.set_state(generator_state)
        if self.shuffle:
            order = torch.randperm(self.num_examples, generator=self.generator)  # (N,)
        else:
            order = torch.arange(self.num_examples)  # (N,)
        usable = self.num_examples - self.num_examples % self.world_size
        self._order = order[:usable][self.rank :: self.world_size]  # this process's shard

    def next_batch(self) -> Any:
        """The next batch; after the last batch of an epoch the next epoch begins."""
        start = self.index * self.batch_size
        indices = self._order[start : start + self.batch_size]  # (b,)
        self.index += 1
        if self.index >= self.batches_per_epoch:
            self.epoch, self.index = self.epoch + 1, 0
            self._start_epoch(self.generator.get_state())
        return self._gather(indices)

    def _gather(self, indices: Tensor) -> Any:
        if isinstance(self.dataset, Tensor):
            return self.dataset[indices]
        if isinstance(self.dataset, tuple) and all(isinstance(t, Tensor) for t in self.dataset):
            return tuple(t[indices] for t in self.dataset)
        return self.collate([self.dataset[int(i)] for i in indices])

    def __iter__(self) -> Iterator[Any]:
        """One pass over the whole dataset in order, unsharded, for evaluation; keeps position."""
        for start in range(0, self.num_examples, self.batch_size):
            indices = torch.arange(start, min(start + self.batch_size, self.num_examples))
            if len(indices) == self.batch_size or not self.drop_last:
                yield self._gather(indices)

    def state_dict(self) -> dict[str, Any]:
        """JSON-ready position: epoch, batches taken in it, generator state at its start."""
        return {
            "epoch": self.epoch,
            "index": self.index,
            "generator_state": self._epoch_generator_state.tolist(),
            "num_examples": self.num_examples,
            "batch_size": self.batch_size,
            "world_size": self.world_size,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a position saved by `state_dict`."""
        for key in ("num_examples", "batch_size", "world_size"):
            if state.get(key) != getattr(self, key):
                raise DataError(
                    f"the saved data position has {key}={state.get(key)}, this data has "
                    f"{getattr(self, key)}; resume with the same data, batch size and processes"
                )
        self.epoch, self.index = int(state["epoch"]), int(state["index"])
        self._start_epoch(torch.tensor(state["generator_state"], dtype=torch.uint8))


def _length(dataset: Dataset) -> int:
    if isinstance(dataset, tuple) and dataset and all(isinstance(t, Tensor) for t in dataset):
        sizes = {int(t.shape[0]) for t in dataset}
        if len(sizes) != 1:
            raise DataError(f"the tensors of a dataset must share their first dim; got {sizes}")
        return sizes.pop()
    return len(dataset)

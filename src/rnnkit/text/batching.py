"""Batches of token ids: padding to (B, T) with lengths and masks, length buckets, TBPTT chunks.

Two ways to batch text. Sentences of different lengths are padded to the longest one in the
batch and carry `lengths` (B,) and `mask` (B, T); bucketing batches sentences of similar length
together so little padding is wasted. One long stream (char-rnn) is cut into B parallel rows
and then into chunks of `seq_len` steps whose targets are the inputs shifted by one step, for
truncated back-propagation through time (Williams & Peng 1990).

References:
    R. J. Williams and J. Peng, "An Efficient Gradient-Based Algorithm for On-Line Training of
    Recurrent Network Trajectories", Neural Computation 2(4), 1990.
    A. Karpathy, char-rnn (2015), https://github.com/karpathy/char-rnn
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from rnnkit.errors import ConfigError, DataError, ShapeError


def _check_ids(ids: object, name: str, dim: int) -> Tensor:
    if not isinstance(ids, Tensor):
        raise DataError(f"{name} must be a torch tensor, got {type(ids).__name__}")
    if ids.dim() != dim or ids.dtype.is_floating_point or ids.dtype == torch.bool:
        raise ShapeError(
            f"{name} must be a {dim}-D integer tensor, got shape {tuple(ids.shape)} {ids.dtype}"
        )
    return ids


def _check_positive(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return value


def pad_sequences(sequences: Sequence[Tensor], pad_id: int) -> tuple[Tensor, Tensor]:
    """Stack 1-D id tensors into one right-padded (B, T) batch, T the longest length.

    Shapes: sequences B tensors (T_b,) -> token_ids (B, T) int64, lengths (B,) int64.

    >>> ids, lengths = pad_sequences([torch.tensor([5, 6, 7]), torch.tensor([8])], pad_id=0)
    >>> ids.tolist(), lengths.tolist()
    ([[5, 6, 7], [8, 0, 0]], [3, 1])
    """
    if len(sequences) == 0:
        raise DataError("pad_sequences needs at least one sequence, got an empty list")
    checked = [_check_ids(seq, f"sequence {b}", 1) for b, seq in enumerate(sequences)]
    lengths = torch.tensor([len(seq) for seq in checked], dtype=torch.int64)  # (B,)
    token_ids = torch.full((len(checked), int(lengths.max())), pad_id, dtype=torch.int64)
    for b, seq in enumerate(checked):
        token_ids[b, : len(seq)] = seq  # (B, T)
    return token_ids, lengths


def shift_right(target_out: Tensor, *, bos_id: int, eos_id: int, pad_id: int) -> Tensor:
    """The decoder input of teacher forcing: the targets shifted right behind <bos>.

    target_out = y_1 … y_n <eos> <pad>…  ->  target_in = <bos> y_1 … y_n <pad>…  (<eos> is
    never an input). Shapes: (B, T) -> (B, T).

    >>> shift_right(torch.tensor([[7, 8, 3], [9, 3, 0]]), bos_id=2, eos_id=3, pad_id=0).tolist()
    [[2, 7, 8], [2, 9, 0]]
    """
    bos = torch.full((target_out.shape[0], 1), bos_id, dtype=target_out.dtype)
    target_in = torch.cat([bos, target_out[:, :-1]], dim=1)  # (B, T)
    return target_in.masked_fill(target_in == eos_id, pad_id)


def lengths_to_mask(lengths: Tensor, max_len: int | None = None) -> Tensor:
    """mask[b, t] = t < lengths[b]: True on real steps, False on padding.

    Shapes: lengths (B,) int64 -> mask (B, T) bool, T = max_len or max(lengths).

    >>> lengths_to_mask(torch.tensor([3, 1]), 4).tolist()
    [[True, True, True, False], [True, False, False, False]]
    """
    lengths = _check_ids(lengths, "lengths", 1)
    if len(lengths) and int(lengths.min()) < 0:
        raise ShapeError(f"lengths must be ≥ 0, got {lengths.tolist()}")
    longest = int(lengths.max()) if len(lengths) else 0
    steps = longest if max_len is None else max_len
    if steps < longest:
        raise ShapeError(f"max_len={max_len} is shorter than the longest length {longest}")
    return torch.arange(steps, device=lengths.device) < lengths[:, None]  # (B, T)


class BucketBatchSampler:
    """Batches of indices whose sequences have similar lengths (less padding per batch).

    With shuffle, the indices are permuted with `generator`, cut into pools of
    `batch_size × pool_batches`, each pool is sorted by length and cut into batches, and the
    batch order is permuted again. Without shuffle, all indices are sorted by length (stable).
    Pass it to `torch.utils.data.DataLoader(batch_sampler=...)` or iterate it directly.

    >>> sampler = BucketBatchSampler([5, 1, 4, 2], batch_size=2, shuffle=False)
    >>> list(sampler)
    [[1, 3], [2, 0]]
    """

    def __init__(
        self,
        lengths: Sequence[int] | Tensor,
        batch_size: int,
        *,
        shuffle: bool = True,
        generator: torch.Generator | None = None,
        pool_batches: int = 50,
        drop_last: bool = False,
    ) -> None:
        self.lengths = torch.as_tensor(lengths, dtype=torch.int64)  # (N,)
        if self.lengths.dim() != 1 or len(self.lengths) == 0:
            raise DataError(
                f"lengths must be a non-empty 1-D list, got {tuple(self.lengths.shape)}"
            )
        self.batch_size = _check_positive(batch_size, "batch_size")
        self.pool_batches = _check_positive(pool_batches, "pool_batches")
        self.shuffle = shuffle
        self.generator = generator
        self.drop_last = drop_last

    def __len__(self) -> int:
        full, rest = divmod(len(self.lengths), self.batch_size)
        return full + (rest > 0 and not self.drop_last)

    def __iter__(self) -> Iterator[list[int]]:
        if not self.shuffle:
            order = torch.argsort(self.lengths, stable=True)
            batches = self._cut(order)
        else:
            order = torch.randperm(len(self.lengths), generator=self.generator)
            pool_size = self.batch_size * self.pool_batches
            batches = []
            for start in range(0, len(order), pool_size):
                pool = order[start : start + pool_size]
                pool = pool[torch.argsort(self.lengths[pool], stable=True)]
                batches.extend(self._cut(pool))
            permutation = torch.randperm(len(batches), generator=self.generator).tolist()
            batches = [batches[i] for i in permutation]
        yield from batches

    def _cut(self, order: Tensor) -> list[list[int]]:
        batches = [
            order[i : i + self.batch_size].tolist() for i in range(0, len(order), self.batch_size)
        ]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        return batches


def stream_to_batches(ids: Tensor, batch_size: int) -> Tensor:
    """Cut one id stream into `batch_size` contiguous rows; the tail that does not fit is dropped.

    Row b holds ids[b·N : (b+1)·N] with N = len(ids) // B, so a state carried from chunk to
    chunk of row b reads one continuous text.

    Shapes: ids (N_total,) -> streams (B, N).

    >>> stream_to_batches(torch.arange(7), 2).tolist()
    [[0, 1, 2], [3, 4, 5]]
    """
    ids = _check_ids(ids, "ids", 1)
    _check_positive(batch_size, "batch_size")
    steps = len(ids) // batch_size  # N
    if steps < 2:
        raise DataError(
            f"a stream of {len(ids)} ids is too short for batch_size={batch_size}: each row needs"
            f" ≥ 2 ids (an input and its target), so ≥ {2 * batch_size} ids; use more text or a"
            " smaller batch_size"
        )
    return ids[: batch_size * steps].reshape(batch_size, steps)  # (B, N)


def tbptt_chunks(
    streams: Tensor, seq_len: int, *, drop_last: bool = False
) -> Iterator[tuple[Tensor, Tensor]]:
    """(inputs, targets) chunks of `seq_len` steps over (B, N) streams; targets shift by one.

    inputs = streams[:, i : i+L],  targets = streams[:, i+1 : i+1+L]  for i = 0, L, 2L, …
    The last chunk may be shorter than L unless `drop_last`.

    Shapes: streams (B, N) -> inputs (B, L), targets (B, L) per chunk.

    >>> [(x.tolist(), y.tolist()) for x, y in tbptt_chunks(torch.tensor([[0, 1, 2, 3, 4]]), 2)]
    [([[0, 1]], [[1, 2]]), ([[2, 3]], [[3, 4]])]
    """
    streams = _check_ids(streams, "streams", 2)
    _check_positive(seq_len, "seq_len")
    steps = streams.shape[1] - 1  # positions that have a target
    if steps < 1 or (drop_last and steps < seq_len):
        raise DataError(
            f"streams of {streams.shape[1]} steps per row hold no full chunk of seq_len={seq_len}"
            f" (need ≥ {seq_len + 1 if drop_last else 2}); use more text or a smaller seq_len"
        )
    return _chunks(streams, seq_len, steps, drop_last)


def _chunks(
    streams: Tensor, seq_len: int, steps: int, drop_last: bool
) -> Iterator[tuple[Tensor, Tensor]]:
    for start in range(0, steps, seq_len):
        stop = min(start + seq_len, steps)
        if drop_last and stop - start < seq_len:
            return
        yield streams[:, start:stop], streams[:, start + 1 : stop + 1]  # (B, L), (B, L)

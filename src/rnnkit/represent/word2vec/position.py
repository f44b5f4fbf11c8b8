"""Where resumable word2vec training stands: positions between rounds, and an epoch's rounds.

Training (`train.py`) takes each epoch's chunks of CHUNK_WORDS words in rounds of
`checkpoint_every` chunks (0: one round per epoch) and can stop and resume between two rounds.
A `TrainingPosition` names the next chunk to train and the words done before it:

    words_done = epoch · N + min(chunk · CHUNK_WORDS, N)

and (position, W_in, W_out) is all a resumed run needs: each chunk draws from its own generator
seeded from (seed, epoch, chunk), and η depends only on words_done. No loss accumulator is
carried: a round ends where a checkpoint is taken, its mean loss has just been reported, and the
next round starts a new mean.

References:
    T. Mikolov, K. Chen, G. Corrado and J. Dean, "Efficient Estimation of Word Representations
    in Vector Space", ICLR workshop 2013 (the linear η schedule).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from rnnkit.errors import ConfigError, ShapeError

CHUNK_WORDS = 1 << 16  # words of the id array a worker takes at a time


@dataclass(frozen=True, kw_only=True)
class TrainingPosition:
    """The next chunk to train, and the words of all chunks trained before it.

    The end of training is (epochs, 0, epochs · N).

    >>> TrainingPosition(epoch=1, chunk=2, words_done=200_000 + 2 * CHUNK_WORDS).to_json()
    {'epoch': 1, 'chunk': 2, 'words_done': 331072}
    """

    epoch: int = 0  # epoch to train, counted from 0
    chunk: int = 0  # next chunk of that epoch to train, counted from 0
    words_done: int = 0  # words of all chunks trained so far, over all epochs

    def to_json(self) -> dict[str, int]:
        """The position as a JSON-ready dict (its fields)."""
        return asdict(self)


TrainingStart = tuple[TrainingPosition, Tensor, Tensor]  # (position, W_in (V, E), W_out (V, E))


def words_before(epoch: int, chunk: int, words: int) -> int:
    """epoch · N + min(chunk · CHUNK_WORDS, N): the words of all chunks before this one.

    >>> words_before(2, 1, 100_000)
    265536
    """
    return epoch * words + min(chunk * CHUNK_WORDS, words)


def rounds(first: int, n_chunks: int, every: int) -> Iterator[range]:
    """The rounds of an epoch from chunk `first`: chunk ranges cut at multiples of `every`.

    Cutting at multiples (not every `every` chunks from `first`) makes a resumed run's rounds
    those of the unbroken run. `every` = 0: the rest of the epoch is one round.

    >>> [list(r) for r in rounds(1, 5, 2)], [list(r) for r in rounds(0, 3, 0)]
    ([[1], [2, 3], [4]], [[0, 1, 2]])
    """
    size = every or n_chunks
    while first < n_chunks:
        stop = min((first // size + 1) * size, n_chunks)
        yield range(first, stop)
        first = stop


def check_start(
    start: TrainingStart, *, words: int, vocab_size: int, vector_size: int, epochs: int
) -> None:
    """ShapeError / ConfigError unless a start fits N = `words`, (V, E) and the epochs.

    Raises:
        ShapeError: W_in or W_out is not float32 (V, E).
        ConfigError: the position is outside the run, or words_done does not match it.
    """
    position, weight_in, weight_out = start
    shape = (vocab_size, vector_size)
    for name, table in (("W_in", weight_in), ("W_out", weight_out)):
        if tuple(table.shape) != shape or table.dtype != torch.float32:
            raise ShapeError(
                f"the start's {name} must be float32 of shape (V, E) = {shape}; got "
                f"{table.dtype} {tuple(table.shape)}. Resume with the corpus and config it had"
            )
    n_chunks = -(-words // CHUNK_WORDS)
    epoch, chunk = position.epoch, position.chunk
    in_range = 0 <= epoch <= epochs and 0 <= chunk < n_chunks and (epoch < epochs or chunk == 0)
    if not in_range or position.words_done != words_before(epoch, chunk, words):
        raise ConfigError(
            f"training position {position} does not fit {epochs} epochs of N = {words} words "
            f"in {n_chunks} chunks: expected epoch in [0, {epochs}], chunk in [0, {n_chunks}) "
            f"and words_done = epoch · N + chunk · {CHUNK_WORDS}"
        )

"""word2vec training: read the corpus once, then epochs of vectorised SGD over its id array.

Each epoch cuts the id array into chunks of `CHUNK_WORDS` words. A chunk is subsampled, gets a
dynamic window per kept word and its negatives (`sampling.py`), and is trained in steps of
about `batch_size` (context word, centre word) slots by `skipgram_step` / `cbow_step`
(`steps.py`). The learning rate falls linearly with the words processed over all epochs:

    η = η₀ − (η₀ − η_min) · (words done) / (epochs · N)  (Mikolov et al. 2013a; gensim)

W_in starts uniform in (−0.5/E, 0.5/E) and W_out at zero, as word2vec.c and gensim. With
`threads` > 1, that many Python threads train chunks at once on the shared tables without
locks (Hogwild, Recht et al. 2011, as gensim's workers); torch runs each operation on one core
and releases the GIL while it runs. Every chunk draws from its own generator, seeded from
(seed, epoch, chunk), so threads=1 is deterministic.

References:
    T. Mikolov, K. Chen, G. Corrado and J. Dean, "Efficient Estimation of Word Representations
    in Vector Space", ICLR workshop 2013 (2013a).
    T. Mikolov, I. Sutskever, K. Chen, G. Corrado and J. Dean, "Distributed Representations of
    Words and Phrases and their Compositionality", NIPS 2013 (2013b).
    B. Recht, C. Re, S. Wright and F. Niu, "Hogwild!: A Lock-Free Approach to Parallelizing
    Stochastic Gradient Descent", NIPS 2011.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit.errors import TrainingDiverged
from rnnkit.represent.word2vec.config import Word2VecConfig
from rnnkit.represent.word2vec.corpus import Corpus, EncodedCorpus, encode_corpus
from rnnkit.represent.word2vec.sampling import (
    AliasSampler,
    keep_probabilities,
    noise_distribution,
    subsample,
    window_bounds,
    window_contexts,
)
from rnnkit.represent.word2vec.steps import cbow_step, skipgram_step
from rnnkit.represent.word2vec.vectors import WordVectors

logger = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]
CHUNK_WORDS = 1 << 16  # words of the id array a worker takes at a time
REPORT_SECONDS = 2.0  # progress is reported at most this often within an epoch


@dataclass(eq=False)
class _Run:
    """Tables, samplers and counters shared by the worker threads of one training run."""

    config: Word2VecConfig
    ids: Tensor  # (N,) int32
    segment_starts: Tensor  # (D + 1,) int64
    weight_in: Tensor  # W_in (V, E)
    weight_out: Tensor  # W_out (V, E)
    keep: Tensor  # P_keep (V,) float64
    noise: AliasSampler
    lock: threading.Lock = field(default_factory=threading.Lock)
    words_done: int = 0  # words of all epochs whose chunk is finished
    loss_sum: float = 0.0  # Σ L since the last report
    loss_count: int = 0  # pairs (skip-gram) or centre words (CBOW) since the last report

    def lr(self, words_done: float) -> float:
        """η = η₀ − (η₀ − η_min) · words_done / (epochs · N)."""
        total = self.config.epochs * self.ids.numel()
        fraction = min(words_done / total, 1.0)
        return self.config.alpha - (self.config.alpha - self.config.min_alpha) * fraction  # η


def _chunk_generator(seed: int, epoch: int, chunk: int) -> torch.Generator:
    state = np.random.SeedSequence([seed, epoch, chunk]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def _skipgram_chunk(
    run: _Run, kept: Tensor, segment: Tensor, generator: torch.Generator, lr: Callable
) -> tuple[float, int]:
    """Skip-gram over one subsampled chunk: windows grouped by reach, step_slots per step."""
    config = run.config
    loss_sum, loss_count, done = 0.0, 0, 0
    for centres, contexts, mask in window_contexts(kept, segment, config.window, generator):
        negatives = run.noise.sample((centres.numel(), config.negative), generator)  # (n, K)
        targets = torch.cat([kept[centres].long().unsqueeze(1), negatives], dim=1)  # (n, 1+K)
        rows = max(1, config.step_slots // contexts.shape[1])  # windows per step
        for first in range(0, centres.numel(), rows):
            last = min(first + rows, centres.numel())
            loss, count = skipgram_step(
                run.weight_in, run.weight_out, contexts[first:last], mask[first:last],
                targets[first:last], lr(done + first),
            )  # fmt: skip
            loss_sum, loss_count = loss_sum + loss, loss_count + count
        done += centres.numel()
    return loss_sum, loss_count


def _cbow_chunk(
    run: _Run, kept: Tensor, segment: Tensor, generator: torch.Generator, lr: Callable
) -> tuple[float, int]:
    """CBOW over one subsampled chunk, in text order, about step_slots context slots per step."""
    config, M, W = run.config, kept.numel(), run.config.window
    G = config.cbow_negative_group
    left, right = window_bounds(segment, W, generator)  # (M,)
    negatives = run.noise.sample((-(-M // G), config.negative), generator)  # (⌈M/G⌉, K)
    loss_sum, loss_count = 0.0, 0
    rows = max(1, config.step_slots // (W + 1) // G) * G  # centres per step, E[2b] = W + 1 slots
    for first in range(0, M, rows):
        last = min(first + rows, M)
        low, high = max(first - W, 0), min(last + W, M)  # positions the windows can reach
        loss, count = cbow_step(
            run.weight_in, run.weight_out, kept[low:high].long(), first - low,
            left[first:last] - low, right[first:last] - low,
            negatives[first // G : -(-last // G)], lr(first),
        )  # fmt: skip
        loss_sum, loss_count = loss_sum + loss, loss_count + count
    return loss_sum, loss_count


def _train_chunk(run: _Run, epoch: int, chunk: int) -> None:
    """Subsample one chunk, then train it with the configured model."""
    config, N = run.config, run.ids.numel()
    start, stop = chunk * CHUNK_WORDS, min((chunk + 1) * CHUNK_WORDS, N)
    generator = _chunk_generator(config.seed, epoch, chunk)
    kept, positions = subsample(run.ids[start:stop], run.keep, generator)  # (M,)
    segment = torch.searchsorted(run.segment_starts, positions + start, right=True)  # (M,)
    M = max(kept.numel(), 1)

    def lr(centres_done: int) -> float:  # η at this point of the chunk
        return run.lr(epoch * N + start + (stop - start) * centres_done / M)

    train = _skipgram_chunk if config.model == "skipgram" else _cbow_chunk
    loss_sum, loss_count = train(run, kept, segment, generator, lr)
    with run.lock:
        run.words_done += stop - start
        run.loss_sum += loss_sum
        run.loss_count += loss_count


def _worker(run: _Run, epoch: int, chunks: list[int], errors: list[BaseException]) -> None:
    try:
        while True:
            with run.lock:
                if not chunks or errors:
                    return
                chunk = chunks.pop()
            _train_chunk(run, epoch, chunk)
    except BaseException as err:  # re-raised by the main thread
        with run.lock:
            errors.append(err)


def _report(run: _Run, epoch: int, started: float, progress: Progress | None) -> None:
    with run.lock:
        loss = run.loss_sum / max(run.loss_count, 1)
        run.loss_sum, run.loss_count = 0.0, 0
        done = run.words_done
    if not math.isfinite(loss):
        raise TrainingDiverged(
            f"word2vec loss became {loss} in epoch {epoch + 1} after {done} words; "
            f"lower alpha (now {run.config.alpha}) or batch_size (now {run.config.step_slots})"
        )
    elapsed = max(time.perf_counter() - started, 1e-9)
    info = {
        "epoch": epoch + 1,
        "epochs": run.config.epochs,
        "words_done": done,
        "words_total": run.config.epochs * run.ids.numel(),
        "words_per_s": done / elapsed,
        "lr": run.lr(done),
        "loss": loss,
    }
    logger.debug("word2vec %s", info)
    if progress is not None:
        progress(info)


def _run_epoch(run: _Run, epoch: int, started: float, progress: Progress | None) -> None:
    """Train one epoch with `threads` workers; report progress while they run."""
    chunks = list(reversed(range(math.ceil(run.ids.numel() / CHUNK_WORDS))))
    errors: list[BaseException] = []
    workers = [
        threading.Thread(target=_worker, args=(run, epoch, chunks, errors), daemon=True)
        for _ in range(run.config.threads)
    ]
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            while worker.is_alive():
                worker.join(timeout=REPORT_SECONDS)
                if worker.is_alive() and not errors:
                    _report(run, epoch, started, progress)
    except BaseException as err:  # stop the other workers before the error leaves
        with run.lock:
            errors.append(err)
        for worker in workers:
            worker.join()
        raise
    if errors:
        raise errors[0]
    _report(run, epoch, started, progress)


def train_encoded(
    corpus: EncodedCorpus, config: Word2VecConfig, *, progress: Progress | None = None
) -> WordVectors:
    """Train word vectors on an already encoded corpus (see `train_word2vec`)."""
    V, E = len(corpus.words), config.vector_size
    init = torch.Generator().manual_seed(config.seed)
    weight_in = (torch.rand(V, E, generator=init) - 0.5) / E  # W_in ~ U(−0.5/E, 0.5/E)
    run = _Run(
        config=config,
        ids=torch.from_numpy(corpus.ids),
        segment_starts=torch.from_numpy(corpus.starts),
        weight_in=weight_in,
        weight_out=torch.zeros(V, E),  # W_out = 0
        keep=torch.from_numpy(keep_probabilities(corpus.counts, config.sample)),
        noise=AliasSampler(noise_distribution(corpus.counts, config.ns_exponent)),
    )
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        started = time.perf_counter()
        for epoch in range(config.epochs):
            _run_epoch(run, epoch, started, progress)
    finally:
        torch.set_num_threads(previous_threads)
    return WordVectors(corpus.words, run.weight_in, counts=corpus.counts.tolist())


def train_word2vec(
    corpus: Corpus, config: Word2VecConfig, *, progress: Progress | None = None
) -> WordVectors:
    """Train skip-gram or CBOW vectors with negative sampling on a corpus.

    Args:
        corpus: a text file, a .gz file, a folder of them, or an iterable of token lists.
        config: the hyper-parameters.
        progress: called with a dict (epoch, epochs, words_done, words_total, words_per_s,
            lr, loss: the mean L since the previous call) every few seconds and after each
            epoch.

    Returns:
        WordVectors of the input vectors W_in, words in descending-count order with counts.

    Raises:
        DataError: see `encode_corpus`.
        TrainingDiverged: the loss became NaN or infinite.

    >>> pairs = [["cat", "tiger"], ["dog", "wolf"]] * 50
    >>> config = Word2VecConfig(vector_size=8, epochs=2, min_count=1, window=1, threads=1)
    >>> train_word2vec(pairs, config).words
    ['cat', 'tiger', 'dog', 'wolf']
    """
    encoded = encode_corpus(
        corpus,
        min_count=config.min_count,
        max_vocab_size=config.max_vocab_size,
        window=config.window,
        lowercase=config.lowercase,
        keep_punctuation=config.keep_punctuation,
    )
    return train_encoded(encoded, config, progress=progress)

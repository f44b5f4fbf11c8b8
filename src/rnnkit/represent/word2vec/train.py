"""word2vec training: read the corpus once, then epochs of vectorised SGD over its id array.

Each epoch cuts the id array into chunks of `CHUNK_WORDS` words. A chunk is subsampled, gets a
dynamic window per kept word and its negatives (`sampling.py`), and is trained in steps of
about `batch_size` (context word, centre word) slots by `skipgram_steps` / `cbow_steps`
(`steps.py`). The learning rate falls linearly with the words processed over all epochs:

    η = η₀ − (η₀ − η_min) · (words done) / (epochs · N)  (Mikolov et al. 2013a; gensim)

W_in starts uniform in (−0.5/E, 0.5/E) and W_out at zero, as word2vec.c and gensim. With
`threads` > 1, that many Python threads train chunks at once on the shared tables without
locks (Hogwild, Recht et al. 2011, as gensim's workers); torch runs each operation on one core,
and a chunk's steps are one TorchScript call that runs without the GIL (`scripted.py`). CBOW
with its tables on the CPU runs a chunk's steps as one call of a C function instead
(`native.py`: the same steps in ~half the CPU time), unless no C compiler could
build it. Every chunk draws from its own generator, seeded from (seed, epoch, chunk), so
threads=1 is deterministic.

Stopping and resuming (`position.py`). An epoch's chunks run in rounds of `checkpoint_every`
chunks; the workers are joined after each, and `checkpoint(position, W_in, W_out)` gets the
consistent tables with the `TrainingPosition` to continue from, which `start=` takes back.
With threads=1 a resumed run ends with the unbroken run's vectors, bit for bit, and reports
the same round rows (progress calls without a "live" key; loss = the mean over the round's
pairs, so no row depends on timing). With threads > 1 it continues at the right chunk but is
not bit-identical, as two unbroken Hogwild runs are not: concurrent updates interleave anew.

The batched trainer (`device` 'cpu', 'cuda' or 'cuda:N'; None, the default, is the Hogwild
trainer above). The same chunks, draws, rounds and steps run one after another in one thread,
on tables that live on the device: subsampling, windows and negatives are drawn on the CPU from
the chunk's generator exactly as above and moved there, so each step is a few large tensor
operations on the device. Collisions within a step (a word that is the context, centre or
negative of several slots of one step) are handled as the CPU trainer handles them: every
update of a step is computed from the vectors as they were before the step, and the updates
of one row are summed by `index_add_`, neither averaged nor applied one after another.
`batch_size` sets the step; on a GPU it is the speed knob, with the effect on quality that
bench/README.md measured on the CPU. On the CPU with threads=1 the batched trainer gives the
Hogwild trainer's vectors bit for bit, and its resumed runs equal its unbroken ones, through
the same code (there are tests). Checkpoints get the tables copied to the CPU, and a start's
tables are copied to the device. On CUDA, `index_add_` adds with atomics, so two runs may
differ in the last bits unless torch.use_deterministic_algorithms(True) is set; the GPU's
speed is unmeasured so far.

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

from rnnkit.errors import ConfigError, TrainingDiverged
from rnnkit.represent.word2vec.config import Word2VecConfig
from rnnkit.represent.word2vec.corpus import Corpus, EncodedCorpus, encode_corpus
from rnnkit.represent.word2vec.native import CbowKernel, cbow_kernel
from rnnkit.represent.word2vec.position import (
    CHUNK_WORDS,
    TrainingPosition,
    TrainingStart,
    check_start,
    rounds,
    words_before,
)
from rnnkit.represent.word2vec.sampling import (
    AliasSampler,
    keep_probabilities,
    noise_distribution,
    subsample,
    window_bounds,
    window_contexts,
)
from rnnkit.represent.word2vec.scripted import scripted_cbow_steps, scripted_skipgram_steps
from rnnkit.represent.word2vec.steps import cbow_windows
from rnnkit.represent.word2vec.vectors import WordVectors

logger = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]
REPORT_SECONDS = 2.0  # live progress is reported at most this often within a round
Checkpoint = Callable[[TrainingPosition, Tensor, Tensor], None]  # (position, W_in, W_out)
__all__ = [
    "CHUNK_WORDS",
    "TrainingPosition",
    "TrainingStart",
    "encode_for",
    "train_encoded",
    "train_word2vec",
]


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
    words_at_start: int = 0  # words_done when this process started training (for words/s)
    round_end: int = 0  # words_done once the current round's chunks are all finished
    loss_sum: float = 0.0  # Σ L over the current round's finished chunks
    loss_count: int = 0  # pairs (skip-gram) or centre words (CBOW) in that sum
    cbow_kernel: CbowKernel | None = None  # CBOW's steps in C for tables on the CPU, if built

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
    device = run.weight_in.device  # drawn on the CPU from the chunk's generator, then moved
    for centres, contexts, mask in window_contexts(kept, segment, config.window, generator):
        negatives = run.noise.sample((centres.numel(), config.negative), generator)  # (n, K)
        targets = torch.cat([kept[centres].long().unsqueeze(1), negatives], dim=1)  # (n, 1+K)
        contexts, mask, targets = contexts.to(device), mask.to(device), targets.to(device)
        rows = max(1, config.step_slots // contexts.shape[1])  # windows per step
        lrs = [lr(done + first) for first in range(0, centres.numel(), rows)]  # η of each step
        loss, count = scripted_skipgram_steps()(
            run.weight_in, run.weight_out, contexts, mask, targets, rows, lrs
        )  # the steps, in TorchScript without the GIL (`scripted.py`)
        loss_sum, loss_count = loss_sum + float(loss), loss_count + int(count)
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
    rows = max(1, config.step_slots // (W + 1) // G) * G  # centres per step, E[2b] = W + 1 slots
    lrs = [lr(first) for first in range(0, M, rows)]  # η of each step
    if run.cbow_kernel is not None:  # the same steps in C, without the GIL (`native.py`)
        return run.cbow_kernel.cbow_steps(
            run.weight_in, run.weight_out, kept, left, right, negatives, G, rows, lrs
        )
    device = run.weight_in.device  # drawn on the CPU from the chunk's generator, then moved
    windows = cbow_windows(kept.to(device), left.to(device), right.to(device), W,
                           run.weight_in.dtype)  # the chunk's bags, once  # fmt: skip
    loss, count = scripted_cbow_steps()(
        run.weight_in, run.weight_out, *windows, negatives.to(device), G, rows, lrs
    )  # the chunk's steps, in TorchScript without the GIL (`scripted.py`)
    return float(loss), int(count)


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


def _report(
    run: _Run, epoch: int, started: float, progress: Progress | None, *, live: bool
) -> None:
    """Report the round's mean loss; at the round's end (not live) start a new mean."""
    with run.lock:
        loss = run.loss_sum / max(run.loss_count, 1)
        done, count = run.words_done, run.loss_count
        if not live:
            run.loss_sum, run.loss_count = 0.0, 0
    if live and (count == 0 or done >= run.round_end):  # nothing yet, or the round row is next
        return
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
        "words_per_s": (done - run.words_at_start) / elapsed,
        "lr": run.lr(done),
        "loss": loss,
    }
    if live:
        info["live"] = True
    logger.debug("word2vec %s", info)
    if progress is not None:
        progress(info)


def _run_round(
    run: _Run, epoch: int, chunks: range, started: float, progress: Progress | None
) -> None:
    """Train some chunks of an epoch with `threads` workers, reporting while they run."""
    pending = list(reversed(chunks))  # workers pop from the end: chunks in order
    run.round_end = words_before(epoch, chunks.stop, run.ids.numel())
    errors: list[BaseException] = []
    workers = [
        threading.Thread(target=_worker, args=(run, epoch, pending, errors), daemon=True)
        for _ in range(run.config.threads if run.config.device is None else 1)
    ]
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            while worker.is_alive():
                worker.join(timeout=REPORT_SECONDS)
                if worker.is_alive() and not errors:
                    _report(run, epoch, started, progress, live=True)
    except BaseException as err:  # stop the other workers before the error leaves
        with run.lock:
            errors.append(err)
        for worker in workers:
            worker.join()
        raise
    if errors:
        raise errors[0]
    _report(run, epoch, started, progress, live=False)


def _make_run(corpus: EncodedCorpus, config: Word2VecConfig, start: TrainingStart | None) -> _Run:
    """The shared state of a run: fresh tables, or the start's tables and position."""
    V, E = len(corpus.words), config.vector_size
    if start is None:
        init = torch.Generator().manual_seed(config.seed)
        weight_in = (torch.rand(V, E, generator=init) - 0.5) / E  # W_in ~ U(−0.5/E, 0.5/E)
        start = (TrainingPosition(), weight_in, torch.zeros(V, E))  # W_out = 0
    position, weight_in, weight_out = start
    device = _device(config)
    weight_in = weight_in.to(device)  # on the CPU: the start's own tables, trained in place
    weight_out = weight_out.to(device)
    native = config.model == "cbow" and CbowKernel.accepts(weight_in, weight_out)
    return _Run(
        config=config,
        ids=torch.from_numpy(corpus.ids),
        segment_starts=torch.from_numpy(corpus.starts),
        weight_in=weight_in,
        weight_out=weight_out,
        keep=torch.from_numpy(keep_probabilities(corpus.counts, config.sample)),
        noise=AliasSampler(noise_distribution(corpus.counts, config.ns_exponent)),
        words_done=position.words_done,
        words_at_start=position.words_done,
        cbow_kernel=cbow_kernel() if native else None,
    )


def _device(config: Word2VecConfig) -> torch.device:
    """The device of the tables; ConfigError when the config asks for an absent GPU."""
    if config.device is None:
        return torch.device("cpu")
    device = torch.device(config.device)
    if device.type == "cuda" and (
        not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()
    ):
        raise ConfigError(
            f"device {config.device!r} needs a CUDA GPU, but torch sees "
            f"{torch.cuda.device_count() if torch.cuda.is_available() else 'no'} CUDA device(s); "
            "train on the CPU: device None (--device none, the default) or 'cpu' (batched)"
        )
    return device


def train_encoded(
    corpus: EncodedCorpus,
    config: Word2VecConfig,
    *,
    progress: Progress | None = None,
    start: TrainingStart | None = None,
    checkpoint: Checkpoint | None = None,
    checkpoint_every: int = 0,
) -> WordVectors:
    """Train word vectors on an already encoded corpus, resumably (see `train_word2vec`).

    Args:
        corpus: the encoded corpus (`encode_corpus`).
        config: the hyper-parameters.
        progress: as in `train_word2vec`; its round rows come after every round.
        start: (position, W_in, W_out) to continue from, as a `checkpoint` call received them;
            the tables (V, E) float32 are trained in place (on a GPU: copies of them there).
            None: start afresh.
        checkpoint: called as checkpoint(position, W_in, W_out) at the end of every round, with
            the position to continue from and the tables on the CPU (copies, from a GPU);
            training goes on once it returns.
        checkpoint_every: chunks of CHUNK_WORDS words per round; 0: one round per epoch.

    Raises:
        ConfigError: a negative checkpoint_every, a start position outside this run, or a
            CUDA device that torch does not see.
        ShapeError: a start whose tables are not (V, E) float32.
        TrainingDiverged: the loss became NaN or infinite.
    """
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or (
        checkpoint_every < 0
    ):  # fmt: skip
        raise ConfigError(f"checkpoint_every must be an integer >= 0, got {checkpoint_every!r}")
    if start is not None:
        check_start(start, words=corpus.ids.size, vocab_size=len(corpus.words),
                    vector_size=config.vector_size, epochs=config.epochs)  # fmt: skip
    run = _make_run(corpus, config, start)
    n_chunks = math.ceil(run.ids.numel() / CHUNK_WORDS)
    position = start[0] if start is not None else TrainingPosition()
    previous_threads = torch.get_num_threads()
    # Hogwild workers: one core each. The batched trainer on the CPU: `threads` cores per op.
    torch.set_num_threads(1 if config.device is None else config.threads)
    try:
        started = time.perf_counter()
        for epoch in range(position.epoch, config.epochs):
            first = position.chunk if epoch == position.epoch else 0
            for chunks in rounds(first, n_chunks, checkpoint_every):
                _run_round(run, epoch, chunks, started, progress)
                last = chunks.stop == n_chunks
                reached = TrainingPosition(
                    epoch=epoch + 1 if last else epoch,
                    chunk=0 if last else chunks.stop,
                    words_done=run.words_done,
                )
                if checkpoint is not None:
                    checkpoint(reached, run.weight_in.cpu(), run.weight_out.cpu())
    finally:
        torch.set_num_threads(previous_threads)
    return WordVectors(corpus.words, run.weight_in.cpu(), counts=corpus.counts.tolist())


def train_word2vec(
    corpus: Corpus, config: Word2VecConfig, *, progress: Progress | None = None
) -> WordVectors:
    """Train skip-gram or CBOW vectors with negative sampling on a corpus.

    Args:
        corpus: a text file, a .gz file, a folder of them, or an iterable of token lists.
        config: the hyper-parameters.
        progress: called with a dict (epoch, epochs, words_done, words_total, words_per_s,
            lr, loss) after each epoch (a round row: loss is the mean L over its pairs) and,
            with "live": True added, every few seconds in between (loss: the mean L so far).

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
    return train_encoded(encode_for(corpus, config), config, progress=progress)


def encode_for(corpus: Corpus, config: Word2VecConfig) -> EncodedCorpus:
    """`encode_corpus` with the config's vocabulary and text-reading settings."""
    return encode_corpus(
        corpus,
        min_count=config.min_count,
        max_vocab_size=config.max_vocab_size,
        window=config.window,
        lowercase=config.lowercase,
        keep_punctuation=config.keep_punctuation,
    )

"""word2vec training stopped at a round's end and resumed equals an unbroken run, bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.represent.word2vec import Word2VecConfig, encode_corpus, train_encoded
from rnnkit.represent.word2vec.corpus import EncodedCorpus
from rnnkit.represent.word2vec.train import CHUNK_WORDS, TrainingPosition

Saved = tuple[TrainingPosition, torch.Tensor, torch.Tensor]


@pytest.fixture(scope="module")
def corpus() -> EncodedCorpus:
    """2.3 chunks of words from 40 words in 4 topics, so every run has 3 rounds an epoch."""
    rng = np.random.default_rng(0)
    topics = rng.integers(0, 4, size=15_000)
    words = topics[:, None] * 10 + rng.integers(0, 10, size=(15_000, 10))  # (sentences, 10)
    sentences = [[f"w{w}" for w in row] for row in words.tolist()]
    return encode_corpus(sentences, min_count=1, window=2)


def _config(model: str, threads: int = 1) -> Word2VecConfig:
    return Word2VecConfig(model=model, vector_size=8, window=2, negative=2, epochs=2,
                          min_count=1, threads=threads, seed=4)  # fmt: skip


def _train(
    corpus: EncodedCorpus, config: Word2VecConfig, start: Saved | None = None
) -> tuple[list[dict[str, Any]], list[Saved]]:
    """Round rows (without words_per_s) and a copy of every checkpoint of one run."""
    rows: list[dict[str, Any]] = []
    saved: list[Saved] = []

    def progress(row: dict[str, Any]) -> None:
        if "live" not in row:
            rows.append({k: v for k, v in row.items() if k != "words_per_s"})

    def checkpoint(position: TrainingPosition, w_in: torch.Tensor, w_out: torch.Tensor) -> None:
        saved.append((position, w_in.clone(), w_out.clone()))

    train_encoded(corpus, config, progress=progress, start=start, checkpoint=checkpoint,
                  checkpoint_every=1)  # fmt: skip
    return rows, saved


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_resumed_runs_equal_the_unbroken_run(model: str, corpus: EncodedCorpus) -> None:
    config = _config(model)
    rows, saved = _train(corpus, config)
    N = corpus.ids.size
    assert [s[0] for s in saved[:4]] == [
        TrainingPosition(epoch=0, chunk=1, words_done=CHUNK_WORDS),
        TrainingPosition(epoch=0, chunk=2, words_done=2 * CHUNK_WORDS),
        TrainingPosition(epoch=1, chunk=0, words_done=N),  # an epoch's end
        TrainingPosition(epoch=1, chunk=1, words_done=N + CHUNK_WORDS),
    ]
    assert len(rows) == len(saved) == 6
    assert saved[-1][0] == TrainingPosition(epoch=2, chunk=0, words_done=2 * N)
    for k in (1, 2, 3):  # mid-epoch, epoch end, mid-epoch of the second epoch
        position, w_in, w_out = saved[k]
        resumed_rows, resumed = _train(corpus, config, (position, w_in.clone(), w_out.clone()))
        assert resumed_rows == rows[k + 1 :]
        assert [s[0] for s in resumed] == [s[0] for s in saved[k + 1 :]]
        assert torch.equal(resumed[-1][1], saved[-1][1])  # W_in: the vectors
        assert torch.equal(resumed[-1][2], saved[-1][2])  # W_out


def test_round_size_does_not_change_the_vectors(corpus: EncodedCorpus) -> None:
    config = _config("skipgram")
    by_epoch = train_encoded(corpus, config)
    _, by_chunk = _train(corpus, config)
    assert torch.equal(by_epoch.vectors, by_chunk[-1][1])


def test_resume_with_threads_continues_at_the_position(corpus: EncodedCorpus) -> None:
    config = _config("cbow", threads=2)
    rows, saved = _train(corpus, config)
    resumed_rows, resumed = _train(corpus, config, saved[3])
    assert [r["words_done"] for r in resumed_rows] == [r["words_done"] for r in rows[4:]]
    assert [s[0] for s in resumed] == [s[0] for s in saved[4:]]
    assert resumed_rows[-1]["loss"] < rows[0]["loss"]


def test_a_start_that_does_not_fit_is_refused(corpus: EncodedCorpus) -> None:
    config = _config("skipgram")
    V = len(corpus.words)
    tables = torch.zeros(V, 8), torch.zeros(V, 8)
    wrong_words = TrainingPosition(epoch=1, chunk=1, words_done=CHUNK_WORDS)
    with pytest.raises(ConfigError, match="words_done = epoch · N"):
        train_encoded(corpus, config, start=(wrong_words, *tables))
    past_end = TrainingPosition(epoch=2, chunk=1, words_done=2 * corpus.ids.size + CHUNK_WORDS)
    with pytest.raises(ConfigError, match="does not fit 2 epochs"):
        train_encoded(corpus, config, start=(past_end, *tables))
    with pytest.raises(ShapeError, match=rf"\(V, E\) = \({V}, 8\); got torch.float32 \({V}, 9\)"):
        train_encoded(corpus, config, start=(TrainingPosition(), tables[0], torch.zeros(V, 9)))
    with pytest.raises(ConfigError, match="checkpoint_every must be an integer >= 0, got -1"):
        train_encoded(corpus, config, checkpoint_every=-1)


def test_a_finished_position_trains_nothing(corpus: EncodedCorpus) -> None:
    config = _config("skipgram")
    _, saved = _train(corpus, config)
    position, w_in, w_out = saved[-1]
    rows, again = _train(corpus, config, (position, w_in.clone(), w_out.clone()))
    assert (rows, again) == ([], [])

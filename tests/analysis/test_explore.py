"""The foundation demo on a slice of the embedded corpus: figures checked against direct counts."""

from __future__ import annotations

import pytest

from rnnkit.analysis.explore import (
    WORDS,
    ExploreConfig,
    explore,
    load_corpus,
    run_explore,
    show_sentence,
    speeches,
    split_train_test,
)
from rnnkit.errors import ConfigError, DataError
from rnnkit.text.vocab import Vocab

SLICE = 60_000  # characters: the opening of Coriolanus


@pytest.fixture(scope="module")
def text() -> str:
    return load_corpus(SLICE)


def test_embedded_corpus_loads_without_shared_data() -> None:
    corpus = load_corpus()
    assert len(corpus) == 1_115_394
    assert corpus.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")


def test_speeches_and_split(text: str) -> None:
    first = next(speeches(text))
    assert first == ("First Citizen", "Before we proceed any further, hear me speak.")
    train, test = split_train_test(text, 0.9)
    assert train + test == text
    assert train.endswith("\n")
    assert abs(len(train) - 0.9 * len(text)) < 200


def test_report_figures_match_direct_counts(text: str) -> None:
    config = ExploreConfig(top_k=3, num_speakers=2)
    report = explore(text, config)
    train, test = split_train_test(text, 0.9)
    assert report.num_chars == len(text)
    assert report.char_vocab_size == len(set(text))
    train_words, test_words = WORDS(train), WORDS(test)
    kept = {w for w in set(train_words) if train_words.count(w) >= 2}
    assert len(report.vocab) == len(kept) + 4
    missing = sum(word not in kept for word in test_words)
    assert report.oov_rate == pytest.approx(missing / len(test_words))
    assert report.word_types == len(set(WORDS(text)))
    sizes = {n: size for n, size, _ in report.hashing}
    assert sizes[1] < sizes[2] < sizes[3]
    unigram_groups = next(groups for n, _, groups in report.hashing if n == 1)
    assert all(sorted(group[0]) == sorted(group[1]) for group in unigram_groups)  # anagrams
    assert any(word not in report.vocab for word in WORDS(report.sample_line))
    assert [name for name, _, _ in report.speakers] == ["MENENIUS", "MARCIUS"]
    assert all(len(terms) == 3 for _, _, terms in report.speakers)


def test_run_explore_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_explore(ExploreConfig(max_chars=SLICE, num_speakers=1))
    out = capsys.readouterr().out
    assert f"{report.oov_rate:.2%}" in out
    assert "one-hot" in out
    assert "word hashing" in out
    assert "MENENIUS" in out


def test_show_sentence_marks_unknown_words(capsys: pytest.CaptureFixture[str]) -> None:
    vocab = Vocab.build_from_iterator(["we like it, do we"], WORDS)
    show_sentence("we like TensorLayer, do we?", vocab, kind="all", documents=["we do", "it"])
    out = capsys.readouterr().out
    assert "tensorlayer" in out
    assert "<unk>" in out
    assert "tf-idf" in out


def test_bad_input() -> None:
    with pytest.raises(DataError, match="non-empty text"):
        explore("  ", ExploreConfig())
    with pytest.raises(DataError, match="too short"):
        explore("no newline here", ExploreConfig())
    with pytest.raises(ConfigError, match="train_fraction"):
        ExploreConfig(train_fraction=1.0)
    with pytest.raises(ConfigError, match="hash_sizes"):
        ExploreConfig(hash_sizes=(0,))
    vocab = Vocab(["a"], tokenizer=WORDS)
    with pytest.raises(DataError, match="holds no token"):
        show_sentence("?!", vocab)
    with pytest.raises(ConfigError, match="n-gram size"):
        show_sentence("a", vocab, n=0)

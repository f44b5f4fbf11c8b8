"""Exploring the data path: text -> tokens -> representations on the embedded Tiny Shakespeare.

`explore` measures a text: character and word vocabularies, the out-of-vocabulary rate on
held-out text, letter n-gram vocabularies and word-hashing collisions (Huang et al. 2013), and
the top tf-idf words of the main characters (Salton & Buckley 1988). `render_report` prints
them with rich; `show_sentence` prints the one-hot, word-hashing and bag-of-words vectors of
one sentence, which is also the `rnnkit represent` command (`represent_command`).

References:
    P.-S. Huang, X. He, J. Gao, L. Deng, A. Acero and L. Heck, "Learning Deep Structured
    Semantic Models for Web Search using Clickthrough Data", CIKM 2013.
    G. Salton and C. Buckley, "Term-weighting approaches in automatic text retrieval",
    Information Processing & Management 24(5), 1988.
    A. Karpathy, char-rnn (2015), https://github.com/karpathy/char-rnn (the corpus)
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from rich.table import Table

from rnnkit.analysis.explore_config import ExploreConfig
from rnnkit.console import console
from rnnkit.errors import ConfigError, DataError
from rnnkit.represent.bow import BagOfWords
from rnnkit.represent.hashing import WordHasher, ngram_collisions
from rnnkit.represent.onehot import OneHotEncoder
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import Vocab

CORPUS_NAME = "tiny_shakespeare.txt"
WORDS = Tokenizer(kind="word", lowercase=True, keep_punctuation=False)  # BoW-style words
CHARS = Tokenizer(kind="char")
SPEAKER = re.compile(r"^([A-Z][A-Za-z' ]*):$")  # a speech opens with "ROMEO:" on its own line
ViewKind = Literal["onehot", "hashing", "bow", "all"]


def load_corpus(max_chars: int | None = None) -> str:
    """The embedded Tiny Shakespeare (1,115,394 characters), or its first `max_chars`."""
    text = resources.files("rnnkit.tasks").joinpath("data", CORPUS_NAME).read_text("utf-8")
    return text if max_chars is None else text[:max_chars]


def speeches(text: str) -> Iterator[tuple[str, str]]:
    """(speaker, speech) for every blank-line separated block that opens with `NAME:`.

    >>> list(speeches("ROMEO:\\nO, she doth teach\\n\\nJULIET:\\nAy me!\\n"))
    [('ROMEO', 'O, she doth teach'), ('JULIET', 'Ay me!')]
    """
    for block in text.split("\n\n"):
        head, _, body = block.strip("\n").partition("\n")
        match = SPEAKER.match(head)
        if match and body:
            yield match.group(1), body


def split_train_test(text: str, train_fraction: float) -> tuple[str, str]:
    """Cut text at the last line end before `train_fraction` of its characters."""
    cut = text.rfind("\n", 0, int(len(text) * train_fraction)) + 1
    if cut == 0 or cut >= len(text):
        raise DataError(f"text of {len(text)} characters is too short to split at a line end")
    return text[:cut], text[cut:]


@dataclass(kw_only=True)
class ExploreReport:
    """What `explore` measured; `vocab` is the word vocabulary built from the train part."""

    num_chars: int
    char_vocab_size: int
    train_tokens: int
    test_tokens: int
    word_types_train: int
    vocab: Vocab
    oov_rate: float  # share of held-out word tokens that map to <unk>
    word_types: int  # distinct lower-cased words in the whole text
    hashing: list[tuple[int, int, list[list[str]]]]  # (n, n-gram vocabulary, collision groups)
    sample_line: str
    documents: list[str]  # the speeches of the train part (idf of the sample line)
    speakers: list[tuple[str, int, list[tuple[str, float]]]]  # (name, words, top tf-idf)


def _pick_sample(test: str, vocab: Vocab) -> str:
    """The first held-out line of ≥ 6 words with an unknown word (else the first such line)."""
    lines = [line.strip() for line in test.splitlines() if len(WORDS(line)) >= 6]
    if not lines:
        raise DataError("the held-out text has no line of 6 or more words; use a longer text")
    unknown = (line for line in lines if any(word not in vocab for word in WORDS(line)))
    return next(unknown, lines[0])


def _speaker_tfidf(text: str, config: ExploreConfig) -> list[tuple[str, int, list]]:
    """Top (1 + ln tf)·idf words of the speakers with most words; one document per speaker."""
    by_speaker: dict[str, list[str]] = {}
    for speaker, speech in speeches(text):
        by_speaker.setdefault(speaker, []).extend(WORDS(speech))
    counts = Counter(word for words in by_speaker.values() for word in words)
    if not counts:
        return []
    vocab = Vocab.from_counts(counts, min_freq=config.min_freq, tokenizer=WORDS)
    bow = BagOfWords(vocab, mode="tfidf", sublinear=True).fit(by_speaker.values())
    main = sorted(by_speaker, key=lambda name: -len(by_speaker[name]))[: config.num_speakers]
    rows = []
    for speaker in main:
        terms = bow.top_terms(bow.transform(by_speaker[speaker]), config.top_k + 1)
        terms = [(token, weight) for token, weight in terms if token not in vocab.specials]
        rows.append((speaker, len(by_speaker[speaker]), terms[: config.top_k]))
    return rows


def explore(text: str, config: ExploreConfig) -> ExploreReport:
    """Measure vocabularies, OOV rate, n-gram hashing and per-speaker tf-idf of `text`."""
    if not isinstance(text, str) or not text.strip():
        raise DataError("explore needs a non-empty text")
    chars = Vocab.build_from_iterator(text.splitlines(keepends=True), CHARS, specials=())
    train, test = split_train_test(text, config.train_fraction)
    vocab = Vocab.build_from_iterator(train.splitlines(), WORDS, min_freq=config.min_freq)
    train_tokens, test_tokens = WORDS(train), WORDS(test)
    if not test_tokens:
        raise DataError("the held-out part of the text holds no word; use a longer text")
    types = list(dict.fromkeys(WORDS(text)))
    hashing = [
        (n, len(WordHasher.fit(types, n).ngrams), ngram_collisions(types, n))
        for n in config.hash_sizes
    ]
    return ExploreReport(
        num_chars=len(text),
        char_vocab_size=len(chars),
        train_tokens=len(train_tokens),
        test_tokens=len(test_tokens),
        word_types_train=len(set(train_tokens)),
        vocab=vocab,
        oov_rate=vocab.oov_rate(test_tokens),
        word_types=len(types),
        hashing=hashing,
        sample_line=_pick_sample(test, vocab),
        documents=[speech for _, speech in speeches(train)],
        speakers=_speaker_tfidf(text, config),
    )


# -- printing -----------------------------------------------------------------------------
def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for column in columns:
        table.add_column(column)
    return table


def show_sentence(
    sentence: str,
    vocab: Vocab,
    *,
    n: int = 3,
    kind: ViewKind = "all",
    documents: Sequence[str] = (),
) -> None:
    """Print the one-hot, word-hashing and bag-of-words vectors of a sentence over `vocab`.

    The hashing vocabulary is fitted on the vocabulary's words (unseen grams -> <other>);
    with `documents`, the bag-of-words table adds l2-normalised tf-idf fitted on them.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n (letter n-gram size) must be a positive integer, got {n!r}")
    tokens = vocab.tokenize(sentence)
    if not tokens:
        raise DataError(f"the sentence {sentence!r} holds no token to represent")
    console.print(f"tokens: {tokens}")
    if kind in ("onehot", "all"):
        _show_onehot(tokens, vocab)
    if kind in ("hashing", "all"):
        _show_hashing(tokens, vocab, n)
    if kind in ("bow", "all"):
        _show_bow(tokens, vocab, documents)


def _show_onehot(tokens: list[str], vocab: Vocab) -> None:
    encoder = OneHotEncoder(vocab)
    rows = encoder.encode(tokens, sparse=True).indices()  # (2, T): step t, index of its 1
    console.print(f"one-hot over D = {encoder.dim:,} dimensions; 'other' = <unk>")
    table = _table("one-hot", "token", "index of the 1", "dimension")
    for t, j in rows.t().tolist():
        table.add_row(tokens[t], str(j), encoder.names[j])
    console.print(table)


def _show_hashing(tokens: list[str], vocab: Vocab, n: int) -> None:
    hasher = WordHasher.fit([t for t in vocab.tokens if t not in vocab.specials], n)
    console.print(
        f"word hashing over D = {hasher.dim:,}: letter {n}-grams of the lexicon + <other>"
    )
    table = _table("word hashing", "word", "n-gram:index", "nonzero", "‖x‖₁")
    for word in dict.fromkeys(tokens):
        vector = hasher.encode_word(word)  # (D,) sparse counts
        labels = []
        for gram in hasher.grams(word):
            j = hasher.index(gram)
            labels.append(f"{gram}:{j if j < len(hasher.ngrams) else hasher.names[j]}")
        nonzero = len(hasher.to_dict(vector))
        table.add_row(word, " ".join(labels), str(nonzero), f"{float(vector.sum()):g}")
    console.print(table)


def _show_bow(tokens: list[str], vocab: Vocab, documents: Sequence[str]) -> None:
    counts = BagOfWords(vocab)
    note = f"bag of words over D = {len(vocab):,} vocabulary ids"
    columns = ["token", "id", "count"]
    tfidf = None
    if documents:
        tfidf = BagOfWords(vocab, mode="tfidf", norm="l2").fit(documents)
        note += f"; idf from {tfidf.num_documents:,} speeches"
        columns.append("tf-idf (l2)")
    console.print(note)
    table = _table("bag of words", *columns)
    weights = tfidf.transform(tokens) if tfidf else None
    for token, count in counts.to_dict(counts.transform(tokens)).items():
        token_id = vocab.token_to_id(token)
        row = [token, str(token_id), f"{count:g}"]
        if weights is not None:
            row.append(f"{float(weights[token_id]):.3f}")
        table.add_row(*row)
    console.print(table)


def render_report(report: ExploreReport, config: ExploreConfig) -> None:
    """Print the figures, the sample line's vectors and the speakers' tf-idf words."""
    table = _table("Tiny Shakespeare: tokens and vocabularies", "figure", "value")
    split = f"{config.train_fraction:.0%}"
    table.add_row("characters", f"{report.num_chars:,}")
    table.add_row("character vocabulary (code points)", f"{report.char_vocab_size}")
    tokens = f"{report.train_tokens:,} / {report.test_tokens:,}"
    table.add_row(f"word tokens: first {split} / rest", tokens)
    table.add_row(f"word types in the first {split}", f"{report.word_types_train:,}")
    vocab_name = f"word vocabulary (min_freq={config.min_freq}, + specials)"
    table.add_row(vocab_name, f"{len(report.vocab):,}")
    table.add_row("held-out OOV rate (word tokens -> <unk>)", f"{report.oov_rate:.2%}")
    console.print(table)
    title = "letter n-grams vs word types (Huang et al. 2013)"
    columns = ("n", "word types", "n-grams", "words in collisions", "example")
    table = _table(title, *columns)
    for n, size, groups in report.hashing:
        example = " = ".join(groups[0][:3]) if groups else "-"
        in_collision = sum(len(group) for group in groups)
        table.add_row(str(n), f"{report.word_types:,}", f"{size:,}", str(in_collision), example)
    console.print(table)
    console.print(f"sample held-out line: {report.sample_line!r}")
    show_sentence(report.sample_line, report.vocab, n=config.n, documents=report.documents)
    title = "top (1 + ln tf)·idf words per main character, one document per speaker"
    table = _table(title, "speaker", "words", "top words (weight)")
    for speaker, count, terms in report.speakers:
        words = ", ".join(f"{token} ({weight:.1f})" for token, weight in terms)
        table.add_row(speaker, f"{count:,}", words)
    console.print(table)


def run_explore(config: ExploreConfig) -> ExploreReport:
    """`rnnkit explore`: explore the embedded corpus and print the figures with rich."""
    start = time.perf_counter()
    report = explore(load_corpus(config.max_chars), config)
    render_report(report, config)
    console.print(f"done in {time.perf_counter() - start:.1f} s")
    return report


def represent_command(
    sentence: str, *, kind: ViewKind, n: int, vocab_path: Path | None, min_freq: int
) -> None:
    """`rnnkit represent`: vectors of a sentence over a vocab from a file or the corpus."""
    text = load_corpus()
    if vocab_path is not None:
        vocab = Vocab.load(vocab_path)
        vocab.tokenizer = vocab.tokenizer or WORDS
    else:
        vocab = Vocab.build_from_iterator(text.splitlines(), WORDS, min_freq=min_freq)
        console.print(f"lexicon: {len(vocab):,} tokens of {CORPUS_NAME} seen ≥ {min_freq} times")
    documents = [speech for _, speech in speeches(text)] if kind in ("bow", "all") else []
    show_sentence(sentence, vocab, n=n, kind=kind, documents=documents)

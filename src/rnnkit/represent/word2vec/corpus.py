"""Corpus reader for word2vec: text files, .gz files, folders or token lists -> one int32 id array.

The corpus is read and tokenised exactly once. Each token is mapped to a provisional id on the
fly, so what stays in memory is one int32 array (4 bytes a word: 15.6M words are 62 MB) and the
table of distinct words, never the text. Counting that array gives the vocabulary; words seen
fewer than `min_count` times are then removed from the array (as gensim does, so a window spans
over them) and the remaining ids are renumbered in descending-count order. Every epoch then
runs over this array.

    CORPUS = a text file | a .gz file | a folder of them (sorted, recursive) | token lists

A file is one document: windows run across its line breaks (book text wraps mid-sentence) but
never across files. An in-memory iterable yields token lists, and each list is one sentence.
Text is cut with `rnnkit.text.tokenize.word_tokenize` (lower-cased by default).

References:
    T. Mikolov, K. Chen, G. Corrado and J. Dean, "Efficient Estimation of Word Representations
    in Vector Space", ICLR workshop 2013.
"""

from __future__ import annotations

import gzip
import logging
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnkit.errors import DataError
from rnnkit.text.files import regular_file
from rnnkit.text.tokenize import word_tokenize

logger = logging.getLogger(__name__)

Corpus = str | Path | Iterable[Sequence[str]]
SUFFIXES = (".txt", ".gz")  # files a corpus folder contributes; others (manifest.tsv) are skipped
_LINES_PER_BLOCK = 4096  # lines joined before one tokenizer call (fewer Python calls)


@dataclass(frozen=True, eq=False)
class EncodedCorpus:
    """A corpus as word ids over its vocabulary, words in descending-count order.

    Shapes: ids (N,) int32 in [0, V); starts (D + 1,) int64, document d is
    ids[starts[d]:starts[d+1]]; counts (V,) int64, the number of times each word occurs.
    """

    words: list[str]  # V words, most frequent first
    counts: np.ndarray  # (V,) int64
    ids: np.ndarray  # (N,) int32
    starts: np.ndarray  # (D + 1,) int64 document boundaries
    raw_words: int  # tokens read, including those dropped by min_count


def corpus_files(path: str | Path) -> list[Path]:
    """A corpus path's files: the file itself, or a folder's .txt/.gz files (sorted, recursive)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"corpus path not found: {path}; give a text file, a .gz or a folder")
    if not path.is_dir():  # a device or FIFO would be read forever: regular files only
        return [regular_file(path, "corpus file")]
    files = sorted(
        p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES and p.name[0] != "."
    )
    if not files:
        raise DataError(f"corpus folder {path} holds no {' or '.join(SUFFIXES)} files")
    return files


def _file_lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            yield from handle
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError) as err:
        raise DataError(f"corpus file {path} is not UTF-8 text or valid gzip: {err}") from err


def _file_token_blocks(path: Path, lowercase: bool, keep_punctuation: bool) -> Iterator[list[str]]:
    """The tokens of one file, a block of lines per list (tokens never span a line break)."""
    block: list[str] = []
    for line in _file_lines(path):
        block.append(line)
        if len(block) == _LINES_PER_BLOCK:
            yield word_tokenize(
                "".join(block), lowercase=lowercase, keep_punctuation=keep_punctuation
            )
            block = []
    yield word_tokenize("".join(block), lowercase=lowercase, keep_punctuation=keep_punctuation)


def _documents(
    corpus: Corpus, lowercase: bool, keep_punctuation: bool
) -> Iterator[Iterator[list[str]]]:
    """Each document of the corpus as an iterator of token blocks."""
    if isinstance(corpus, str | Path):
        for path in corpus_files(corpus):
            yield _file_token_blocks(path, lowercase, keep_punctuation)
        return
    for number, sentence in enumerate(corpus):
        if isinstance(sentence, str | bytes) or not all(isinstance(t, str) for t in sentence):
            raise DataError(
                f"an in-memory corpus must yield lists of str tokens; item {number} is "
                f"{sentence!r:.60}. Tokenise each text first (rnnkit.text.tokenize.word_tokenize)"
            )
        yield iter([[token.lower() for token in sentence] if lowercase else list(sentence)])


def _encode_provisional(
    corpus: Corpus, lowercase: bool, keep_punctuation: bool
) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """One pass: (word -> first-seen id, ids (N,) int32, document starts (D + 1,) int64)."""
    index: dict[str, int] = {}
    ids = array("i")
    starts = [0]
    for document in _documents(corpus, lowercase, keep_punctuation):
        for tokens in document:
            ids.extend([index.setdefault(token, len(index)) for token in tokens])
        starts.append(len(ids))
    return index, np.frombuffer(ids, dtype=np.int32).copy(), np.asarray(starts, dtype=np.int64)


def encode_corpus(
    corpus: Corpus,
    *,
    min_count: int = 5,
    max_vocab_size: int | None = None,
    window: int = 5,
    lowercase: bool = True,
    keep_punctuation: bool = False,
) -> EncodedCorpus:
    """Read, tokenise and number a corpus in one pass; drop words under `min_count`.

    Args:
        corpus: a text file, a .gz file, a folder of them, or an iterable of token lists.
        min_count: words occurring fewer times are removed from the corpus.
        max_vocab_size: keep only this many of the most frequent words (None: no cap).
        window: the training window; a corpus must hold more words than this.
        lowercase: fold tokens to lower case.
        keep_punctuation: keep tokens without a letter or digit.

    Returns:
        The EncodedCorpus; ties in count keep the order of first appearance.

    Raises:
        DataError: missing path, empty corpus, all words under min_count, or no more words
            than the window.

    >>> enc = encode_corpus([["a", "b", "a"], ["c", "a", "b"]], min_count=2, window=2)
    >>> enc.words, enc.counts.tolist(), enc.ids.tolist(), enc.starts.tolist()
    (['a', 'b'], [3, 2], [0, 1, 0, 0, 1], [0, 3, 5])
    """
    index, raw_ids, raw_starts = _encode_provisional(corpus, lowercase, keep_punctuation)
    if raw_ids.size == 0:
        raise DataError(f"the corpus {_describe(corpus)} holds no words (after tokenising)")
    counts = np.bincount(raw_ids, minlength=len(index))
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] >= min_count][:max_vocab_size]
    if order.size == 0:
        top = int(np.argmax(counts))
        raise DataError(
            f"all {len(index)} distinct words occur fewer than min_count={min_count} times (the "
            f"most frequent, {_word_at(index, top)!r}, occurs {counts[top]} times); lower min_count"
        )
    new_id = np.full(len(index), -1, dtype=np.int64)
    new_id[order] = np.arange(order.size)
    ids = new_id[raw_ids]
    kept = ids >= 0
    kept_before = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])
    if int(kept_before[-1]) <= window:
        raise DataError(
            f"the corpus has {int(kept_before[-1])} words seen at least min_count={min_count} "
            f"times; it needs more than window={window}. Give more text or lower min_count"
        )
    words = [""] * order.size
    for word, old in index.items():
        if new_id[old] >= 0:
            words[new_id[old]] = word
    logger.info("corpus: %d words, %d kept, vocabulary %d", raw_ids.size, kept.sum(), order.size)
    return EncodedCorpus(
        words=words,
        counts=counts[order].astype(np.int64),
        ids=ids[kept].astype(np.int32),
        starts=kept_before[raw_starts],
        raw_words=int(raw_ids.size),
    )


def _word_at(index: dict[str, int], position: int) -> str:
    return next(word for word, i in index.items() if i == position)


def _describe(corpus: Corpus) -> str:
    return str(corpus) if isinstance(corpus, str | Path) else "(in-memory token lists)"

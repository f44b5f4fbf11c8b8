"""Gutenberg corpus reader: the real manifest and two small books, and every error on tiny files."""

from __future__ import annotations

import gzip
import hashlib
from collections import Counter
from pathlib import Path

import pytest

from rnnkit.datasets.gutenberg import (
    COLUMNS,
    GutenbergBook,
    GutenbergCorpus,
    read_manifest,
    strip_boilerplate,
)
from rnnkit.datasets.shared import find_shared
from rnnkit.errors import DataError

CORPUS = pytest.mark.shared_data("english_corpus")  # shared/data/README.md §9 (tests/conftest.py)


@pytest.fixture(scope="module")
def corpus() -> GutenbergCorpus:
    return GutenbergCorpus(find_shared("english_corpus"))


def _book(corpus: GutenbergCorpus, file: str) -> GutenbergBook:
    return next(book for book in corpus.books if book.file == file)


# -- the real files -----------------------------------------------------------------------------
@CORPUS
def test_manifest_matches_the_data_readme(corpus: GutenbergCorpus) -> None:
    assert len(corpus.books) == 196
    assert Counter(book.split for book in corpus.books) == {"train": 174, "valid": 14, "test": 8}
    splits = ("train", "valid", "test")
    words = {split: sum(b.words for b in corpus.books_in(split)) for split in splits}
    body = {split: sum(b.body_words for b in corpus.books_in(split)) for split in splits}
    assert words == {"train": 14_007_502, "valid": 1_030_342, "test": 585_631}
    assert body == {"train": 13_482_801, "valid": 988_629, "test": 561_540}
    first = corpus.books[0]
    assert (first.file, first.pg_ebook) == ("pg00011.txt.gz", 11)
    assert first.title == "Alice\u2019s Adventures in Wonderland"  # PG's curly apostrophe


@CORPUS
def test_split_rule_is_the_ebook_number_mod_20(corpus: GutenbergCorpus) -> None:
    rule = {1: "valid", 2: "test"}
    assert all(book.split == rule.get(book.pg_ebook % 20, "train") for book in corpus.books)


@CORPUS
def test_escaped_carriage_return_in_source_path_is_restored(corpus: GutenbergCorpus) -> None:
    book = _book(corpus, "pg00146.txt.gz")
    assert book.source_path.startswith("Burnett, Frances Hodgson/A Little Princess\rBeing")


@CORPUS
@pytest.mark.parametrize("file", ["pg01189.txt.gz", "pg08702.txt.gz"])  # the two smallest books
def test_small_book_body_and_whole_file_word_counts(corpus: GutenbergCorpus, file: str) -> None:
    book = _book(corpus, file)
    body = corpus.read(book, verify=True)
    whole = corpus.read(book, boilerplate=True)
    assert len(body.split()) == book.body_words
    assert len(whole.split()) == book.words
    assert "\r" not in whole
    assert "START OF" not in body
    assert "END OF" not in body
    assert body in whole


@CORPUS
def test_texts_starts_with_the_first_book_of_the_split(corpus: GutenbergCorpus) -> None:
    test_books = corpus.books_in("test")
    assert test_books[0].file == "pg00062.txt.gz"  # A Princess of Mars, 62 mod 20 = 2
    assert next(corpus.texts("test")) == corpus.read(test_books[0])


# -- errors, on generated tiny corpora ----------------------------------------------------------
BODY = "Chapter 1\r\n\r\nIt was a dark night.\r\n"
TEXT = f"The header\r\n*** START OF THIS BOOK ***\r\n{BODY}*** END OF THIS BOOK ***\r\nLicence\r\n"


def _write_corpus(root: Path, text: str = TEXT, *, rows: list[str] | None = None) -> Path:
    raw = text.encode("utf-8")
    root.mkdir(exist_ok=True)
    (root / "pg00001.txt.gz").write_bytes(gzip.compress(raw))
    row = "\t".join(
        ["pg00001.txt.gz", "1", "A Title", "An Author", "valid", "Author/A Title.txt",
         str(len(raw)), hashlib.sha256(raw).hexdigest(), str(len(text.split())), "7", "abc"]
    )  # fmt: skip
    lines = ["\t".join(COLUMNS), *(rows if rows is not None else [row])]
    (root / "manifest.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_tiny_corpus_reads_its_body(tmp_path: Path) -> None:
    corpus = GutenbergCorpus(_write_corpus(tmp_path / "c"))
    (book,) = corpus.books_in("valid")
    assert corpus.read(book, verify=True) == "Chapter 1\n\nIt was a dark night."
    assert list(corpus.texts("train")) == []


def test_texts_reads_one_book_at_a_time(tmp_path: Path) -> None:
    root = _write_corpus(tmp_path / "c")
    first = (root / "manifest.tsv").read_text(encoding="utf-8").splitlines()[1]
    second = first.replace("pg00001", "pg00021").replace("\t1\t", "\t21\t", 1)
    _write_corpus(root, rows=[first, second])  # pg00021.txt.gz does not exist
    stream = GutenbergCorpus(root).texts("valid")
    assert next(stream) == "Chapter 1\n\nIt was a dark night."  # read before the second is opened
    with pytest.raises(DataError, match=r"pg00021\.txt\.gz not found"):
        next(stream)


def test_missing_folder_and_manifest(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="folder not found"):
        GutenbergCorpus(tmp_path / "absent")
    with pytest.raises(DataError, match=r"manifest\.tsv not found"):
        GutenbergCorpus(tmp_path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("pg00002.txt.gz\t2\tT", r"line 3: expected 11 tab-separated columns"),
        ("pg00002.txt.gz\tx2\tT\tA\ttrain\tp\t1\ts\t1\t1\tb", r"line 3: column pg_ebook"),
        ("pg00002.txt.gz\t2\tT\tA\tdev\tp\t1\ts\t1\t1\tb", r"line 3: split must be one of"),
        ("book2.txt\t2\tT\tA\ttrain\tp\t1\ts\t1\t1\tb", r"line 3: file must look like"),
    ],
)
def test_bad_manifest_row_names_its_line(tmp_path: Path, row: str, message: str) -> None:
    root = _write_corpus(tmp_path / "c")
    good = (root / "manifest.tsv").read_text(encoding="utf-8").splitlines()[1]
    _write_corpus(root, rows=[good, row])
    with pytest.raises(DataError, match=message):
        read_manifest(root)


def test_bad_header_and_empty_manifest(tmp_path: Path) -> None:
    root = _write_corpus(tmp_path / "c")
    (root / "manifest.tsv").write_text("file\tsplit\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 1: expected the header"):
        read_manifest(root)
    _write_corpus(root, rows=[])
    with pytest.raises(DataError, match="lists no book"):
        read_manifest(root)


def test_missing_book_file_and_unknown_split(tmp_path: Path) -> None:
    corpus = GutenbergCorpus(_write_corpus(tmp_path / "c"))
    (tmp_path / "c" / "pg00001.txt.gz").unlink()
    with pytest.raises(DataError, match=r"pg00001\.txt\.gz not found"):
        corpus.read(corpus.books[0])
    with pytest.raises(DataError, match="split must be one of"):
        corpus.books_in("dev")  # type: ignore[arg-type]


def test_checksum_and_size_mismatch_with_verify(tmp_path: Path) -> None:
    corpus = GutenbergCorpus(_write_corpus(tmp_path / "c"))
    damaged = TEXT.replace("dark", "dork").encode("utf-8")  # same size, other bytes
    (tmp_path / "c" / "pg00001.txt.gz").write_bytes(gzip.compress(damaged))
    assert "dork" in corpus.read(corpus.books[0])  # without verify the text is read as is
    with pytest.raises(DataError, match="sha256 mismatch"):
        corpus.read(corpus.books[0], verify=True)
    (tmp_path / "c" / "pg00001.txt.gz").write_bytes(gzip.compress(damaged + b"x"))
    with pytest.raises(DataError, match="bytes uncompressed"):
        corpus.read(corpus.books[0], verify=True)


def test_not_gzip_not_utf8_and_missing_markers(tmp_path: Path) -> None:
    root = _write_corpus(tmp_path / "c")
    corpus = GutenbergCorpus(root)
    (root / "pg00001.txt.gz").write_bytes(b"plain text, not gzip")
    with pytest.raises(DataError, match="not a readable gzip file"):
        corpus.read(corpus.books[0])
    (root / "pg00001.txt.gz").write_bytes(gzip.compress(b"\xff\xfe*** START OF X"))
    with pytest.raises(DataError, match="not UTF-8"):
        corpus.read(corpus.books[0])
    _write_corpus(root, "no markers here\r\n")
    with pytest.raises(DataError, match="START OF"):
        corpus.read(corpus.books[0])
    with pytest.raises(DataError, match="END OF"):
        strip_boilerplate("*** START OF X\nbody\n")


def test_lf_and_cr_line_ends_read_like_crlf(tmp_path: Path) -> None:
    root = _write_corpus(tmp_path / "c", TEXT.replace("\r\n", "\n"))
    corpus = GutenbergCorpus(root)
    assert corpus.read(corpus.books[0]) == "Chapter 1\n\nIt was a dark night."
    _write_corpus(root, TEXT.replace("\r\n", "\r"))
    assert corpus.read(corpus.books[0]) == "Chapter 1\n\nIt was a dark night."

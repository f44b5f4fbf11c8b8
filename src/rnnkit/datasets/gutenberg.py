"""Reader for the Project Gutenberg books in `shared/data/english_corpus/`: manifest and texts.

The corpus is 196 public-domain English books (15.6M words), one gzip file `pgNNNNN.txt.gz`
per book, listed in `manifest.tsv` with a suggested split by book (e-book number mod 20:
1 → valid, 2 → test, else train). Each file is the e-text as Project Gutenberg published it:
UTF-8, CRLF line endings (one book, pg00376, has LF only), PG's header and licence included.
`strip_boilerplate` keeps only the lines strictly between the first `*** START OF` line and the
first `*** END OF` line after it, as `shared/data/README.md` §9 defines the body.

Source: Project Gutenberg, https://www.gutenberg.org, via the GitHub collection
rcdm-uga/Gutenberg_Text @ a0b16d3 (University of Georgia DigiLab); the selection rule is in
`shared/data/README.md` §9. Licence: public domain in the US; each file carries the Project
Gutenberg License, which allows copying the file as it stands. Cite a book by its e-book
number ("Project Gutenberg EBook #1342"). Keep the data under `shared/`; do not ship it.

References:
    Project Gutenberg, https://www.gutenberg.org/policy/license.html
    https://github.com/rcdm-uga/Gutenberg_Text
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from rnnkit.errors import DataError

Split = Literal["train", "valid", "test"]
SPLITS: tuple[str, ...] = ("train", "valid", "test")
MANIFEST = "manifest.tsv"
_START = re.compile(r"^\*\*\* ?START OF")
_END = re.compile(r"^\*\*\* ?END OF")
_FILE = re.compile(r"^pg\d{5}\.txt\.gz$")


@dataclass(frozen=True, kw_only=True)
class GutenbergBook:
    """One row of `manifest.tsv`: a book, its split and its checksums."""

    file: str  # pgNNNNN.txt.gz, relative to the corpus folder
    pg_ebook: int  # Project Gutenberg e-book number
    title: str
    author: str
    split: str  # train, valid or test
    source_path: str  # path in rcdm-uga/Gutenberg_Text ("\r" restored from the escaped "\\r")
    bytes: int  # size of the uncompressed file
    sha256_uncompressed: str  # hex sha256 of the uncompressed bytes
    words: int  # whitespace-separated words of the whole file
    body_words: int  # words strictly between the START and END marker lines
    git_blob: str  # git blob id of the file in the source repository


COLUMNS: tuple[str, ...] = tuple(field.name for field in fields(GutenbergBook))
_INT_COLUMNS = frozenset({"pg_ebook", "bytes", "words", "body_words"})


def _parse_row(line: str, line_number: int, path: Path) -> GutenbergBook:
    """A manifest line as a GutenbergBook; DataError naming the file, line and column."""
    cells = line.split("\t")
    if len(cells) != len(COLUMNS):
        raise DataError(
            f"{path}, line {line_number}: expected {len(COLUMNS)} tab-separated columns "
            f"({', '.join(COLUMNS)}), got {len(cells)}"
        )
    values: dict[str, object] = {}
    for name, cell in zip(COLUMNS, cells, strict=True):
        if name in _INT_COLUMNS:
            if not cell.isdigit():
                raise DataError(
                    f"{path}, line {line_number}: column {name} must be a non-negative integer, "
                    f"got {cell!r}"
                )
            values[name] = int(cell)
        else:
            values[name] = cell.replace("\\r", "\r") if name == "source_path" else cell
    if values["split"] not in SPLITS:
        raise DataError(
            f"{path}, line {line_number}: split must be one of {', '.join(SPLITS)}, "
            f"got {values['split']!r}"
        )
    if not _FILE.match(str(values["file"])):
        raise DataError(
            f"{path}, line {line_number}: file must look like pgNNNNN.txt.gz, "
            f"got {values['file']!r}"
        )
    return GutenbergBook(**values)  # type: ignore[arg-type]


def read_manifest(root: str | Path) -> list[GutenbergBook]:
    """The books listed in `root/manifest.tsv`, in file order, checked row by row.

    Raises:
        DataError: the folder or the manifest is missing, the header is not the expected
            columns, or a row is malformed (the message gives its line number).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(
            f"Gutenberg corpus folder not found: {root}; expected shared/data/english_corpus "
            "beside the repository (see shared/data/README.md §9)"
        )
    path = root / MANIFEST
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as err:
        raise DataError(f"{path} not found; the corpus folder must hold {MANIFEST}") from err
    if not lines or tuple(lines[0].split("\t")) != COLUMNS:
        header = lines[0] if lines else "(empty file)"
        expected = "\t".join(COLUMNS)
        raise DataError(f"{path}, line 1: expected the header {expected!r}, got {header!r}")
    books = [
        _parse_row(line, number, path)
        for number, line in enumerate(lines[1:], start=2)
        if line.strip()
    ]
    if not books:
        raise DataError(f"{path} lists no book")
    return books


def strip_boilerplate(text: str, *, name: str = "text") -> str:
    """The lines strictly between the first `*** START OF` line and the next `*** END OF` line.

    >>> strip_boilerplate("header\\n*** START OF X ***\\nbody 1\\nbody 2\\n*** END OF X ***\\nend")
    'body 1\\nbody 2'

    Raises:
        DataError: a marker line is missing (`name` says which text).
    """
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if _START.match(line)), None)
    if start is None:
        raise DataError(f"{name}: no line starts with '*** START OF'; is it a Gutenberg e-text?")
    end = next((i for i in range(start + 1, len(lines)) if _END.match(lines[i])), None)
    if end is None:
        raise DataError(f"{name}: no '*** END OF' line after the '*** START OF' line")
    return "\n".join(lines[start + 1 : end])


class GutenbergCorpus:
    """The corpus folder: its manifest, and the books read one at a time.

    Args:
        root: the folder holding `manifest.tsv` and the `pgNNNNN.txt.gz` files.

    Example (needs the data, so not run as a doctest):
        corpus = GutenbergCorpus("../shared/data/english_corpus")
        for text in corpus.texts("valid"):  # one book in memory at a time
            ...
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.books: tuple[GutenbergBook, ...] = tuple(read_manifest(self.root))

    def __repr__(self) -> str:
        return f"GutenbergCorpus({str(self.root)!r}, books={len(self.books)})"

    def books_in(self, split: Split) -> list[GutenbergBook]:
        """The books of one split, in manifest order; DataError for an unknown split name."""
        if split not in SPLITS:
            raise DataError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        return [book for book in self.books if book.split == split]

    def read(self, book: GutenbergBook, *, boilerplate: bool = False, verify: bool = False) -> str:
        """The text of one book with "\\n" line ends; PG's header and licence cut unless asked.

        Args:
            book: a row of the manifest.
            boilerplate: keep PG's header and licence (False keeps only the body).
            verify: check the size and sha256 of the uncompressed bytes against the manifest.

        Raises:
            DataError: the file is missing, not gzip, not UTF-8, fails the check, or (without
                boilerplate) lacks a marker line.
        """
        path = self.root / book.file
        try:
            with gzip.open(path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError as err:
            raise DataError(f"{path} not found; the manifest lists it ({book.title!r})") from err
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(f"{path} is not a readable gzip file: {err}") from err
        if verify:
            _verify(raw, book, path)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DataError(f"{path} is not UTF-8 (byte {err.start})") from err
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return text if boilerplate else strip_boilerplate(text, name=str(path))

    def texts(
        self, split: Split, *, boilerplate: bool = False, verify: bool = False
    ) -> Iterator[str]:
        """The texts of one split's books, read lazily one book at a time (see `read`)."""
        for book in self.books_in(split):
            yield self.read(book, boilerplate=boilerplate, verify=verify)


def _verify(raw: bytes, book: GutenbergBook, path: Path) -> None:
    """DataError unless the uncompressed bytes have the manifest's size and sha256."""
    if len(raw) != book.bytes:
        raise DataError(
            f"{path}: expected {book.bytes} bytes uncompressed (manifest), got {len(raw)}; "
            "the file is damaged or not the listed version"
        )
    digest = hashlib.sha256(raw).hexdigest()
    if digest != book.sha256_uncompressed:
        raise DataError(
            f"{path}: sha256 mismatch, expected {book.sha256_uncompressed} (manifest), got "
            f"{digest}; the file is damaged or not the listed version"
        )


__all__ = [
    "COLUMNS",
    "SPLITS",
    "GutenbergBook",
    "GutenbergCorpus",
    "read_manifest",
    "strip_boilerplate",
]

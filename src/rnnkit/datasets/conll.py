"""CoNLL files: a token per line, columns split by spaces or a TAB, blank line after a sentence.

    Melbourne NP B-LOC          token, then any columns (here POS), the tag last
    ( Fpa O
    <blank line>                end of sentence (also a line of only spaces or a TAB, as WNUT-17)
    -DOCSTART- -DOCSTART- O     start of a document (CoNLL-2002 Dutch, CoNLL-2003)

Tags must be O or B-/I-/E-/S- plus a type (`rnnkit.text.tags`). A malformed line (a column
count that differs from the file's first line, an empty token, a bad tag) is a DataError naming
file:line. `write_conll` writes a corpus back in the same layout, so reading it again gives the
same corpus.

Data (see `../shared/data/README.md` §4a, §4b):
    CoNLL-2002 (Spanish EFE newswire, Dutch De Morgen) in the NLTK edition with a POS column,
        IOB2, PER/ORG/LOC/MISC; research use only (CoNLL-2002 terms). Tjong Kim Sang,
        Introduction to the CoNLL-2002 Shared Task: Language-Independent Named Entity
        Recognition, CoNLL 2002. https://github.com/nltk/nltk_data (conll2002.zip)
    WNUT-17 (English social media), `token<TAB>tag`, BIO, six types; CC BY 4.0. Derczynski,
        Nichols, van Erp, Limsopatham, Results of the WNUT2017 Shared Task on Novel and Emerging
        Entity Recognition, W-NUT 2017. https://github.com/leondz/emerging_entities_17
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rnnkit.errors import DataError
from rnnkit.text.tags import TAG_PATTERN
from rnnkit.text.tokenize import MARK_RUN_PATTERN, Tokenizer

DOCSTART = "-DOCSTART-"
CONLL2002_FILES = {"es": "esp", "nl": "ned"}
CONLL2002_SPLITS = {"train": "train", "testa": "testa", "testb": "testb", "dev": "testa",
                    "test": "testb"}  # fmt: skip
WNUT17_FILES = {
    "train": "wnut17train.conll",
    "dev": "emerging.dev.conll",
    "test": "emerging.test.annotated",
}
# How raw text becomes the tokens of these corpora: case kept, punctuation split off, a run of one
# mark ("...", "--", "!!") one token, NFC (the files are NFC). An ner run stores it and cuts typed
# text with it; tests/datasets/test_conll.py measures how many corpus tokens it gives back.
CONLL_TOKENS = Tokenizer(kind="regex", pattern=MARK_RUN_PATTERN, normalize="NFC")


@dataclass(frozen=True)
class ConllSentence:
    """One sentence: its rows (all columns of each token), with the token and tag columns."""

    rows: tuple[tuple[str, ...], ...]
    token_column: int = 0
    tag_column: int = -1

    @property
    def tokens(self) -> list[str]:
        """The words, one per row."""
        return [row[self.token_column] for row in self.rows]

    @property
    def tags(self) -> list[str]:
        """The entity tags, one per row."""
        return [row[self.tag_column] for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class ConllDocument:
    """Sentences under one -DOCSTART- line (`header`, its columns), or None before any."""

    sentences: list[ConllSentence] = field(default_factory=list)
    header: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ConllCorpus:
    """A whole file: documents of sentences, the column separator and the source name."""

    documents: list[ConllDocument]
    delimiter: str = " "
    name: str = ""

    @property
    def sentences(self) -> list[ConllSentence]:
        """Every sentence of every document, in file order."""
        return [sentence for document in self.documents for sentence in document.sentences]

    @property
    def entity_types(self) -> list[str]:
        """The entity types of the tags, sorted."""
        return sorted({tag[2:] for s in self.sentences for tag in s.tags if tag != "O"})


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:  # any run of whitespace
        return line.split()
    return line.rstrip("\r\n").split(delimiter)


def _check_row(columns: list[str], width: int, tag_column: int, where: str) -> None:
    if len(columns) != width:
        raise DataError(
            f"{where}: expected {width} columns like the file's first token line, got "
            f"{len(columns)}: {columns!r}"
        )
    if any(not column for column in columns):
        raise DataError(f"{where}: empty column (token or tag) in {columns!r}")
    if not TAG_PATTERN.fullmatch(columns[tag_column]):
        raise DataError(
            f"{where}: tag must be O or B-/I-/E-/S- followed by a type, got {columns[tag_column]!r}"
        )


def parse_conll(
    lines: Iterable[str],
    *,
    name: str = "<lines>",
    token_column: int = 0,
    tag_column: int = -1,
    delimiter: str | None = None,
) -> ConllCorpus:
    """Read CoNLL lines; `delimiter` None: a TAB if the first token line has one, else spaces.

    >>> corpus = parse_conll(["Harry B-PER", "Potter I-PER", "", "met O"])
    >>> [s.tokens for s in corpus.sentences], corpus.sentences[0].tags
    ([['Harry', 'Potter'], ['met']], ['B-PER', 'I-PER'])
    """
    documents = [ConllDocument()]
    rows: list[tuple[str, ...]] = []
    width = 0

    def close_sentence() -> None:
        if rows:
            documents[-1].sentences.append(
                ConllSentence(tuple(rows), token_column=token_column, tag_column=tag_column)
            )
            rows.clear()

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            close_sentence()
            continue
        if width == 0 and delimiter is None:
            delimiter = "\t" if "\t" in line.strip(" \r\n") else None
        columns = _split(line, delimiter)
        if columns[0] == DOCSTART:
            close_sentence()
            documents.append(ConllDocument(header=tuple(columns)))
            continue
        width = width or len(columns)
        if width < 2 or not -width <= tag_column < width or not -width <= token_column < width:
            raise DataError(
                f"{name}:{number}: need a token and a tag column, got {len(columns)} column(s)"
            )
        _check_row(columns, width, tag_column, f"{name}:{number}")
        rows.append(tuple(columns))
    close_sentence()
    if not documents[0].sentences and documents[0].header is None and len(documents) > 1:
        documents.pop(0)
    return ConllCorpus(documents, "\t" if delimiter == "\t" else " ", name)


def read_conll(
    path: str | Path, *, token_column: int = 0, tag_column: int = -1, delimiter: str | None = None
) -> ConllCorpus:
    """Read a CoNLL file (UTF-8); DataError if it is missing, unreadable or holds no sentence."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"CoNLL file {path} not found; check --data (the folder holding it)")
    try:
        with path.open(encoding="utf-8") as handle:
            corpus = parse_conll(
                handle, name=str(path), token_column=token_column, tag_column=tag_column,
                delimiter=delimiter,
            )  # fmt: skip
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is not UTF-8 text ({err}); convert it with iconv") from err
    if not corpus.sentences:
        raise DataError(f"{path} holds no sentence (token lines separated by blank lines)")
    return corpus


def format_conll(corpus: ConllCorpus) -> str:
    """The corpus as CoNLL text: header lines, sentences separated by one blank line."""
    lines: list[str] = []
    for document in corpus.documents:
        if document.header is not None:
            lines.append(corpus.delimiter.join(document.header))
        for sentence in document.sentences:
            lines.extend(corpus.delimiter.join(row) for row in sentence.rows)
            lines.append("")
    return "\n".join(lines) + ("\n" if lines else "")


def write_conll(path: str | Path, corpus: ConllCorpus) -> Path:
    """Write `corpus` to `path` (UTF-8); `read_conll(path)` gives it back."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_conll(corpus), encoding="utf-8")
    return path


def tagged_corpus(
    sentences: Sequence[tuple[Sequence[str], Sequence[str]]], *, delimiter: str = " "
) -> ConllCorpus:
    """A one-document corpus of (tokens, tags) pairs, e.g. predictions to write out."""
    built = [ConllSentence(tuple(zip(tokens, tags, strict=True))) for tokens, tags in sentences]
    return ConllCorpus([ConllDocument(built)], delimiter)


def _folder(root: str | Path, name: str) -> Path:
    root = Path(root)
    return root / name if (root / name).is_dir() else root


def load_conll2002(root: str | Path, language: str, split: str) -> ConllCorpus:
    """CoNLL-2002 `language` ("es" or "nl") `split` (train, testa = dev, testb = test).

    `root` is the `ner_conll2002` folder or the folder holding it.
    """
    if language not in CONLL2002_FILES or split not in CONLL2002_SPLITS:
        raise DataError(
            f"CoNLL-2002 has languages {sorted(CONLL2002_FILES)} and splits "
            f"{sorted(CONLL2002_SPLITS)}; got {language!r}, {split!r}"
        )
    stem = f"{CONLL2002_FILES[language]}.{CONLL2002_SPLITS[split]}"
    return read_conll(_folder(root, "ner_conll2002") / stem)


def load_wnut17(root: str | Path, split: str) -> ConllCorpus:
    """WNUT-17 `split` (train, dev, test); `root` is `ner_wnut17` or the folder holding it."""
    if split not in WNUT17_FILES:
        raise DataError(f"WNUT-17 has splits {sorted(WNUT17_FILES)}; got {split!r}")
    return read_conll(_folder(root, "ner_wnut17") / WNUT17_FILES[split], delimiter="\t")

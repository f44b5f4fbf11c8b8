"""Readers for labelled texts (review polarity, SMS spam, your own CSV/JSONL) and k-fold splits.

Formats (`shared/data/README.md` §2a, §2b, §3):
    sentiment_rt_polarity/  rt-polarity.pos, rt-polarity.neg: one lower-cased, tokenised sentence
                            per line (5,331 + 5,331). Pang & Lee, ACL 2005. CC BY 4.0.
    sentiment_movie_reviews/movie_reviews.zip: movie_reviews/{pos,neg}/cvNNN_*.txt, one review
                            per file (1,000 + 1,000); fold = NNN // 100 is the authors' 10-fold
                            cross-validation index. Pang & Lee, ACL 2004. CC BY 4.0.
    sms_spam/SMSSpamCollection: `ham|spam<TAB>text` per line (4,827 ham, 747 spam). Almeida,
                            Gómez Hidalgo & Yamakami, DocEng 2011; UCI, CC BY 4.0.
    your own                a .csv/.tsv with a header, or a .jsonl of objects, with `text` and
                            `label`.

Splits are stratified and seeded: the examples of each class are shuffled with a generator made
from `seed` and dealt round-robin into k folds, so every fold holds ≈ 1/k of every class.

References:
    Pang & Lee. Seeing stars: Exploiting class relationships for sentiment categorization with
        respect to rating scales. ACL 2005.
    Pang & Lee. A Sentimental Education: Sentiment Analysis Using Subjectivity Summarization
        Based on Minimum Cuts. ACL 2004.
    Almeida, Gómez Hidalgo & Yamakami. Contributions to the Study of SMS Spam Filtering: New
        Collection and Results. DocEng 2011.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from rnnkit.errors import DataError
from rnnkit.seeding import make_generator
from rnnkit.text import files
from rnnkit.text.tokenize import MARK_RUN_PATTERN, Tokenizer

DatasetName = Literal["rt_polarity", "movie_reviews", "sms_spam", "csv"]
# How each reader's texts become tokens; a run stores it and cuts typed text with it too. The
# polarity files are lower-cased with punctuation split off by spaces, so their normalisation
# lower-cases and splits punctuation: a file line gives back its own tokens (bar a few, such as
# "writer/director"; tests/datasets/test_labelled_text.py measures the share) and typed
# "Great Film!" gives great, film, ! as the files write them. All files are NFC already.
POLARITY_TOKENS = Tokenizer(kind="regex", pattern=MARK_RUN_PATTERN, lowercase=True, normalize="NFC")
WORDS_LOWER = Tokenizer(kind="word", lowercase=True, normalize="NFC")  # SMS and your own files
_REVIEW = re.compile(r"^movie_reviews/(pos|neg)/cv(\d{3})_[^/]+\.txt$")


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with class ids; `classes[k]` names class k; `folds` is a published CV index or None."""

    name: str
    texts: list[str]
    labels: list[int]
    classes: tuple[str, ...]
    tokenizer: Tokenizer  # how these texts are meant to be cut into tokens
    folds: list[int] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def class_counts(self) -> list[int]:
        """Examples per class, in class-id order."""
        return [self.labels.count(c) for c in range(len(self.classes))]

    def subset(self, indices: Sequence[int]) -> LabelledTexts:
        """The examples at `indices`, in that order."""
        return LabelledTexts(
            self.name,
            [self.texts[i] for i in indices],
            [self.labels[i] for i in indices],
            self.classes,
            self.tokenizer,
            None if self.folds is None else [self.folds[i] for i in indices],
        )


def _read_text(path: Path) -> str:
    """A regular file's UTF-8 text, bounded, a leading byte order mark dropped (`text.files`)."""
    return files.read_text(path, encoding="utf-8-sig")


def _read_lines(path: Path) -> list[str]:
    """The lines of a file, split at \\n (or \\r\\n) only.

    A JSON string or an SMS may hold U+2028, \\x0c or \\x85, where `str.splitlines` would cut
    the record in two.
    """
    lines = _read_text(path).split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _check_texts(texts: Iterable[str], where: str, first_line: int = 1) -> None:
    for number, text in enumerate(texts, start=first_line):
        if not text.strip():
            raise DataError(f"{where}: line {number} holds an empty text; remove it or fill it in")


def _check_classes(labels: list[int], classes: Sequence[str], where: str) -> None:
    present = sorted(set(labels))
    if len(present) < 2:
        found = [classes[c] for c in present]
        raise DataError(
            f"{where}: a classifier needs at least two classes; found only {found}"
            f" in {len(labels)} examples"
        )


def load_rt_polarity(root: str | Path) -> LabelledTexts:
    """Sentence polarity: class 0 "negative" (rt-polarity.neg), class 1 "positive"."""
    root = Path(root)
    texts, labels = [], []
    for label, suffix in enumerate(("neg", "pos")):
        path = root / f"rt-polarity.{suffix}"
        lines = _read_lines(path)
        if lines and not lines[-1].strip():
            lines = lines[:-1]
        _check_texts(lines, str(path))
        texts += lines
        labels += [label] * len(lines)
    _check_classes(labels, ("negative", "positive"), str(root))
    return LabelledTexts("rt_polarity", texts, labels, ("negative", "positive"), POLARITY_TOKENS)


def load_movie_reviews(path: str | Path) -> LabelledTexts:
    """Full reviews from movie_reviews.zip (a folder holding it, or the zip), read in place.

    Each review's lines are joined by spaces; `folds` holds cvNNN // 100.
    """
    path = Path(path)
    archive = path / "movie_reviews.zip" if path.is_dir() else path
    texts, labels, folds = [], [], []
    try:
        with zipfile.ZipFile(archive) as zipped:
            for member in sorted(zipped.namelist()):
                match = _REVIEW.match(member)
                if match is None:
                    continue
                text = " ".join(zipped.read(member).decode("utf-8").split())
                if not text:
                    raise DataError(f"{archive}:{member} is an empty review")
                texts.append(text)
                labels.append(0 if match.group(1) == "neg" else 1)
                folds.append(int(match.group(2)) // 100)
    except FileNotFoundError as err:
        raise DataError(f"movie reviews archive not found: {archive}") from err
    except zipfile.BadZipFile as err:
        raise DataError(f"{archive} is not a zip archive: {err}") from err
    if not texts:
        raise DataError(f"{archive} holds no movie_reviews/(pos|neg)/cvNNN_*.txt member")
    _check_classes(labels, ("negative", "positive"), str(archive))
    return LabelledTexts(
        "movie_reviews", texts, labels, ("negative", "positive"), POLARITY_TOKENS, folds
    )


def load_sms_spam(path: str | Path) -> LabelledTexts:
    """SMS Spam Collection (a folder holding SMSSpamCollection, or the file): 0 "ham", 1 "spam"."""
    path = Path(path)
    file = path / "SMSSpamCollection" if path.is_dir() else path
    texts, labels = [], []
    for number, line in enumerate(_read_lines(file), start=1):
        label, tab, text = line.partition("\t")
        if not tab or label not in ("ham", "spam"):
            raise DataError(
                f"{file}: line {number} must be `ham<TAB>text` or `spam<TAB>text`; "
                f"got {line[:40]!r}"
            )
        _check_texts([text], str(file), number)
        texts.append(text)
        labels.append(int(label == "spam"))
    _check_classes(labels, ("ham", "spam"), str(file))
    return LabelledTexts("sms_spam", texts, labels, ("ham", "spam"), WORDS_LOWER)


def _rows(path: Path) -> tuple[list[dict], list[str]]:
    """The records of a .csv or .tsv (header line) or .jsonl file and the columns found."""
    if path.suffix.lower() in (".csv", ".tsv"):
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        csv.field_size_limit(files.CSV_FIELD_LIMIT)  # a text may be as long as a file may be
        reader = csv.DictReader(  # strict: an unclosed quote is an error, not a long text
            io.StringIO(_read_text(path), newline=""), delimiter=delimiter, strict=True
        )
        try:
            rows = list(reader)
        except csv.Error as err:  # e.g. an unclosed quote runs past csv's field size limit
            raise DataError(f"{path}: line {reader.line_num} is not valid CSV: {err}") from err
        return rows, list(reader.fieldnames or [])
    rows, columns = [], {}
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as err:  # also too deep, or an int of > 4300 digits
            reason = err.msg if isinstance(err, json.JSONDecodeError) else str(err)[:80]
            raise DataError(f"{path}: line {number} is not JSON: {reason}") from err
        if not isinstance(record, dict):
            raise DataError(f"{path}: line {number} must be a JSON object, got {record!r:.40}")
        columns.update(dict.fromkeys(record))
        rows.append({**record, "__line__": number})
    return rows, list(columns)


def load_labelled_file(path: str | Path) -> LabelledTexts:
    """Your own .csv/.tsv (with a header) or .jsonl with `text` and `label`; classes by name."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".tsv", ".jsonl"):
        raise DataError(f"{path}: expected a .csv, .tsv or .jsonl file with text and label columns")
    rows, columns = _rows(path)
    missing = [name for name in ("text", "label") if name not in columns]
    if missing:
        raise DataError(
            f"{path} lacks the column(s) {missing}; found {columns}. Name the columns "
            "`text` and `label`"
        )
    texts, names = [], []
    for position, row in enumerate(rows):
        number = row.get("__line__", position + 2)  # csv: line 1 is the header
        text, label = row.get("text"), row.get("label")
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{path}: line {number} holds an empty text; remove it or fill it in")
        if label is None or str(label).strip() == "":
            raise DataError(f"{path}: line {number} has no label")
        texts.append(text)
        names.append(str(label).strip())
    if not texts:
        raise DataError(f"{path} holds no examples")
    classes = tuple(sorted(set(names)))
    if len(classes) < 2:
        raise DataError(
            f"{path}: a classifier needs at least two classes; every label is {classes[0]!r}"
        )
    labels = [classes.index(name) for name in names]
    return LabelledTexts(path.stem, texts, labels, classes, WORDS_LOWER)


def detect_dataset(path: str | Path) -> DatasetName:
    """Which reader `path` needs, from the files it holds."""
    path = Path(path)
    if path.is_dir():
        if (path / "rt-polarity.pos").exists():
            return "rt_polarity"
        if (path / "movie_reviews.zip").exists():
            return "movie_reviews"
        if (path / "SMSSpamCollection").exists():
            return "sms_spam"
        raise DataError(
            f"{path} holds none of rt-polarity.pos, movie_reviews.zip, SMSSpamCollection; "
            "pass one of those folders, or a .csv/.jsonl file with text and label columns"
        )
    if path.suffix.lower() == ".zip":
        return "movie_reviews"
    if path.name == "SMSSpamCollection":
        return "sms_spam"
    return "csv"


def load_labelled(name: DatasetName | Literal["auto"], path: str | Path) -> LabelledTexts:
    """Load `path` with the reader `name` ("auto": detected from the files)."""
    if not Path(path).exists():
        raise DataError(f"data not found: {path}")
    name = detect_dataset(path) if name == "auto" else name
    readers = {
        "rt_polarity": load_rt_polarity,
        "movie_reviews": load_movie_reviews,
        "sms_spam": load_sms_spam,
        "csv": load_labelled_file,
    }
    return readers[name](path)


def stratified_folds(labels: Sequence[int], k: int, *, seed: int = 0) -> list[int]:
    """A fold id in [0, k) for every example: each class shuffled, then dealt round-robin.

    >>> stratified_folds([0, 0, 0, 0, 1, 1], 2, seed=0).count(0)
    3
    """
    if k < 2:
        raise DataError(f"k-fold splitting needs k ≥ 2 folds, got {k}")
    generator = make_generator(seed)
    folds = [0] * len(labels)
    offset = 0
    for label in sorted(set(labels)):
        members = [i for i, y in enumerate(labels) if y == label]
        order = torch.randperm(len(members), generator=generator).tolist()
        for position, index in enumerate(order):
            folds[members[index]] = (offset + position) % k
        offset += len(members)  # the next class continues the deal, so folds stay balanced
    return folds


def split_fold(
    data: LabelledTexts, fold: int, k: int, *, seed: int = 0, published: bool = True
) -> tuple[LabelledTexts, LabelledTexts]:
    """(train, test): fold `fold` of k is the test set, the other k − 1 folds train.

    A dataset with a published CV index (`folds`, movie reviews) uses it (index mod k) when
    `published`; any other gets `stratified_folds(labels, k, seed)`.
    """
    if not 0 <= fold < k:
        raise DataError(f"fold must be in [0, {k}) for {k} folds, got {fold}")
    if published and data.folds is not None:
        assignment = [f % k for f in data.folds]
    else:
        assignment = stratified_folds(data.labels, k, seed=seed)
    train = [i for i, f in enumerate(assignment) if f != fold]
    test = [i for i, f in enumerate(assignment) if f == fold]
    if not test or not train:
        raise DataError(f"fold {fold} of {k} leaves an empty train or test set")
    return data.subset(train), data.subset(test)


__all__ = [
    "DatasetName",
    "LabelledTexts",
    "detect_dataset",
    "load_labelled",
    "load_labelled_file",
    "load_movie_reviews",
    "load_rt_polarity",
    "load_sms_spam",
    "split_fold",
    "stratified_folds",
]

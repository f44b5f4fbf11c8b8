"""Labelled-text readers: the real polarity and SMS files, k-fold splits, every bad-file error."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from rnnkit.datasets.labelled_text import (
    POLARITY_TOKENS,
    detect_dataset,
    load_labelled,
    load_labelled_file,
    load_movie_reviews,
    load_rt_polarity,
    load_sms_spam,
    split_fold,
    stratified_folds,
)
from rnnkit.datasets.shared import find_shared
from rnnkit.errors import DataError


def _shared(folder: str) -> Path:
    """shared/data/`folder`; the test names it in @pytest.mark.shared_data (tests/conftest.py)."""
    return find_shared(folder)


# -- the real files -----------------------------------------------------------------------------
@pytest.mark.shared_data("sentiment_rt_polarity")
def test_sentence_polarity_counts_and_first_lines() -> None:
    data = load_rt_polarity(_shared("sentiment_rt_polarity"))
    assert data.class_counts() == [5331, 5331]
    assert data.classes == ("negative", "positive")
    first_positive = data.texts[data.labels.index(1)]
    assert first_positive.startswith("the rock is destined to be the 21st century's new ")
    assert data.tokenizer("a splash , even")[-2:] == [",", "even"]  # already tokenised
    assert data.folds is None


@pytest.mark.shared_data("sentiment_movie_reviews")
def test_movie_reviews_counts_and_published_folds() -> None:
    data = load_movie_reviews(_shared("sentiment_movie_reviews"))
    assert data.class_counts() == [1000, 1000]
    assert data.folds is not None
    per_fold = Counter(zip(data.folds, data.labels, strict=True))
    assert per_fold == {(fold, label): 100 for fold in range(10) for label in (0, 1)}
    assert "\n" not in data.texts[0]
    assert len(data.texts[0].split()) > 100
    train, test = split_fold(data, 3, 10)
    assert len(test) == 200
    assert len(train) == 1800
    assert set(test.folds or []) == {3}


@pytest.mark.shared_data("sms_spam")
def test_sms_spam_counts() -> None:
    data = load_labelled("auto", _shared("sms_spam"))
    assert data.name == "sms_spam"
    assert len(data) == 5574
    assert data.class_counts() == [4827, 747]
    assert data.texts[1] == "Ok lar... Joking wif u oni..."
    assert data.tokenizer("Free ENTRY!")[:2] == ["free", "entry"]  # lower-cased words


def test_stratified_folds_partition_every_class_evenly() -> None:
    labels = [0] * 53 + [1] * 20 + [2] * 7
    folds = stratified_folds(labels, 5, seed=3)
    assert folds == stratified_folds(labels, 5, seed=3)  # seeded
    assert folds != stratified_folds(labels, 5, seed=4)
    for label, size in ((0, 53), (1, 20), (2, 7)):
        counts = Counter(f for f, y in zip(folds, labels, strict=True) if y == label)
        assert sum(counts.values()) == size
        assert max(counts.values()) - min(counts.values()) <= 1
    assert sorted(Counter(folds).values()) == [16] * 5


@pytest.mark.shared_data("sms_spam")
def test_split_fold_on_sms_is_a_stratified_80_20_split() -> None:
    data = load_sms_spam(_shared("sms_spam"))
    train, test = split_fold(data, 0, 5, seed=0)
    assert (len(train), len(test)) == (4459, 1115)
    assert test.class_counts()[1] in (149, 150)
    both = [a + b for a, b in zip(train.class_counts(), test.class_counts(), strict=True)]
    assert both == [4827, 747]


# -- bad files ----------------------------------------------------------------------------------
def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_rt_polarity(tmp_path)
    with pytest.raises(DataError, match="not found"):
        load_movie_reviews(tmp_path / "movie_reviews.zip")
    with pytest.raises(DataError, match="not found"):
        load_labelled("auto", tmp_path / "nothing.csv")
    with pytest.raises(DataError, match="holds none of"):
        detect_dataset(tmp_path)


def test_csv_without_the_columns_lists_the_ones_found(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("review,stars\ngood,5\nbad,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"\['text', 'label'\]; found \['review', 'stars'\]"):
        load_labelled_file(path)


def test_empty_text_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("text,label\ngood film,pos\n  ,neg\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 3 holds an empty text"):
        load_labelled_file(path)
    (tmp_path / "rt-polarity.pos").write_text("fine\n\nok\n", encoding="utf-8")
    (tmp_path / "rt-polarity.neg").write_text("bad\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2 holds an empty text"):
        load_rt_polarity(tmp_path)


def test_a_single_class_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mails.jsonl"
    lines = [json.dumps({"text": f"message {i}", "label": "ham"}) for i in range(3)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="at least two classes; every label is 'ham'"):
        load_labelled_file(path)
    sms = tmp_path / "SMSSpamCollection"
    sms.write_text("ham\thello\nham\tthere\n", encoding="utf-8")
    with pytest.raises(DataError, match="at least two classes"):
        load_sms_spam(sms)


def test_jsonl_and_sms_syntax_errors(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{not json}\n', encoding="utf-8")
    with pytest.raises(DataError, match="line 2 is not JSON"):
        load_labelled_file(path)
    sms = tmp_path / "SMSSpamCollection"
    sms.write_text("ham\thello\nmaybe spam\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2 must be"):
        load_sms_spam(sms)


def test_a_good_user_file_loads_with_sorted_classes(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    rows = [{"text": "Great!", "label": "pos"}, {"text": "Awful.", "label": "neg"}]
    path.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    data = load_labelled("auto", path)
    assert data.classes == ("neg", "pos")
    assert data.labels == [1, 0]
    assert data.tokenizer(data.texts[0]) == ["great", "!"]


def test_records_holding_unicode_line_separators_stay_whole(tmp_path: Path) -> None:
    """Regression (docs/RELIABILITY.md): str.splitlines cut records at U+2028, \\x0c, \\x85."""
    texts = ["one\u2028two", "page\x0cbreak", "next\x85line"]
    path = tmp_path / "data.jsonl"
    rows = [{"text": text, "label": label} for text, label in zip(texts, "abb", strict=True)]
    path.write_text("\r\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\r\n")
    assert load_labelled("auto", path).texts == texts
    sms = tmp_path / "SMSSpamCollection"
    sms.write_text("ham\tone\u2028two\nspam\tpage\x0cbreak\n", encoding="utf-8")
    assert load_sms_spam(sms).texts == texts[:2]


def test_a_zip_without_reviews_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "movie_reviews.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("movie_reviews/README", "nothing here")
    with pytest.raises(DataError, match="holds no movie_reviews"):
        load_movie_reviews(tmp_path)
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a zip"):
        load_movie_reviews(tmp_path / "broken.zip")
    with pytest.raises(DataError, match="fold must be in"):
        split_fold(load_labelled_file(_write_csv(tmp_path)), 4, 4)


def _write_csv(tmp_path: Path) -> Path:
    path = tmp_path / "small.csv"
    path.write_text("text,label\n" + "".join(f"t{i},{i % 2}\n" for i in range(8)), encoding="utf-8")
    return path


# -- regressions found by fuzzing (tests/reliability, bench/reliability/fuzz.py) -----------------
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.csv", b"text,label\n\x9a,pos\nb,neg\n", "not UTF-8 text"),  # was UnicodeDecodeError
        ("bad.csv", b'text,label\n"' + b"a" * 140_000, "is not valid CSV"),  # was csv.Error
        ("bad.jsonl", b"[" * 100_000, "line 1 is not JSON"),  # was RecursionError
        ("bad.jsonl", b'{"text": "a", "label": ' + b"1" * 5000 + b"}", "not JSON"),  # ValueError
    ],
)
def test_undecodable_csv_and_jsonl_files_raise_data_error(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_labelled_file(path)


# -- the normalisation a sentiment run stores (issue 20, item 2) --------------------------------
def _tokens_kept(lines: list[str], expected: list[list[str]]) -> float:
    """The share of the expected tokens that POLARITY_TOKENS gives back, line by line."""
    total = lost = 0
    for line, want in zip(lines, expected, strict=True):
        total += len(want)
        lost += sum((Counter(want) - Counter(POLARITY_TOKENS(line))).values())
    return 1 - lost / total


@pytest.mark.shared_data("sentiment_rt_polarity", "sentiment_movie_reviews")
def test_the_polarity_normalisation_reads_typed_text_as_the_files_are_written() -> None:
    data = load_rt_polarity(_shared("sentiment_rt_polarity"))
    assert data.tokenizer == POLARITY_TOKENS
    assert data.tokenizer("Great Film!") == ["great", "film", "!"]
    assert data.tokenizer("Terrible, boring...") == ["terrible", ",", "boring", "..."]
    # a file line gives back its own tokens: 99.45 % of rt-polarity's 224,073 (the rest are
    # such as "writer/director", "[a]", "characters'" and a capital "É"), 99.64 % of the reviews'
    kept = _tokens_kept(data.texts, [text.lower().split() for text in data.texts])
    assert kept > 0.994
    reviews = load_movie_reviews(_shared("sentiment_movie_reviews"))
    assert reviews.tokenizer == POLARITY_TOKENS
    assert _tokens_kept(reviews.texts, [text.split() for text in reviews.texts]) > 0.996

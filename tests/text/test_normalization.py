"""A run's stored text normalisation: read back, the fallback for older runs, unknown marks."""

from __future__ import annotations

import logging

import pytest

from rnnkit.errors import ConfigError
from rnnkit.text.normalization import (
    NORMALIZATION_KEY,
    UnknownMarks,
    bracket_unknown,
    describe,
    format_unknown,
    mark_unknown,
    stored_normalization,
)
from rnnkit.text.tokenize import MARK_RUN_PATTERN, Tokenizer
from rnnkit.text.vocab import PAD, UNK, Vocab

POLARITY = Tokenizer(kind="regex", pattern=MARK_RUN_PATTERN, lowercase=True, normalize="NFC")
OLD = Tokenizer(kind="regex", pattern=r"\S+")


def test_the_stored_normalisation_is_rebuilt_and_wins_over_the_fallback() -> None:
    config = {NORMALIZATION_KEY: POLARITY.to_dict()}
    normalization = stored_normalization(config, OLD, where="runs/a")
    assert normalization == POLARITY
    assert normalization("Great Film!") == ["great", "film", "!"]
    assert normalization("Terrible, boring...") == ["terrible", ",", "boring", "..."]
    assert normalization("Cafe\u0301 --") == ["café", "--"]  # NFD typed, NFC read


def test_an_old_run_falls_back_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="rnnkit.text.normalization"):
        for _ in range(3):
            assert stored_normalization({"task": "sentiment"}, OLD, where="runs/old-1") is OLD
    [record] = caplog.records
    assert "runs/old-1 stores no text normalisation" in record.getMessage()
    assert "tokens matching '\\\\S+'" in record.getMessage()  # what it falls back to


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("word", "must be an object of Tokenizer fields, got str"),
        ({"kind": "sentencepiece"}, "must be one of \\[.char., .word., .regex.\\]"),
        ({"kind": "word", "casefold": True}, "casefold"),
    ],
)
def test_a_damaged_entry_is_a_config_error(spec: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        stored_normalization({NORMALIZATION_KEY: spec}, OLD, where="runs/b")
    assert "runs/b/config.json" in str(caught.value)


def test_unknown_marks_share_and_brackets() -> None:
    vocab = Vocab(["great", "terrible", ",", "."], specials=(PAD, UNK), tokenizer=POLARITY)
    marks = mark_unknown(POLARITY("Terrible, boring."), vocab)
    assert marks == UnknownMarks(
        ["terrible", ",", "boring", "."], [False, False, True, False], 0.25
    )
    assert bracket_unknown(marks) == "terrible , [boring] ."
    assert format_unknown(marks) == "  tokens  terrible , [boring] .   unknown 1 of 4 (25%)"
    assert mark_unknown([], vocab).share == 0.0


def test_describe_says_what_each_normalisation_does() -> None:
    assert describe(Tokenizer(kind="char")) == "case kept, characters"
    assert describe(Tokenizer(kind="word", keep_punctuation=False, lowercase=True)) == (
        "lower-cased, words, punctuation dropped"
    )

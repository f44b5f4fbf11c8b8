"""Tokenisers: characters as code points, the documented word regex, user regex, bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnkit.errors import ConfigError, DataError
from rnnkit.text.tokenize import (
    Tokenizer,
    char_tokenize,
    regex_tokenize,
    word_tokenize,
)


def test_char_tokenize_splits_code_points_not_bytes() -> None:
    assert char_tokenize("añ😀") == ["a", "ñ", "😀"]
    assert char_tokenize("") == []


def test_char_tokenize_nfc_composes_combining_marks() -> None:
    decomposed = "e\u0301te"  # é written as e + combining acute accent
    assert char_tokenize(decomposed) == ["e", "\u0301", "t", "e"]
    assert char_tokenize(decomposed, normalize="NFC") == ["é", "t", "e"]


@given(st.text())
def test_char_tokenize_joins_back_to_the_text(text: str) -> None:
    assert "".join(char_tokenize(text)) == text


def test_word_tokenize_follows_the_documented_pattern() -> None:
    text = "O'er well-known hills, 3.14 miles; don't 'tis—know't?"
    assert word_tokenize(text) == [
        "O'er", "well-known", "hills", ",", "3.14", "miles", ";", "don't",
        "'", "tis", "—", "know't", "?",
    ]  # fmt: skip


def test_word_tokenize_lowercase_and_drop_punctuation() -> None:
    tokens = word_tokenize("We like TensorLayer, do we?", lowercase=True, keep_punctuation=False)
    assert tokens == ["we", "like", "tensorlayer", "do", "we"]


def test_word_tokenize_is_unicode_aware() -> None:
    assert word_tokenize("Straße naïve 東京!") == ["Straße", "naïve", "東京", "!"]
    assert word_tokenize("Café", normalize="NFC") == word_tokenize("Cafe\u0301", normalize="NFC")


def test_word_tokenize_empty_and_blank_text_give_no_tokens() -> None:
    assert word_tokenize("") == []
    assert word_tokenize(" \n\t ") == []


def test_regex_tokenize_uses_the_user_pattern() -> None:
    assert regex_tokenize("a1 B22 c", r"[a-z]\d*", lowercase=True) == ["a1", "b22", "c"]


def test_tokenizer_value_dispatches_and_round_trips_through_a_dict() -> None:
    tokenizer = Tokenizer(kind="regex", pattern=r"\w+", lowercase=True)
    assert tokenizer("Hi, There") == ["hi", "there"]
    assert Tokenizer.from_dict(tokenizer.to_dict()) == tokenizer
    assert Tokenizer(kind="char").separator == ""
    assert Tokenizer(kind="word").separator == " "


@pytest.mark.parametrize("function", [char_tokenize, word_tokenize, Tokenizer()])
@pytest.mark.parametrize("bad", [None, 42, ["a", "list"]])
def test_non_str_input_is_a_data_error_naming_the_type(function, bad) -> None:
    with pytest.raises(DataError, match=f"got {type(bad).__name__}"):
        function(bad)


def test_bytes_input_suggests_decoding() -> None:
    with pytest.raises(DataError, match=r"got bytes.*decode"):
        word_tokenize(b"caf\xc3\xa9")


def test_bad_tokenizer_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="not a valid regex"):
        regex_tokenize("text", "(unclosed")
    with pytest.raises(ConfigError, match="pattern is required"):
        Tokenizer(kind="regex")
    with pytest.raises(ConfigError, match="tokenizer kind"):
        Tokenizer(kind="bytes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="normalize must be"):
        Tokenizer(normalize="NFX")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown config key"):
        Tokenizer.from_dict({"kind": "word", "casefold": True})


# -- regressions found by fuzzing (tests/reliability, bench/reliability/fuzz.py) -----------------
@pytest.mark.parametrize("pattern", ["a{99999999999}", "(" * 1000 + ")" * 1000])
def test_a_pattern_re_cannot_compile_raises_config_error(pattern: str) -> None:
    with pytest.raises(ConfigError, match="not a valid regex"):  # was OverflowError, RecursionError
        Tokenizer(kind="regex", pattern=pattern)

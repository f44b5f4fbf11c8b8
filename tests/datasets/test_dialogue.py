"""Dialogue mining: each rule on hand-written paragraphs; the documented counts on the books."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.datasets import dialogue
from rnnkit.datasets.dialogue import (
    load_gutenberg_dialogues,
    mine_dialogue_pairs,
    quoted_utterance,
)
from rnnkit.datasets.shared import find_shared
from rnnkit.errors import ConfigError, DataError

CORPUS = pytest.mark.shared_data("english_corpus")  # shared/data/README.md §9 (tests/conftest.py)


@pytest.fixture(scope="module")
def corpus_root() -> Path:
    return find_shared("english_corpus")


def _book(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)


# -- the rule, on hand-written paragraphs -------------------------------------------------------
def test_a_chain_of_three_speeches_gives_two_pairs() -> None:
    text = _book('"Where are you going?"', '"To the market."', '"May I come?"')
    assert mine_dialogue_pairs(text) == [
        ("Where are you going?", "To the market."),
        ("To the market.", "May I come?"),
    ]


def test_narration_between_and_after_quotes_is_dropped() -> None:
    text = _book(
        '"Yes," said he, turning round, "I will\ncome tomorrow." And he left.',
        '"Good," she answered.',
    )
    assert mine_dialogue_pairs(text) == [
        ("Yes, I will come tomorrow.", "Good.")
    ]  # the comma before the tag becomes a full stop


def test_curly_quotes_and_apostrophes_become_ascii() -> None:
    text = _book(
        "\u201cDon\u2019t say \u2018never\u2019,\u201d he said.",
        "\u201cI\u2019ll say what I like.\u201d",
    )
    assert mine_dialogue_pairs(text) == [("Don't say 'never'.", "I'll say what I like.")]


def test_a_narration_paragraph_breaks_the_chain() -> None:
    text = _book('"One."', '"Two."', "She looked away.", '"Three."', '"Four."')
    assert mine_dialogue_pairs(text) == [("One.", "Two."), ("Three.", "Four.")]
    assert mine_dialogue_pairs(_book('"One."', 'He said "Two."')) == []  # not speech


def test_line_breaks_blank_lines_with_spaces_and_crlf() -> None:
    text = '  "Come\r\n   here,\r\nnow."\r\n   \r\n\r\n\t"Why?"\r\n'
    assert mine_dialogue_pairs(text) == [("Come here, now.", "Why?")]


def test_over_long_side_is_dropped_without_breaking_the_chain() -> None:
    long = '"' + " ".join(["word"] * 6) + '."'
    text = _book('"Hi."', long, '"What?"', '"Nothing at all."')
    assert mine_dialogue_pairs(text, max_words=5) == [("What?", "Nothing at all.")]
    assert len(mine_dialogue_pairs(text, max_words=6)) == 3
    assert mine_dialogue_pairs(_book('"Hi."', '""', '"Bye."')) == []  # an empty side: 0 words


def test_unbalanced_quote_breaks_the_chain() -> None:
    text = _book(
        '"Tell me."',
        '"It began long ago," said he, "in a town by the sea,',  # runs on: no closing quote
        '"and it ends here."',  # its continuation starts a new chain
        '"Is that all?"',
    )
    assert mine_dialogue_pairs(text) == [("and it ends here.", "Is that all?")]


def test_mismatched_curly_marks_are_unbalanced() -> None:
    verse = "\u201cMany a flower is born to blush unseen,\n\u201cAnd waste its fragrance.\u201d"
    assert quoted_utterance(verse) is None  # “ inside an open quotation (quoted verse)
    assert quoted_utterance("\u201cHi.\u201d \u201d") is None  # ” outside any quotation
    assert quoted_utterance("\u201dHi.\u201d") is None  # starts with a closing mark
    assert quoted_utterance('\u201cMixed marks still pair."') == "Mixed marks still pair."
    assert mine_dialogue_pairs(_book('"Hi."', verse, '"Bye."')) == []


def test_single_quotes_do_not_mark_speech_and_bad_max_words() -> None:
    assert mine_dialogue_pairs(_book("\u2018Hi,\u2019 said Alice.", "\u2018Hello.\u2019")) == []
    with pytest.raises(ConfigError, match="max_words must be a positive integer, got 0"):
        mine_dialogue_pairs('"a"\n\n"b"', max_words=0)


# -- the real corpus ----------------------------------------------------------------------------
@CORPUS
@pytest.mark.parametrize(("split", "count"), [("train", 36_195), ("valid", 877), ("test", 480)])
def test_documented_counts_on_the_books(corpus_root: Path, split: str, count: int) -> None:
    pairs = load_gutenberg_dialogues(corpus_root, split)  # type: ignore[arg-type]
    assert len(pairs) == count
    assert pairs.name == f"gutenberg dialogue {split}"
    assert f"{split} {count:,}" in (dialogue.__doc__ or "")  # the module docstring states it
    assert all(1 <= len(side.split()) <= 25 for side in pairs.sources + pairs.targets)
    assert not any(mark in side for side in pairs.sources for mark in "\u201c\u201d\u2018\u2019")


@CORPUS
def test_max_books_reads_the_first_books_of_the_split(corpus_root: Path) -> None:
    pairs = load_gutenberg_dialogues(corpus_root, "valid", max_books=2)  # + Northanger Abbey
    assert len(pairs) == 177
    assert pairs.sources[0] == "How uncomfortable it is, not to have a single acquaintance here!"
    assert pairs.targets[0] == "Yes, my dear, it is very uncomfortable indeed."
    assert len(load_gutenberg_dialogues(corpus_root, "valid", max_books=2, max_words=10)) < 177


@CORPUS
def test_no_pair_and_bad_arguments(corpus_root: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no dialogue pair in the 1 valid book"):
        load_gutenberg_dialogues(corpus_root, "valid", max_books=1)  # The Legend of Sleepy Hollow
    with pytest.raises(ConfigError, match="max_books must be a positive integer"):
        load_gutenberg_dialogues(corpus_root, "valid", max_books=0)
    with pytest.raises(DataError, match="split must be one of"):
        load_gutenberg_dialogues(corpus_root, "dev")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="folder not found"):
        load_gutenberg_dialogues(tmp_path / "absent", "valid")

"""Vocab: specials, min_freq / max_size and tie order, encode/decode round trips, JSON files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.errors import ConfigError, DataError, ShapeError, VocabError
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import Vocab

WORDS = Tokenizer(kind="word")
CHARS = Tokenizer(kind="char")


def test_specials_take_the_first_ids() -> None:
    vocab = Vocab(["a", "b"])
    assert vocab.tokens[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    assert (vocab.pad_id, vocab.unk_id, vocab.bos_id, vocab.eos_id) == (0, 1, 2, 3)
    assert vocab.token_to_id("a") == 4
    assert len(vocab) == 6
    assert "b" in vocab
    assert "c" not in vocab


def test_specials_are_configurable() -> None:
    vocab = Vocab(["a"], specials=("<pad>",))
    assert vocab.tokens == ["<pad>", "a"]
    assert vocab.unk_id is None
    with pytest.raises(VocabError, match="has no <unk>"):
        vocab.encode(["zzz"])
    with pytest.raises(VocabError, match="<eos> is not among"):
        vocab.encode(["a"], add_eos=True)


def test_frequency_order_with_ties_broken_by_first_appearance() -> None:
    vocab = Vocab.build_from_iterator(["b a c", "c a d", "d"], WORDS, specials=())
    # counts a=2, c=2, d=2, b=1: ties (a, c, d) keep their order of first appearance
    assert vocab.tokens == ["a", "c", "d", "b"]


def test_min_freq_and_max_size() -> None:
    texts = ["x x x y y z"]
    assert Vocab.build_from_iterator(texts, WORDS, min_freq=2).tokens[4:] == ["x", "y"]
    assert Vocab.build_from_iterator(texts, WORDS, max_size=1).tokens[4:] == ["x"]
    assert len(Vocab.build_from_iterator(texts, WORDS, max_size=0)) == 4


def test_build_streams_a_generator_once() -> None:
    consumed = []

    def lines():
        for line in ["a b", "b c"]:
            consumed.append(line)
            yield line

    vocab = Vocab.build_from_iterator(lines(), WORDS, specials=())
    assert consumed == ["a b", "b c"]
    assert vocab.tokens == ["b", "a", "c"]


def test_build_from_pre_tokenised_lists() -> None:
    vocab = Vocab.build_from_iterator([["x", "y"], ["y"]], None, specials=())
    assert vocab.tokens == ["y", "x"]


def test_encode_maps_unknown_to_unk_and_adds_bos_eos() -> None:
    vocab = Vocab.build_from_iterator(["the cat sat"], WORDS)
    ids = vocab.encode("the dog sat", add_bos=True, add_eos=True)
    assert ids.dtype == torch.int64
    assert ids.tolist() == [2, 4, 1, 6, 3]
    assert vocab.decode(ids, skip_specials=True) == ["the", "sat"]
    assert vocab.encode("").shape == (0,)


def test_strict_encode_names_the_unknown_token() -> None:
    vocab = Vocab.build_from_iterator(["the cat"], WORDS)
    with pytest.raises(VocabError, match="'dog' is not in the vocabulary"):
        vocab.encode("the dog", strict=True)


def test_decode_out_of_range_gives_the_id_and_size() -> None:
    vocab = Vocab(["a"])
    with pytest.raises(VocabError, match=r"id 5 is out of range .* size 5"):
        vocab.decode([0, 5])
    with pytest.raises(VocabError, match="id -1 is out of range"):
        vocab.decode(torch.tensor([-1]))
    with pytest.raises(ShapeError, match="1-D integer tensor"):
        vocab.decode(torch.tensor([1.0]))
    with pytest.raises(VocabError, match="must be int"):
        vocab.decode([1.5])  # type: ignore[list-item]


def test_bad_input_types() -> None:
    vocab = Vocab(["a"], tokenizer=WORDS)
    with pytest.raises(DataError, match="got int"):
        vocab.encode(7)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="tokens must be str, got int"):
        vocab.encode(["a", 3])  # type: ignore[list-item]
    with pytest.raises(DataError, match="item 1 of the text stream is int"):
        Vocab.build_from_iterator(["a", 3], WORDS)  # type: ignore[list-item]
    with pytest.raises(DataError, match="empty corpus"):
        Vocab.build_from_iterator(["", "  "], WORDS)
    with pytest.raises(VocabError, match="no tokenizer"):
        Vocab(["a"]).encode("a")
    with pytest.raises(ConfigError, match="min_freq"):
        Vocab.build_from_iterator(["a"], WORDS, min_freq=0)
    with pytest.raises(ConfigError, match="specials must be distinct"):
        Vocab(specials=("<pad>", "<pad>"))


def test_oov_rate_counts_token_occurrences() -> None:
    vocab = Vocab(["a"])
    assert vocab.oov_rate(["a", "b", "b", "a"]) == 0.5
    with pytest.raises(DataError, match="at least one token"):
        vocab.oov_rate([])


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1))
def test_char_level_round_trip_on_arbitrary_unicode(text: str) -> None:
    vocab = Vocab.build_from_iterator([text], CHARS)
    ids = vocab.encode(text, strict=True)
    assert len(ids) == len(text)
    assert vocab.decode_text(ids) == text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1), min_size=1))
def test_word_level_round_trip_on_generated_word_lists(words: list[str]) -> None:
    vocab = Vocab.build_from_iterator([words], None)
    assert vocab.decode(vocab.encode(words, strict=True)) == words


def test_save_load_round_trip_keeps_ids_and_tokenizer(tmp_path: Path) -> None:
    tokenizer = Tokenizer(kind="word", lowercase=True)
    vocab = Vocab.build_from_iterator(["Ünïcode café text", "text"], tokenizer, min_freq=1)
    path = tmp_path / "vocab.json"
    vocab.save(path)
    loaded = Vocab.load(path)
    assert loaded == vocab
    assert loaded.tokenizer == tokenizer
    assert loaded.encode("TEXT café").tolist() == vocab.encode("TEXT café").tolist()
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "rnnkit.vocab"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vocab.json"]  # no temp file left


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": "rnnkit.vocab", "version": 1, "tok', "not valid JSON"),
        ('["a", "b"]', "not an rnnkit vocabulary"),
        ('{"format": "other.tool", "tokens": []}', "expected key 'format'"),
        ('{"format": "rnnkit.vocab", "version": 99}', "unsupported vocab version 99"),
        ('{"format": "rnnkit.vocab", "version": 1, "specials": [], "tokens": [1]}', "'tokens'"),
        (
            '{"format": "rnnkit.vocab", "version": 1, "specials": [], "tokens": ["a", "a"]}',
            r"repeats \['a'\]",
        ),
        (
            '{"format": "rnnkit.vocab", "version": 1, "specials": ["<pad>"], "tokens": ["a"]}',
            "must start with the specials",
        ),
        (
            '{"format": "rnnkit.vocab", "version": 1, "specials": [], "tokens": ["a"],'
            ' "tokenizer": {"kind": "morse"}}',
            "key 'tokenizer': config field 'kind' must be one of",
        ),
    ],
)
def test_corrupt_or_foreign_files_name_the_file_and_problem(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VocabError, match=message) as caught:
        Vocab.load(path)
    assert str(path) in str(caught.value)


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(VocabError, match="not found"):
        Vocab.load(tmp_path / "absent.json")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(VocabError, match=r"binary\.json is not valid JSON"):
        Vocab.load(binary)


# -- regressions found by fuzzing (tests/reliability, bench/reliability/fuzz.py) -----------------
@pytest.mark.parametrize("content", ["[" * 100_000, '{"version": ' + "1" * 5000 + "}"])
def test_json_too_deep_or_with_a_huge_int_raises_vocab_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "deep.json"  # json.loads raised RecursionError / ValueError
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VocabError, match=r"deep\.json is not valid JSON"):
        Vocab.load(path)


def test_tokens_with_lone_surrogates_save_and_load(tmp_path: Path) -> None:
    vocab = Vocab(["\ud800", "a\udfffb", "é"])  # save raised UnicodeEncodeError
    vocab.save(tmp_path / "vocab.json")
    assert Vocab.load(tmp_path / "vocab.json") == vocab

"""Word-vector files: round trips, gensim interchange, corrupt files, Embedding initialisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from gensim.models import KeyedVectors

from rnnkit.errors import DataError
from rnnkit.represent.embedding import Embedding, load_word_vectors
from rnnkit.represent.word2vec.formats import (
    load_safetensors,
    load_vectors,
    load_word2vec_binary,
    load_word2vec_text,
    save_safetensors,
    save_vectors,
    save_word2vec_binary,
    save_word2vec_text,
)
from rnnkit.represent.word2vec.vectors import WordVectors
from rnnkit.text.vocab import Vocab

SUFFIXES = {"text": ".txt", "binary": ".bin", "safetensors": ".safetensors"}


def _vectors(size: int = 40, dim: int = 7) -> WordVectors:
    words = ["the", "naïve", "Zürich", "日本", *[f"w{i}" for i in range(size)]][:size]
    counts = list(range(10 * size, 0, -10))
    return WordVectors(words, torch.randn(size, dim) * 3, counts)


@pytest.mark.parametrize("format", ["text", "binary", "safetensors"])
def test_round_trip_is_exact(tmp_path: Path, format: str) -> None:
    wv = _vectors()
    path = save_vectors(wv, tmp_path / f"vectors{SUFFIXES[format]}")
    back = load_vectors(path)
    assert back.words == wv.words
    assert torch.equal(back.vectors, wv.vectors)  # "%.9g" and raw float32 are both exact
    assert back.counts == (wv.counts if format == "safetensors" else None)


def test_explicit_format_overrides_the_suffix(tmp_path: Path) -> None:
    wv = _vectors(5, 3)
    path = save_vectors(wv, tmp_path / "vectors.dat", format="binary")
    assert path.read_bytes().startswith(b"5 3\n")
    assert torch.equal(load_vectors(path, format="binary").vectors, wv.vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_our_files_and_we_read_gensims(tmp_path: Path, binary: bool) -> None:
    wv = _vectors()
    ours = tmp_path / ("ours.bin" if binary else "ours.txt")
    (save_word2vec_binary if binary else save_word2vec_text)(wv, ours)
    keyed = KeyedVectors.load_word2vec_format(ours, binary=binary)
    assert list(keyed.index_to_key) == wv.words
    np.testing.assert_array_equal(keyed.vectors, wv.vectors.numpy())
    theirs = tmp_path / ("theirs.bin" if binary else "theirs.txt")
    keyed.save_word2vec_format(theirs, binary=binary)  # gensim 4: no newline after binary rows
    back = (load_word2vec_binary if binary else load_word2vec_text)(theirs)
    assert back.words == wv.words
    torch.testing.assert_close(back.vectors, wv.vectors, rtol=1e-6, atol=1e-6)


def test_binary_rows_are_word_space_float32_newline(tmp_path: Path) -> None:
    wv = WordVectors(["ab"], torch.tensor([[1.0, -2.0]]))
    path = save_word2vec_binary(wv, tmp_path / "v.bin")
    assert path.read_bytes() == b"1 2\nab " + np.array([1.0, -2.0], "<f4").tobytes() + b"\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "header"),
        (b"2 3\nthe 1 2 3\n", "header announces 2 vectors, file has 1"),
        (b"1 3\nthe 1 2\n", r"v\.txt:2: expected a word and 3 numbers, got 2"),
        (b"1 2\nthe 1 x\n", r"v\.txt:2: could not convert"),
        (b"1 2\nthe 1 nan\n", "NaN"),
        (b"1 2\n\xff\xfe 1 2\n", r"v\.txt:2: not UTF-8"),
        (b"the 1 2\n", r"v\.txt:1: expected the word2vec header"),
    ],
)
def test_corrupt_text_files_name_the_file_and_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "v.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_word2vec_text(path)


def test_corrupt_binary_files_name_the_byte_offset(tmp_path: Path) -> None:
    good = save_word2vec_binary(_vectors(3, 4), tmp_path / "good.bin").read_bytes()
    path = tmp_path / "v.bin"
    path.write_bytes(good[:-10])  # truncated inside the last vector
    with pytest.raises(DataError, match=r"v\.bin, byte \d+: truncated or corrupt at word 3 of 3"):
        load_word2vec_binary(path)
    path.write_bytes(good + b"extra 1 2 3")
    with pytest.raises(DataError, match="bytes after the 3 vectors"):
        load_word2vec_binary(path)
    path.write_bytes(b"PK\x03\x04 not a word2vec file")
    with pytest.raises(DataError, match="byte 0: expected the word2vec header"):
        load_word2vec_binary(path)
    with pytest.raises(DataError, match="not found"):
        load_word2vec_binary(tmp_path / "absent.bin")


def test_corrupt_or_foreign_safetensors_files(tmp_path: Path) -> None:
    wv = _vectors(4, 2)
    path = save_safetensors(wv, tmp_path / "vectors.safetensors")
    vocab = tmp_path / "vocab.json"
    assert vocab.is_file()
    vocab.write_text('{"format": "rnnkit.word_vectors", "version": 1, "words": ["a"]}')
    with pytest.raises(DataError, match="do not match"):
        load_safetensors(path)
    vocab.write_text('{"format": "other"}')
    with pytest.raises(DataError, match=r"vocab\.json: expected key 'format'"):
        load_safetensors(path)
    vocab.write_text('{"format": "rnnkit.word_v')
    with pytest.raises(DataError, match="not valid JSON"):
        load_safetensors(path)
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(DataError, match=r"vectors\.safetensors is not a readable safetensors"):
        load_safetensors(path)
    from safetensors.torch import save_file

    save_file({"weight": torch.ones(2, 2)}, path)
    with pytest.raises(DataError, match="one tensor named 'vectors'"):
        load_safetensors(path)


def test_a_failed_save_leaves_the_old_file_intact(tmp_path: Path) -> None:
    path = save_word2vec_text(_vectors(3, 2), tmp_path / "v.txt")
    before = path.read_bytes()
    with pytest.raises(DataError, match="whitespace"):
        save_word2vec_text(WordVectors(["a b"], torch.ones(1, 2)), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.txt"]  # no temp file left


@pytest.mark.parametrize("format", ["text", "binary", "safetensors"])
@pytest.mark.parametrize("freeze", [True, False])
def test_embedding_from_each_format_through_a_vocab(
    tmp_path: Path, format: str, freeze: bool
) -> None:
    wv = WordVectors(["cat", "dog", "emu"], torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    path = save_vectors(wv, tmp_path / f"vectors{SUFFIXES[format]}")
    vocab = Vocab(["dog", "cat", "yak"])  # <pad> <unk> <bos> <eos> dog cat yak
    table = Embedding.from_pretrained(path, vocab=vocab, freeze=freeze, padding_idx=vocab.pad_id)
    assert table.weight[vocab.token_to_id("dog")].tolist() == [3.0, 4.0]
    assert table.weight[vocab.token_to_id("cat")].tolist() == [1.0, 2.0]
    assert table.weight[vocab.pad_id].tolist() == [0.0, 0.0]
    assert table.num_missing == 1  # yak
    assert table.weight.requires_grad is not freeze
    assert set(load_word_vectors(path, words={"emu"})) == {"emu"}


def test_embedding_from_word_vectors_object() -> None:
    wv = WordVectors(["cat", "dog"], torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    whole = Embedding.from_pretrained(wv)  # no vocab: the WordVectors' own row order
    assert torch.equal(whole.weight, wv.vectors)
    assert not whole.weight.requires_grad
    aligned = Embedding.from_pretrained(wv, vocab=Vocab(["dog"]), freeze=False)
    assert aligned.weight[4].tolist() == [3.0, 4.0]
    assert aligned.weight.requires_grad
    with pytest.raises(DataError, match="none of the"):
        Embedding.from_pretrained(wv, vocab=Vocab(["yak"]))


# -- regressions found by fuzzing (tests/reliability, bench/reliability/fuzz.py) -----------------
@pytest.mark.parametrize(
    ("suffix", "content", "message"),
    [
        (".txt", b"0 3\n", "two positive integers"),  # was ValueError from numpy's reshape
        (".bin", b"0 2\n", "two positive integers"),  # the same
        (".txt", b"1" * 5000 + b" 2\n", "two positive integers"),  # int() of 5000 digits
        (".bin", b"99999999999 99999999\nx ", "at least"),  # numpy: array is too big
        (".bin", b"4 1000000\na " + bytes(8), "at least 16000004 bytes"),  # allocated 16 MB first
    ],
)
def test_headers_that_announce_nothing_or_too_much_raise_data_error(
    tmp_path: Path, suffix: str, content: bytes, message: str
) -> None:
    path = tmp_path / f"v{suffix}"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_vectors(path)


def test_a_vocab_json_too_deep_raises_data_error(tmp_path: Path) -> None:
    wv = WordVectors(["cat"], torch.tensor([[1.0, 2.0]]))
    path = save_safetensors(wv, tmp_path / "v.safetensors")
    (tmp_path / "vocab.json").write_text("[" * 100_000, encoding="utf-8")  # was RecursionError
    with pytest.raises(DataError, match=r"vocab\.json is not valid JSON"):
        load_safetensors(path)

"""word2vec corpus reader: files, .gz, folders, token lists, vocabulary and bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from rnnkit.errors import DataError
from rnnkit.represent.word2vec import Word2VecConfig, encode_corpus, train_word2vec

TEXT = "The cat sat.\nThe cat ran, the dog sat!\n"


def test_text_file_is_tokenised_lowercased_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(TEXT, encoding="utf-8")
    encoded = encode_corpus(path, min_count=2, window=2)
    assert encoded.words == ["the", "cat", "sat"]  # ties keep first appearance; no punctuation
    assert encoded.counts.tolist() == [3, 2, 2]
    assert encoded.ids.tolist() == [0, 1, 2, 0, 1, 0, 2]  # "ran" and "dog" dropped
    assert encoded.starts.tolist() == [0, 7]
    assert encoded.raw_words == 9
    assert encoded.ids.dtype == np.int32


def test_gz_file_reads_as_the_plain_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    with gzip.open(tmp_path / "a.txt.gz", "wt", encoding="utf-8") as handle:
        handle.write(TEXT)
    plain = encode_corpus(tmp_path / "a.txt", min_count=1)
    packed = encode_corpus(tmp_path / "a.txt.gz", min_count=1)
    assert plain.words == packed.words
    assert np.array_equal(plain.ids, packed.ids)


def test_folder_is_read_sorted_recursively_one_document_per_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.txt").write_text("b b b b", encoding="utf-8")
    with gzip.open(tmp_path / "sub" / "c.txt.gz", "wt", encoding="utf-8") as handle:
        handle.write("c c c")
    (tmp_path / "a.txt").write_text("a a", encoding="utf-8")
    (tmp_path / "manifest.tsv").write_text("x x x x x x x x", encoding="utf-8")  # skipped
    encoded = encode_corpus(tmp_path, min_count=1, window=2, lowercase=False)
    assert encoded.words == ["b", "c", "a"]
    assert encoded.starts.tolist() == [0, 2, 6, 9]  # a.txt, b.txt, sub/c.txt.gz
    assert [encoded.words[i] for i in encoded.ids] == list("aabbbbccc")


def test_token_lists_are_sentences_and_keep_punctuation_is_optional() -> None:
    encoded = encode_corpus([["Hi", ",", "you"], ["you"]], min_count=1, window=1)
    assert encoded.words == ["you", "hi", ","]
    assert encoded.starts.tolist() == [0, 3, 4]
    cased = encode_corpus([["Hi", "hi"]], min_count=1, window=1, lowercase=False)
    assert cased.words == ["Hi", "hi"]


def test_max_vocab_size_keeps_the_most_frequent() -> None:
    encoded = encode_corpus([list("aaabbc")], min_count=1, max_vocab_size=2, window=1)
    assert encoded.words == ["a", "b"]
    assert encoded.ids.tolist() == [0, 0, 0, 1, 1]


def test_missing_path_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        encode_corpus(tmp_path / "nope.txt")
    with pytest.raises(DataError, match="not found"):
        train_word2vec(tmp_path / "nope", Word2VecConfig())


def test_empty_corpus_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("  \n, .\n", encoding="utf-8")
    with pytest.raises(DataError, match="holds no words"):
        encode_corpus(tmp_path / "empty.txt")
    with pytest.raises(DataError, match="holds no words"):
        encode_corpus([])
    (tmp_path / "folder").mkdir()
    with pytest.raises(DataError, match=r"holds no \.txt or \.gz files"):
        encode_corpus(tmp_path / "folder")


def test_corpus_shorter_than_the_window_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"has 4 words .* more than window=5"):
        encode_corpus([["a", "b", "c", "d"]], min_count=1, window=5)


def test_all_words_under_min_count_names_the_count_and_threshold() -> None:
    with pytest.raises(DataError, match=r"all 3 distinct words .* min_count=5 .* 'a', occurs 2"):
        encode_corpus([["a", "b", "a", "c"]], min_count=5)


def test_strings_instead_of_token_lists_are_a_data_error() -> None:
    with pytest.raises(DataError, match="lists of str tokens"):
        encode_corpus(["the cat sat", "on the mat"])


def test_invalid_gzip_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=r"bad\.gz"):
        encode_corpus(tmp_path / "bad.gz")

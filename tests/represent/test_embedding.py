"""Embedding: lookup = one-hot × W, padding row, pretrained tables and text files, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from rnnkit.errors import ConfigError, DataError, ShapeError, VocabError
from rnnkit.represent.embedding import Embedding, load_word_vectors
from rnnkit.represent.onehot import OneHotEncoder
from rnnkit.text.vocab import Vocab

LEXICON = ["apple", "bag", "cat", "dog", "elephant"]


def test_lookup_equals_one_hot_times_matrix(float64: torch.dtype) -> None:
    encoder = OneHotEncoder(LEXICON)  # D = 6 including "other"
    table = Embedding(encoder.dim, 4)
    tokens = ["dog", "apple", "zebra", "dog"]
    one_hot = encoder.encode(tokens).to(float64)  # (T, V)
    ids = torch.tensor([encoder.index(token) for token in tokens])  # (T,)
    assert torch.equal(table(ids), one_hot @ table.weight)  # e_t = Wᵀ x_t = W[id_t]
    batch = ids.reshape(2, 2)  # (B, T)
    assert table(batch).shape == (2, 2, 4)  # (B, T, E)


def test_matches_torch_embedding_after_weight_copy() -> None:
    ours = Embedding(7, 3, padding_idx=0)
    reference = nn.Embedding(7, 3, padding_idx=0)
    reference.load_state_dict(ours.state_dict())
    ids = torch.tensor([[0, 3, 6], [2, 2, 0]])
    assert torch.equal(ours(ids), reference(ids))


def test_padding_row_is_zero_and_gets_no_gradient() -> None:
    table = Embedding(5, 3, padding_idx=0)
    assert torch.equal(table.weight[0], torch.zeros(3))
    table(torch.tensor([[0, 1, 0, 2]])).sum().backward()
    assert table.weight.grad is not None
    assert torch.equal(table.weight.grad[0], torch.zeros(3))
    assert torch.equal(table.weight.grad[1], torch.ones(3))


def test_freeze_turns_off_gradients() -> None:
    assert not Embedding(4, 2, freeze=True).weight.requires_grad
    assert Embedding(4, 2).weight.requires_grad


def test_from_pretrained_tensor() -> None:
    weights = torch.arange(12.0).reshape(4, 3)
    table = Embedding.from_pretrained(weights, padding_idx=0)
    assert not table.weight.requires_grad
    assert torch.equal(table(torch.tensor([2])), weights[2:3])
    assert torch.equal(table.weight[0], torch.zeros(3))
    assert torch.equal(weights[0], torch.tensor([0.0, 1.0, 2.0]))  # the input is not modified


def test_from_pretrained_dict_aligns_to_vocab_and_counts_missing() -> None:
    vocab = Vocab(["cat", "dog", "owl"])
    vectors = {"cat": [1.0, 2.0], "dog": torch.tensor([3.0, 4.0]), "emu": [9.0, 9.0]}
    table = Embedding.from_pretrained(vectors, vocab=vocab, freeze=False, padding_idx=vocab.pad_id)
    assert table.weight.shape == (len(vocab), 2)
    assert table(vocab.encode(["dog", "cat"])).tolist() == [[3.0, 4.0], [1.0, 2.0]]
    assert table.num_missing == 1  # "owl"; specials are not counted
    assert torch.equal(table.weight[vocab.pad_id], torch.zeros(2))
    assert table.weight.requires_grad


def test_pretrained_errors() -> None:
    vocab = Vocab(["cat", "dog"])
    with pytest.raises(ShapeError, match=r"'dog' has shape \(3,\), expected \(2,\)"):
        Embedding.from_pretrained({"cat": [1.0, 2.0], "dog": [1.0, 2.0, 3.0]}, vocab=vocab)
    with pytest.raises(ShapeError, match="3 rows but the vocab has 6"):
        Embedding.from_pretrained(torch.zeros(3, 2), vocab=vocab)
    with pytest.raises(ShapeError, match="2-D float tensor"):
        Embedding.from_pretrained(torch.zeros(3, dtype=torch.int64))
    with pytest.raises(DataError, match="none of the 6 vocabulary tokens"):
        Embedding.from_pretrained({"emu": [1.0]}, vocab=vocab)
    with pytest.raises(ConfigError, match="needs vocab="):
        Embedding.from_pretrained({"cat": [1.0]})


def test_bad_ids_are_clear_errors_not_index_errors() -> None:
    table = Embedding(5, 2)
    with pytest.raises(VocabError, match=r"token id 5 is out of range .* 5 rows"):
        table(torch.tensor([1, 5]))
    with pytest.raises(VocabError, match="token id -1 is out of range"):
        table(torch.tensor([-1]))
    with pytest.raises(ShapeError, match=r"integer tensor \(int64\), got torch.float32"):
        table(torch.tensor([1.0]))
    with pytest.raises(ShapeError, match="got list"):
        table([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="padding_idx must be in 0 … 4"):
        Embedding(5, 2, padding_idx=5)
    with pytest.raises(ConfigError, match="embed_dim must be a positive integer"):
        Embedding(5, 0)


def test_load_glove_and_word2vec_text(tmp_path: Path) -> None:
    glove = tmp_path / "glove.txt"
    glove.write_text("the 0.1 0.2\ncat -1 2.5e-1\n\nthe 9 9\n", encoding="utf-8")
    vectors = load_word_vectors(glove)
    assert list(vectors) == ["the", "cat"]
    assert vectors["cat"].tolist() == [-1.0, 0.25]
    assert torch.allclose(vectors["the"], torch.tensor([0.1, 0.2]))  # first "the" wins
    word2vec = tmp_path / "w2v.txt"
    word2vec.write_text("2 3\nqueen 1 2 3\nking 4 5 6\n", encoding="utf-8")
    assert list(load_word_vectors(word2vec, words={"king"})) == ["king"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("the 0.1 0.2\ncat 0.3\n", r"bad\.txt:2: expected 2 numbers after the word 'cat', got 1"),
        ("the 0.1 0.2\ncat 0.3 x\n", r"bad\.txt:2: could not convert string to float: 'x'"),
        ("the 0.1 nan\n", r"bad\.txt:1: a value is NaN or infinite"),
        ("3 2\nthe 0.1 0.2\n", "header announces 3 vectors, file has 1"),
        ("", "holds no word vectors"),
        ("lonely\n", r"bad\.txt:1: the word 'lonely' has no numbers"),
    ],
)
def test_malformed_vector_files_give_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_word_vectors(path)


def test_missing_and_non_utf8_vector_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_word_vectors(tmp_path / "absent.txt")
    path = tmp_path / "latin1.txt"
    path.write_bytes("café 0.1\n".encode("latin-1"))
    with pytest.raises(DataError, match="is not UTF-8"):
        load_word_vectors(path)

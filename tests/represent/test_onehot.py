"""One-hot vectors: the 5-word lexicon table with its "other" slot, norms, sparse form, errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.errors import ConfigError, DataError, ShapeError, VocabError
from rnnkit.represent.onehot import OneHotEncoder
from rnnkit.text.vocab import Vocab

LEXICON = ["apple", "bag", "cat", "dog", "elephant"]


def test_five_word_lexicon_table_with_other_slot() -> None:
    encoder = OneHotEncoder(LEXICON)
    table = encoder.encode([*LEXICON, "zebra"])
    expected = [
        [1, 0, 0, 0, 0, 0],  # apple
        [0, 1, 0, 0, 0, 0],  # bag
        [0, 0, 1, 0, 0, 0],  # cat
        [0, 0, 0, 1, 0, 0],  # dog
        [0, 0, 0, 0, 1, 0],  # elephant
        [0, 0, 0, 0, 0, 1],  # zebra: not in the lexicon -> "other"
    ]
    assert table.tolist() == expected
    assert encoder.names == [*LEXICON, "<unk>"]


def test_sparse_output_equals_dense() -> None:
    encoder = OneHotEncoder(LEXICON)
    sparse = encoder.encode(["cat", "owl", "cat"], sparse=True)
    assert sparse.is_sparse
    assert torch.equal(sparse.to_dense(), encoder.encode(["cat", "owl", "cat"]))


def test_vocab_lexicon_uses_its_unk_id_as_other() -> None:
    vocab = Vocab(LEXICON)  # <pad> <unk> <bos> <eos> + 5 words
    encoder = OneHotEncoder(vocab)
    assert encoder.dim == len(vocab) == 9
    assert encoder.encode(["zebra"]).argmax().item() == vocab.unk_id
    assert encoder.encode(["dog"]).argmax().item() == vocab.token_to_id("dog")
    without_unk = OneHotEncoder(Vocab(LEXICON, specials=("<pad>",)))
    assert without_unk.dim == 7
    assert without_unk.index("zebra") == 6


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=20, unique=True),
    st.lists(st.text(max_size=8), max_size=20),
)
def test_rows_have_norm_one_and_dimension_v_plus_other(
    lexicon: list[str], tokens: list[str]
) -> None:
    lexicon = [word for word in lexicon if word != "<unk>"] or ["x"]
    encoder = OneHotEncoder(lexicon)
    rows = encoder.encode(tokens)
    assert rows.shape == (len(tokens), len(lexicon) + 1)
    assert torch.equal(torch.linalg.vector_norm(rows, dim=1), torch.ones(len(tokens)))
    for token, row in zip(tokens, rows, strict=True):
        expected = lexicon.index(token) if token in lexicon else len(lexicon)
        assert row.argmax().item() == expected


def test_empty_token_list_gives_zero_rows() -> None:
    assert OneHotEncoder(LEXICON).encode([]).shape == (0, 6)


def test_bad_input() -> None:
    encoder = OneHotEncoder(LEXICON)
    with pytest.raises(VocabError, match=r"id 6 is out of range for a one-hot dimension of 6"):
        encoder.encode_ids([0, 6])
    with pytest.raises(VocabError, match="id -2 is out of range"):
        encoder.encode_ids(torch.tensor([-2]))
    with pytest.raises(ShapeError, match="integer tensor"):
        encoder.encode_ids(torch.tensor([0.5]))
    with pytest.raises(DataError, match="got str; tokenize text first"):
        encoder.encode("apple")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="tokens must be str, got int"):
        encoder.encode([3])  # type: ignore[list-item]
    with pytest.raises(DataError, match="reserved"):
        OneHotEncoder(["a", "<unk>"])
    with pytest.raises(DataError, match="got str"):
        OneHotEncoder("apple")  # type: ignore[arg-type]


def test_fit_builds_the_lexicon_from_raw_text() -> None:
    encoder = OneHotEncoder().fit(["we like TensorLayer, do we?"])
    assert encoder.names == ["we", "like", "tensorlayer", "do", "<unk>"]
    rows = encoder.transform("Do we like rnnkit?")  # (T, D) = (4, 5)
    assert torch.equal(rows, encoder.encode(["do", "we", "like", "rnnkit"]))
    assert rows.argmax(dim=1).tolist() == [3, 0, 1, 4]  # rnnkit: the "other" slot
    many = OneHotEncoder(min_freq=2).fit_transform(["a b a", "b c"])
    assert [tuple(m.shape) for m in many] == [(3, 3), (2, 3)]  # lexicon a, b + other
    assert OneHotEncoder(max_size=1).fit(["b a b"]).names == ["b", "<unk>"]


def test_raw_text_mistakes_are_clear() -> None:
    with pytest.raises(ConfigError, match=r"call fit\(texts\) first"):
        OneHotEncoder().transform("we like")
    with pytest.raises(DataError, match="got one str"):
        OneHotEncoder().fit("we like")
    with pytest.raises(DataError, match="each text must be a str"):
        OneHotEncoder().fit_transform(["we", ["like"]])

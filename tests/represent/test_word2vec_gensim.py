"""WordVectors answers gensim's KeyedVectors queries as gensim does, on the same vectors.

gensim (installed as a reference) builds its own KeyedVectors from the very matrix; every query
of the gensim API must give the same words, and scores equal within 1e-6.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from gensim.models import KeyedVectors

from rnnkit.errors import VocabError
from rnnkit.represent.word2vec import WordVectors, load_vectors

V, E = 300, 16


@pytest.fixture
def pair() -> tuple[WordVectors, KeyedVectors]:
    """The same (V, E) float32 vectors as rnnkit's WordVectors and as gensim's KeyedVectors."""
    vectors = torch.randn(V, E, generator=torch.Generator().manual_seed(7))  # (V, E)
    words = [f"w{k}" for k in range(V)]
    reference = KeyedVectors(vector_size=E)
    reference.add_vectors(words, vectors.numpy())
    return WordVectors(words, vectors), reference


def _same(ours: list[tuple[str, float]], theirs: list[tuple[str, float]]) -> None:
    assert [word for word, _ in ours] == [word for word, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-6, rtol=0)


def test_most_similar_of_a_bare_word_is_gensims(pair: tuple[WordVectors, KeyedVectors]) -> None:
    ours, theirs = pair
    for word in ("w0", "w17", "w299"):
        _same(ours.most_similar(word), theirs.most_similar(word))
        _same(ours.most_similar(word, topn=3), theirs.most_similar(word, topn=3))
    with pytest.raises(VocabError, match="word 'government' is not in the vocabulary"):
        ours.most_similar("government")  # the word named, not its letter 'g'


def test_analogies_and_negative_words_are_gensims(pair: tuple[WordVectors, KeyedVectors]) -> None:
    ours, theirs = pair
    for positive, negative in ((["w1", "w2"], ["w3"]), (["w4"], ["w5", "w6"]), ([], ["w7"])):
        _same(ours.most_similar(positive=positive, negative=negative, topn=7),
              theirs.most_similar(positive=positive, negative=negative, topn=7))  # fmt: skip
    _same(ours.most_similar(negative="w8", topn=4), theirs.most_similar(negative="w8", topn=4))
    vector = torch.randn(E, generator=torch.Generator().manual_seed(1))
    _same(ours.most_similar(vector, topn=5), theirs.most_similar(vector.numpy(), topn=5))


def test_similarity_item_membership_and_length_are_gensims(
    pair: tuple[WordVectors, KeyedVectors],
) -> None:
    ours, theirs = pair
    for a, b in (("w0", "w1"), ("w10", "w200"), ("w5", "w5")):
        assert ours.similarity(a, b) == pytest.approx(float(theirs.similarity(a, b)), abs=1e-6)
    np.testing.assert_array_equal(ours["w42"].numpy(), theirs["w42"])
    np.testing.assert_array_equal(ours[["w1", "w2"]].numpy(), theirs[["w1", "w2"]])
    assert "w3" in ours
    assert "w3" in theirs
    assert "nope" not in ours
    assert len(ours) == len(theirs) == V


@pytest.mark.parametrize("name", ["vectors.txt", "vectors.bin"])
def test_save_writes_what_gensim_reads(
    pair: tuple[WordVectors, KeyedVectors], tmp_path: Path, name: str
) -> None:
    ours, _ = pair
    assert ours.save(tmp_path / name) == tmp_path / name
    binary = name.endswith(".bin")
    read = KeyedVectors.load_word2vec_format(str(tmp_path / name), binary=binary)
    assert list(read.index_to_key) == ours.words
    np.testing.assert_allclose(read.vectors, ours.vectors.numpy(), atol=1e-6 if not binary else 0)
    assert load_vectors(tmp_path / name).words == ours.words

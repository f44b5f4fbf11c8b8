"""WordVectors queries on hand-made vectors whose answers are known exactly."""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError, VocabError
from rnnkit.represent.word2vec.vectors import COSMUL_EPSILON, WordVectors


def _royal() -> WordVectors:
    """man, woman, king, queen built so that king − man + woman = queen exactly; apple apart."""
    words = ["man", "woman", "king", "queen", "apple"]
    vectors = torch.tensor(
        [[1.0, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1], [-1, 0, 0.2]]
    )  # (V=5, E=3)
    return WordVectors(words, vectors, counts=[50, 40, 30, 20, 60])


def _unit(*values: float) -> torch.Tensor:
    vector = torch.tensor(values, dtype=torch.float32)
    return vector / vector.norm()


def _on_circle(*degrees: float) -> torch.Tensor:
    return torch.tensor([[math.cos(math.radians(d)), math.sin(math.radians(d))] for d in degrees])


def test_king_minus_man_plus_woman_is_queen_with_the_exact_cosine() -> None:
    wv = _royal()
    result = wv.most_similar(positive=["king", "woman"], negative=["man"], topn=2)
    target = _unit(1, 0, 1) + _unit(1, 1, 0) - _unit(1, 0, 0)  # k̂ + ŵ − m̂
    expected = float(_unit(1, 1, 1) @ (target / target.norm()))
    assert result[0][0] == "queen"
    assert result[0][1] == pytest.approx(expected, abs=1e-6)
    assert {word for word, _ in result}.isdisjoint({"king", "woman", "man"})
    assert result[1][0] == "apple"


def test_3cosmul_and_3cosadd_disagree_where_the_formulas_say_so() -> None:
    # a=0°, b=30°, c=60°, x=90°, y=120° on the unit circle: b̂ − â + ĉ points at about 75°,
    # so 3CosAdd picks x; 3CosMul gives x 0.75·0.933/0.501 and y 0.5·0.75/0.251, so picks y.
    wv = WordVectors(["a", "b", "c", "x", "y"], _on_circle(0, 30, 60, 90, 120))
    add = wv.most_similar(positive=["b", "c"], negative=["a"], topn=2)
    mul = wv.most_similar(positive=["b", "c"], negative=["a"], topn=2, method="3cosmul")
    assert [w for w, _ in add] == ["x", "y"]
    assert [w for w, _ in mul] == ["y", "x"]
    expected_y = 0.5 * 0.75 / (0.25 + COSMUL_EPSILON)  # cos'(y,b) cos'(y,c) / (cos'(y,a) + ε)
    assert mul[0][1] == pytest.approx(expected_y, rel=1e-5)
    expected_x = 0.75 * (1 + math.cos(math.radians(30))) / 2 / (0.5 + COSMUL_EPSILON)
    assert mul[1][1] == pytest.approx(expected_x, rel=1e-5)


def test_similarity_nearest_and_vector_queries() -> None:
    wv = _royal()
    assert wv.similarity("king", "queen") == pytest.approx(2 / (math.sqrt(2) * math.sqrt(3)))
    assert wv.similarity("man", "man") == pytest.approx(1.0)
    nearest = wv.nearest("man", topn=2)
    assert [w for w, _ in nearest] == ["woman", "king"]  # both at cos = 1/√2, row order on ties
    assert nearest[0][1] == pytest.approx(1 / math.sqrt(2))
    by_vector = wv.nearest(torch.tensor([2.0, 2.0, 2.0]), topn=1)  # a vector excludes nothing
    assert by_vector == [("queen", pytest.approx(1.0))]
    assert len(wv.nearest("man", topn=100)) == 4  # all but the query word


def test_most_similar_accepts_vectors_and_restricts_candidates() -> None:
    wv = _royal()
    assert wv.most_similar(positive=[torch.tensor([1.0, 1.0, 1.0])], topn=1)[0][0] == "queen"
    # only the first 3 rows (man, woman, king) are candidates; the query word king is excluded
    restricted = wv.most_similar(positive=["king"], topn=5, restrict_vocab=3)
    assert [w for w, _ in restricted] == ["man", "woman"]


def test_doesnt_match_picks_the_odd_word() -> None:
    assert _royal().doesnt_match(["man", "woman", "king", "apple"]) == "apple"


def test_getitem_index_contains_and_unit_cache() -> None:
    wv = _royal()
    assert torch.equal(wv["queen"], torch.tensor([1.0, 1, 1]))
    assert wv[["man", "apple"]].shape == (2, 3)
    assert wv.index("king") == 2
    assert "king" in wv
    assert "emu" not in wv
    assert len(wv) == 5
    assert wv.embed_dim == 3
    assert wv.unit is wv.unit  # computed once
    assert torch.allclose(wv.unit.norm(dim=1), torch.ones(5))


def test_restrict_keeps_the_most_frequent_words() -> None:
    wv = _royal()
    top = wv.restrict(2)
    assert top.words == ["apple", "man"]
    assert top.counts == [60, 50]
    assert torch.equal(top["man"], wv["man"])
    no_counts = WordVectors(wv.words, wv.vectors)
    assert no_counts.restrict(3).words == ["man", "woman", "king"]  # row order without counts
    assert no_counts.restrict(99).words == wv.words
    with pytest.raises(ConfigError, match="positive"):
        wv.restrict(0)


def test_unknown_words_name_the_word_and_a_close_spelling() -> None:
    wv = _royal()
    with pytest.raises(VocabError, match=r"'kng'.*did you mean 'king'"):
        wv.most_similar(positive=["kng"])
    with pytest.raises(VocabError, match=r"'Queen'.*did you mean 'queen'"):
        wv.similarity("Queen", "king")
    with pytest.raises(VocabError, match=r"'zzzz' is not in the vocabulary of 5 words$"):
        wv.nearest("zzzz")
    with pytest.raises(VocabError, match="'emu'"):
        wv.doesnt_match(["man", "emu"])


def test_bad_arguments_are_clear_errors() -> None:
    wv = _royal()
    with pytest.raises(ConfigError, match="3cosadd"):
        wv.most_similar(positive=["king"], method="cos")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="topn"):
        wv.nearest("king", topn=0)
    with pytest.raises(ConfigError, match="at least one"):
        wv.most_similar()
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        wv.nearest(torch.ones(4))
    with pytest.raises(ShapeError, match="2-D"):
        WordVectors(["a"], torch.ones(3))
    with pytest.raises(ShapeError, match="2 words"):
        WordVectors(["a", "b"], torch.ones(3, 2))
    with pytest.raises(ShapeError, match="float"):
        WordVectors(["a"], torch.ones(1, 2, dtype=torch.int64))
    with pytest.raises(VocabError, match="distinct"):
        WordVectors(["a", "a"], torch.ones(2, 2))
    with pytest.raises(ShapeError, match="counts"):
        WordVectors(["a", "b"], torch.ones(2, 2), counts=[1])

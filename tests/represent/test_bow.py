"""Bag-of-words: the TensorLayer example, binary, smooth-idf tf-idf against hand values, errors."""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit.errors import ConfigError, DataError, ShapeError, VocabError
from rnnkit.represent.bow import BagOfWords
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import Vocab

WORDS = Tokenizer(kind="word", lowercase=True, keep_punctuation=False)
SENTENCE = "we like TensorLayer, do we?"


def test_worked_example_counts() -> None:
    vocab = Vocab.build_from_iterator([SENTENCE], WORDS)
    bow = BagOfWords(vocab)
    vector = bow.transform(SENTENCE)
    assert vector.shape == (len(vocab),)
    assert bow.to_dict(vector) == {"we": 2.0, "like": 1.0, "tensorlayer": 1.0, "do": 1.0}


def test_unknown_words_count_under_unk_and_order_is_lost() -> None:
    vocab = Vocab.build_from_iterator(["dog bites man"], WORDS)
    bow = BagOfWords(vocab)
    assert torch.equal(bow.transform("dog bites man"), bow.transform("man bites dog"))
    assert bow.to_dict(bow.transform("cat bites cat")) == {"<unk>": 2.0, "bites": 1.0}
    with pytest.raises(VocabError, match="'cat' is not in the vocabulary"):
        bow.transform("cat", strict=True)


def test_binary_mode() -> None:
    vocab = Vocab.build_from_iterator([SENTENCE], WORDS, specials=())
    bow = BagOfWords(vocab, mode="binary")
    assert bow.transform(SENTENCE).tolist() == [1.0, 1.0, 1.0, 1.0]


def test_tfidf_matches_the_smooth_idf_formula() -> None:
    documents = ["a a b", "b c", "b"]  # N = 3; df: a 1, b 3, c 1
    vocab = Vocab.build_from_iterator(documents, WORDS, specials=())  # ids: b, a, c
    bow = BagOfWords(vocab, mode="tfidf").fit(documents)
    idf_rare = math.log(4 / 2) + 1  # ln((1 + N) / (1 + df)) + 1 with df = 1
    idf_everywhere = math.log(4 / 4) + 1
    expected = torch.tensor([1 * idf_everywhere, 2 * idf_rare, 0.0])  # tf · idf of "a a b"
    assert torch.allclose(bow.transform("a a b"), expected)
    assert bow.num_documents == 3
    normed = BagOfWords(vocab, mode="tfidf", norm="l2").fit(documents).transform("a a b")
    assert torch.allclose(normed, expected / expected.norm())
    assert torch.allclose(torch.linalg.vector_norm(normed), torch.tensor(1.0))


def test_sublinear_tf_is_one_plus_log() -> None:
    vocab = Vocab.build_from_iterator(["x x x x y"], WORDS, specials=())
    bow = BagOfWords(vocab, sublinear=True)
    assert torch.allclose(bow.transform("x x x x y"), torch.tensor([1 + math.log(4), 1.0]))


def test_empty_document_gives_zero_vector_even_with_l2() -> None:
    vocab = Vocab.build_from_iterator([SENTENCE], WORDS)
    bow = BagOfWords(vocab, mode="count", norm="l2")
    assert torch.equal(bow.transform(""), torch.zeros(len(vocab)))


def test_top_terms_and_batch() -> None:
    vocab = Vocab.build_from_iterator([SENTENCE], WORDS)
    bow = BagOfWords(vocab)
    assert bow.top_terms(bow.transform(SENTENCE), 2) == [("we", 2.0), ("like", 1.0)]
    assert bow.transform_batch([SENTENCE, "do"]).shape == (2, len(vocab))


def test_bad_settings_and_input() -> None:
    vocab = Vocab.build_from_iterator([SENTENCE], WORDS)
    with pytest.raises(ConfigError, match="call fit"):
        BagOfWords(vocab, mode="tfidf").transform(SENTENCE)
    with pytest.raises(ConfigError, match="mode must be"):
        BagOfWords(vocab, mode="tf")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="norm must be"):
        BagOfWords(vocab, norm="l1")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="at least one document"):
        BagOfWords(vocab, mode="tfidf").fit([])
    with pytest.raises(ShapeError, match=r"expected a vector of shape \(8,\), got \(3,\)"):
        BagOfWords(vocab).to_dict(torch.zeros(3))


# -- from raw text, as scikit-learn's vectorizers ---------------------------------------------

DOCUMENTS = ["We like TensorLayer, do we?", "we like rnnkit", "Do recurrent nets like text?"]


def test_the_lecture_example_from_raw_text() -> None:
    bow = BagOfWords(mode="count").fit([SENTENCE])
    assert bow.to_dict(bow.transform(SENTENCE)) == {
        "we": 2.0, "like": 1.0, "tensorlayer": 1.0, "do": 1.0,
    }  # fmt: skip
    assert bow.get_feature_names_out() == ["<unk>", "we", "like", "tensorlayer", "do"]
    assert bow.to_dict(bow.transform("we like rnnkit")) == {"<unk>": 1.0, "we": 1.0, "like": 1.0}
    assert torch.equal(bow.fit_transform([SENTENCE]), bow.transform([SENTENCE]))
    assert bow.transform([SENTENCE, "do"]).shape == (2, 5)


def _sklearn_columns(matrix, names: list[str], vocabulary: dict[str, int]) -> torch.Tensor:
    """The columns of a scikit-learn matrix (N, V') in our dimension order; <unk> is 0."""
    dense = torch.tensor(matrix.toarray(), dtype=torch.float32)
    zero = torch.zeros(dense.shape[0])
    return torch.stack([dense[:, vocabulary[n]] if n in vocabulary else zero for n in names], 1)


@pytest.mark.parametrize("sublinear", [False, True])
def test_counts_and_tfidf_equal_scikit_learns(sublinear: bool) -> None:
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    pattern = r"(?u)\b\w+\b"  # keep one-letter words, as our word tokeniser does
    counts = BagOfWords(mode="count").fit_transform(DOCUMENTS)
    reference = CountVectorizer(token_pattern=pattern)
    matrix = reference.fit_transform(DOCUMENTS)
    names = BagOfWords().fit(DOCUMENTS).get_feature_names_out()
    assert torch.equal(counts, _sklearn_columns(matrix, names, reference.vocabulary_))
    tfidf = BagOfWords(mode="tfidf", norm="l2", sublinear=sublinear).fit_transform(DOCUMENTS)
    reference = TfidfVectorizer(token_pattern=pattern, sublinear_tf=sublinear)
    matrix = reference.fit_transform(DOCUMENTS)
    expected = _sklearn_columns(matrix, names, reference.vocabulary_)
    assert torch.allclose(tfidf, expected, atol=1e-6)


def test_raw_text_settings_and_mistakes_are_clear() -> None:
    names = BagOfWords(min_freq=2).fit(DOCUMENTS).get_feature_names_out()
    assert names == ["<unk>", "we", "like", "do"]  # we, like: 3 times each, first seen first
    with pytest.raises(ConfigError, match=r"call fit\(texts\)"):
        BagOfWords().transform(SENTENCE)
    with pytest.raises(DataError, match="got one str"):
        BagOfWords().fit(SENTENCE)
    with pytest.raises(DataError, match="must be a text"):
        BagOfWords().fit([SENTENCE, ["we", "like"]])
    vocab = Vocab.build_from_iterator([SENTENCE], WORDS)
    with pytest.raises(ConfigError, match="with a given Vocab they do not apply"):
        BagOfWords(vocab, min_freq=2)
    assert BagOfWords(vocab).transform(["we", "we"]).tolist()[vocab.token_to_id("we")] == 2.0

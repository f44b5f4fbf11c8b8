"""Word hashing by letter n-grams: the #apple# example, dimensions and L1 norms, the OOV slots."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.errors import ConfigError, DataError
from rnnkit.represent.hashing import WordHasher, letter_ngrams, ngram_collisions, stable_bucket


def test_apple_trigrams_with_boundary_marks() -> None:
    assert letter_ngrams("apple", 3) == ["#ap", "app", "ppl", "ple", "le#"]
    assert letter_ngrams("go", 2) == ["#g", "go", "o#"]


def test_repeated_grams_are_counted() -> None:
    hasher = WordHasher.fit(["aaaa"], n=3)
    assert hasher.to_dict(hasher.encode_word("aaaa")) == {"#aa": 1.0, "aaa": 2.0, "aa#": 1.0}


def test_fitted_vocabulary_sends_unseen_grams_to_other() -> None:
    hasher = WordHasher.fit(["apple"], n=3)
    assert hasher.dim == 6
    assert hasher.names[-1] == "<other>"
    vector = hasher.encode_word("apply", sparse=False)  # #ap app ppl | ply ly# unseen
    assert vector.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0, 2.0]


def test_hashing_trick_has_fixed_dimension_and_stable_buckets() -> None:
    hasher = WordHasher(n=3, oov_buckets=64)
    vectors = hasher.encode(["apple", "zebra", "apple"])
    assert vectors.shape == (3, 64)
    assert vectors.is_sparse
    dense = vectors.to_dense()
    assert torch.equal(dense[0], dense[2])
    assert hasher.index("app") == stable_bucket("app", 64)
    assert hasher.names[:2] == ["<hash:0>", "<hash:1>"]


def test_buckets_are_golden_values_not_python_hash() -> None:
    # Python's hash() of a str changes with PYTHONHASHSEED from run to run; crc32 never does.
    buckets = [stable_bucket(gram, 4093) for gram in letter_ngrams("apple")]
    assert buckets == [603, 3224, 1735, 2453, 2077]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.text(min_size=max(1, n - 2), max_size=12), min_size=1, max_size=10),
        )
    ),
    st.integers(1, 50),
)
def test_dimension_and_l1_norm_equal_number_of_ngrams(case, buckets: int) -> None:
    n, words = case
    for hasher in (
        WordHasher.fit(words[:1], n, oov_buckets=buckets),
        WordHasher(n, oov_buckets=buckets),
    ):
        vectors = hasher.encode(words, sparse=False)
        assert vectors.shape == (len(words), hasher.dim)
        norms = vectors.sum(dim=1)  # entries are counts ≥ 0, so the sum is ‖x‖₁
        assert norms.tolist() == [float(len(word) + 2 - n + 1) for word in words]


def test_short_word_is_its_own_gram() -> None:
    assert letter_ngrams("a", 4) == ["#a#"]


def test_collisions_are_words_with_equal_bags() -> None:
    assert ngram_collisions(["on", "no", "cat"], n=1) == [["on", "no"]]
    assert ngram_collisions(["on", "no", "cat"], n=2) == []


def test_empty_list_and_bad_input() -> None:
    hasher = WordHasher(oov_buckets=8)
    assert hasher.encode([]).shape == (0, 8)
    with pytest.raises(DataError, match="empty word"):
        letter_ngrams("")
    with pytest.raises(DataError, match="got int"):
        letter_ngrams(5)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="use encode_word"):
        hasher.encode("apple")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="n must be a positive integer, got 0"):
        WordHasher(n=0)
    with pytest.raises(ConfigError, match="oov_buckets"):
        WordHasher(oov_buckets=0)
    with pytest.raises(DataError, match="no words"):
        WordHasher.fit([])


def test_transform_reads_raw_text_as_the_bag_of_its_words_grams() -> None:
    hasher = WordHasher.fit(["we", "like", "tensorlayer", "do"], n=3)
    vector = hasher.transform("We like TensorLayer, do we?")  # (D,)
    words = hasher.encode(["we", "like", "tensorlayer", "do", "we"], sparse=False)  # (5, D)
    assert torch.equal(vector, words.sum(0))
    assert hasher.to_dict(hasher.transform("do we?")) == {"#we": 1.0, "we#": 1.0, "#do": 1.0,
                                                          "do#": 1.0}  # fmt: skip
    batch = hasher.transform(["do we?", "rnnkit"])  # (N, D)
    assert batch.shape == (2, hasher.dim)
    assert hasher.to_dict(batch[1]) == {"<other>": 6.0}  # #rn rnn nnk nki kit it#: unseen
    assert torch.equal(hasher.transform(["do we?"], sparse=True).to_dense(), batch[:1])
    trick = WordHasher(oov_buckets=64).transform(["a b", ""])  # no fit: the hashing trick
    assert trick.shape == (2, 64)
    assert trick.sum(1).tolist() == [2.0, 0.0]  # "a" has the one trigram #a#, "b" #b#
    with pytest.raises(DataError, match="a text or a list of texts"):
        hasher.transform([["we"]])  # type: ignore[list-item]

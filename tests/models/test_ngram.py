"""Unigram and interpolated Kneser-Ney bigram: hand-computed values, normalisation, perplexity."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
import torch

from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.models.ngram import KneserNeyBigramLM, UnigramLM

# ids 0 1 2 0 1 0 3 over V = 5 (id 4 never occurs). Bigrams: (0,1)×2, (1,2), (2,0), (1,0), (0,3):
# n₁ = 4, n₂ = 1 -> D = 4/6; N₁₊(••) = 5; N₁₊(•w) = [2, 1, 1, 1, 0] -> P_cont = [2, 1, 1, 1, 0]/5;
# c(0) = 3, N₁₊(0•) = 2 -> λ(0) = (2/3)·2/3 = 4/9; c(1) = 2, N₁₊(1•) = 2 -> λ(1) = 2/3;
# id 3 ends the stream and id 4 never occurs: c = 0, so P(·|3) = P(·|4) = P_cont.
TINY = [0, 1, 2, 0, 1, 0, 3]
V = 5
D = Fraction(2, 3)
P_CONT = [Fraction(2, 5), Fraction(1, 5), Fraction(1, 5), Fraction(1, 5), Fraction(0)]
EXPECTED = {
    0: [  # max(c(0,w) − D, 0)/3 + 4/9·P_cont(w)
        Fraction(4, 9) * P_CONT[0],
        (2 - D) / 3 + Fraction(4, 9) * P_CONT[1],  # 8/15
        Fraction(4, 9) * P_CONT[2],
        (1 - D) / 3 + Fraction(4, 9) * P_CONT[3],  # 1/5
        Fraction(0),
    ],
    1: [  # max(c(1,w) − D, 0)/2 + 2/3·P_cont(w)
        (1 - D) / 2 + Fraction(2, 3) * P_CONT[0],
        Fraction(2, 3) * P_CONT[1],
        (1 - D) / 2 + Fraction(2, 3) * P_CONT[2],  # 3/10
        Fraction(2, 3) * P_CONT[3],
        Fraction(0),
    ],
    3: P_CONT,
    4: P_CONT,
}


@pytest.fixture
def tiny_kn() -> KneserNeyBigramLM:
    return KneserNeyBigramLM.fit(torch.tensor(TINY), V)


def test_kneser_ney_statistics_match_hand_counts(tiny_kn: KneserNeyBigramLM) -> None:
    assert tiny_kn.discount == pytest.approx(float(D), abs=1e-15)
    assert tiny_kn.continuation.tolist() == pytest.approx([float(p) for p in P_CONT], abs=1e-15)
    assert tiny_kn.history_counts.tolist() == [3, 2, 1, 0, 0]
    assert tiny_kn.followers.tolist() == [2, 2, 1, 0, 0]
    assert tiny_kn.backoff.tolist() == pytest.approx([4 / 9, 2 / 3, 2 / 3, 1.0, 1.0], abs=1e-15)


@pytest.mark.parametrize("context", sorted(EXPECTED))
def test_kneser_ney_probabilities_match_hand_computation(
    tiny_kn: KneserNeyBigramLM, context: int
) -> None:
    expected = [float(p) for p in EXPECTED[context]]
    assert tiny_kn.distribution(context).tolist() == pytest.approx(expected, abs=1e-15)


def test_hand_values_spelled_out(tiny_kn: KneserNeyBigramLM) -> None:
    assert EXPECTED[0][1] == Fraction(8, 15)
    assert EXPECTED[1][2] == Fraction(3, 10)
    probability = tiny_kn.probability(np.array([0, 1]), np.array([1, 2]))
    assert probability.tolist() == pytest.approx([8 / 15, 3 / 10], abs=1e-15)


def test_kneser_ney_perplexity_is_exp_of_mean_negative_log_prob(
    tiny_kn: KneserNeyBigramLM,
) -> None:
    # stream 0 1 2: P(1|0)·P(2|1) = 8/15 · 3/10 over M = 2 transitions
    expected = (8 / 15 * 3 / 10) ** -0.5
    assert tiny_kn.perplexity([0, 1, 2]) == pytest.approx(expected, rel=1e-12)


def test_distributions_sum_to_one_for_every_context() -> None:
    generator = np.random.default_rng(0)
    vocab_size = 30
    ids = generator.zipf(1.5, size=2000) % (vocab_size - 3)  # ids ≥ V − 3 never occur
    model = KneserNeyBigramLM.fit(ids, vocab_size)
    sums = [model.distribution(context).sum() for context in range(vocab_size)]
    assert sums == pytest.approx([1.0] * vocab_size, abs=1e-12)
    assert model.history_counts[vocab_size - 1] == 0  # includes a never-seen history


def test_vectorised_bigram_counts_equal_a_counter() -> None:
    ids = np.random.default_rng(1).integers(0, 12, size=500)
    model = KneserNeyBigramLM.fit(ids, 12)
    counter = Counter(zip(ids[:-1].tolist(), ids[1:].tolist(), strict=True))
    history, word = np.divmod(np.arange(144), 12)
    expected = [counter[(v, w)] for v, w in zip(history.tolist(), word.tolist(), strict=True)]
    assert model.bigram_counts(history, word).tolist() == expected


def test_unigram_is_counts_over_total() -> None:
    ids = torch.tensor([3, 0, 3, 3, 1, 0])
    model = UnigramLM.fit(ids, 5)
    assert model.distribution().tolist() == pytest.approx([2 / 6, 1 / 6, 0, 3 / 6, 0], abs=1e-15)
    assert model.distribution(context=3).tolist() == model.distribution().tolist()


def test_uniform_model_perplexity_equals_vocab_size() -> None:
    vocab_size = 7
    model = UnigramLM.fit(np.tile(np.arange(vocab_size), 3), vocab_size)  # P(w) = 1/V
    stream = np.random.default_rng(2).integers(0, vocab_size, size=100)
    assert model.perplexity(stream) == pytest.approx(vocab_size, rel=1e-12)


def test_unigram_scores_the_same_targets_as_the_bigram() -> None:
    model = UnigramLM.fit([0, 0, 0, 1], 2)  # P = [3/4, 1/4]; x_1 is not scored
    expected = math.exp(-(math.log(1 / 4) + math.log(3 / 4)) / 2)
    assert model.perplexity([1, 1, 0]) == pytest.approx(expected, rel=1e-12)


def test_unseen_token_gives_a_clear_error(tiny_kn: KneserNeyBigramLM) -> None:
    with pytest.raises(DataError, match="probability 0"):
        tiny_kn.perplexity([0, 1, 4])
    with pytest.raises(DataError, match="probability 0"):
        UnigramLM.fit(TINY, V).perplexity([0, 4])


def test_explicit_discount_and_its_range() -> None:
    model = KneserNeyBigramLM.fit(TINY, V, discount=0.5)
    assert model.distribution(1)[2] == pytest.approx((1 - 0.5) / 2 + 0.5 * 2 / 2 * 1 / 5)
    with pytest.raises(ConfigError, match="discount must be in"):
        KneserNeyBigramLM.fit(TINY, V, discount=1.5)


def test_discount_needs_singletons() -> None:
    with pytest.raises(DataError, match="exactly once"):
        KneserNeyBigramLM.fit([0, 1, 0, 1, 0, 1, 0], 2)  # (0,1)×3, (1,0)×3: n₁ = 0


def test_bad_ids_are_rejected() -> None:
    with pytest.raises(ShapeError, match=r"\[0, 5\)"):
        KneserNeyBigramLM.fit([0, 1, 5], V)
    with pytest.raises(ShapeError, match="1-D integer"):
        UnigramLM.fit(torch.zeros(2, 3, dtype=torch.int64), V)
    with pytest.raises(ShapeError, match="1-D integer"):
        UnigramLM.fit(np.array([0.0, 1.0]), V)
    with pytest.raises(DataError, match="at least 2"):
        UnigramLM.fit(TINY, V).perplexity([1])
    with pytest.raises(ConfigError, match="vocab_size"):
        UnigramLM.fit(TINY, 0)

"""Count-based baselines for word-level language models: a unigram and a Kneser-Ney bigram.

Both models read token ids encoded with the same `Vocab` (same min_freq, same <unk>) as the
neural model, so every out-of-vocabulary word is the token <unk> for all of them and their
perplexities are comparable. They score a stream x_1 … x_N by its N − 1 transitions:

    PPL = exp(−(1/(N−1)) Σ_{t=2..N} ln P(x_t | x_{t−1}))

Counting is vectorised with numpy: a bigram (v, w) is the integer key v·V + w, and
`np.unique` over the keys of the whole stream gives every count at once (15M tokens in a few
seconds).

References:
    Kneser & Ney. Improved backing-off for M-gram language modeling. ICASSP 1995.
    Ney, Essen & Kneser. On structuring probabilistic dependences in stochastic language
        modelling. Computer Speech and Language 8, 1994 (the discount estimate D).
    Chen & Goodman. An Empirical Study of Smoothing Techniques for Language Modeling.
        Harvard TR-10-98, 1998 (interpolated Kneser-Ney, §3.5 and §4.1.6).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from rnnkit.errors import ConfigError, DataError, ShapeError


def as_id_array(ids: Any, vocab_size: int, *, min_length: int = 1) -> np.ndarray:
    """Token ids (a 1-D tensor, array or list) as an int64 numpy array, checked against V.

    >>> as_id_array(torch.tensor([2, 0, 1]), 3)
    array([2, 0, 1])
    """
    if isinstance(ids, torch.Tensor):
        ids = ids.detach().cpu().numpy()
    array = np.asarray(ids)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise ShapeError(
            f"token ids must be a 1-D integer sequence (N,), got shape {array.shape} {array.dtype}"
        )
    if len(array) < min_length:
        raise DataError(f"need at least {min_length} token ids, got {len(array)}")
    if len(array) and (array.min() < 0 or array.max() >= vocab_size):
        raise ShapeError(
            f"token ids must lie in [0, {vocab_size}) (the vocabulary size), got range "
            f"[{array.min()}, {array.max()}]; encode the text with the model's Vocab"
        )
    return array.astype(np.int64, copy=False)


def _check_vocab_size(vocab_size: int) -> int:
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
        raise ConfigError(f"vocab_size must be a positive integer, got {vocab_size!r}")
    return vocab_size


def perplexity_from_log_probs(log_probs: np.ndarray) -> float:
    """PPL = exp(−mean ln P); DataError naming the first position whose probability is 0.

    >>> round(perplexity_from_log_probs(np.log(np.full(5, 0.25))), 6)
    4.0
    """
    if len(log_probs) == 0:
        raise DataError("perplexity needs at least one scored token, got none")
    if not np.all(np.isfinite(log_probs)):
        position = int(np.flatnonzero(~np.isfinite(log_probs))[0])
        raise DataError(
            f"scored token {position} has probability 0: the model never saw it in training "
            "(with min_freq=1 the <unk> token is never seen); build the vocabulary with "
            "min_freq ≥ 2 or max_size so that <unk> has training counts"
        )
    return math.exp(-float(log_probs.mean()))


class UnigramLM:
    """Maximum-likelihood unigram model, blind to context.

    P(w) = c(w) / N

    where c(w) is the count of token w in the training stream and N its length.

    >>> model = UnigramLM.fit(torch.tensor([0, 1, 1, 1]), vocab_size=3)
    >>> model.distribution().tolist()
    [0.25, 0.75, 0.0]
    """

    def __init__(self, counts: np.ndarray) -> None:
        counts = np.asarray(counts, dtype=np.int64)
        if counts.ndim != 1 or counts.sum() < 1 or counts.min() < 0:
            raise DataError("unigram counts must be a 1-D array of counts ≥ 0 with a positive sum")
        self.vocab_size = len(counts)  # V
        self.counts = counts  # c(w), (V,)
        self.total = int(counts.sum())  # N
        self.probs = counts / self.total  # P(w) = c(w) / N, (V,)

    @classmethod
    def fit(cls, ids: Any, vocab_size: int) -> UnigramLM:
        """Count the tokens of a training stream of ids (N,) over a vocabulary of V ids."""
        vocab_size = _check_vocab_size(vocab_size)
        array = as_id_array(ids, vocab_size)
        return cls(np.bincount(array, minlength=vocab_size))  # c(w)

    def distribution(self, context: int | None = None) -> np.ndarray:
        """P(· | context) = P(·) as a (V,) float64 array; the context is ignored."""
        return self.probs.copy()

    def log_probs(self, ids: Any) -> np.ndarray:
        """ln P(x_t) for t = 2 … N of a stream (N,) -> (N−1,), the targets the bigram scores."""
        array = as_id_array(ids, self.vocab_size, min_length=2)
        with np.errstate(divide="ignore"):
            return np.log(self.probs[array[1:]])

    def perplexity(self, ids: Any) -> float:
        """exp(−(1/(N−1)) Σ_{t≥2} ln P(x_t)) over a stream of ids."""
        return perplexity_from_log_probs(self.log_probs(ids))


class KneserNeyBigramLM:
    """Interpolated Kneser-Ney bigram model with one absolute discount D.

    P(w | v) = max(c(v,w) − D, 0) / c(v) + λ(v) · P_cont(w)    if c(v) > 0  (Kneser & Ney 1995)
    P(w | v) = P_cont(w)                                          if c(v) = 0
    λ(v) = D · N₁₊(v•) / c(v)                                     mass freed by discounting
    P_cont(w) = N₁₊(•w) / N₁₊(••)                                 continuation probability
    D = n₁ / (n₁ + 2 n₂)                                          (Ney et al. 1994)

    where c(v,w) counts the bigram "v w" in the training stream, c(v) = Σ_w c(v,w) counts v
    as a history, N₁₊(v•) = |{w: c(v,w) > 0}| is the number of distinct followers of v,
    N₁₊(•w) = |{v: c(v,w) > 0}| the number of distinct histories of w, N₁₊(••) the number of
    distinct bigrams, and n₁, n₂ the numbers of bigrams seen exactly once and twice. For every
    history v, Σ_w P(w | v) = 1: the discounts take D · N₁₊(v•) from the counts, and λ(v)
    gives exactly that mass back through P_cont, which sums to 1. P_cont rewards a word seen
    after many different words over one seen often after the same few ("Francisco").

    >>> model = KneserNeyBigramLM.fit(torch.tensor([0, 1, 0, 2, 0, 1]), vocab_size=3)
    >>> round(model.discount, 4), model.distribution(0).round(4).tolist()
    (0.6, [0.2, 0.5667, 0.2333])
    """

    def __init__(
        self, keys: np.ndarray, counts: np.ndarray, vocab_size: int, *, discount: float | None
    ) -> None:
        V = self.vocab_size = _check_vocab_size(vocab_size)
        self.keys, self.counts = keys, counts  # sorted keys v·V + w and their c(v,w), (K,)
        n1, n2 = int((counts == 1).sum()), int((counts == 2).sum())
        if discount is None:
            if n1 == 0:
                raise DataError(
                    "no bigram occurs exactly once, so D = n₁/(n₁ + 2n₂) is 0 and nothing is "
                    "smoothed; pass discount= explicitly (0 < D ≤ 1)"
                )
            discount = n1 / (n1 + 2 * n2)  # D
        if not 0.0 < discount <= 1.0:
            raise ConfigError(f"discount must be in (0, 1], got {discount}")
        self.discount = float(discount)
        history, follower = keys // V, keys % V  # v, w of each distinct bigram, (K,)
        self.history_counts = np.bincount(history, weights=counts, minlength=V)  # c(v), (V,)
        self.followers = np.bincount(history, minlength=V)  # N₁₊(v•), (V,)
        histories = np.bincount(follower, minlength=V)  # N₁₊(•w), (V,)
        self.continuation = histories / len(keys)  # P_cont(w), (V,)
        seen = self.history_counts > 0
        safe = np.where(seen, self.history_counts, 1.0)
        self.backoff = np.where(seen, self.discount * self.followers / safe, 1.0)  # λ(v), (V,)

    @classmethod
    def fit(cls, ids: Any, vocab_size: int, *, discount: float | None = None) -> KneserNeyBigramLM:
        """Count the bigrams of a training stream of ids (N,); D from counts-of-counts if None."""
        vocab_size = _check_vocab_size(vocab_size)
        array = as_id_array(ids, vocab_size, min_length=2)
        keys, counts = np.unique(array[:-1] * vocab_size + array[1:], return_counts=True)
        return cls(keys, counts.astype(np.int64), vocab_size, discount=discount)

    def bigram_counts(self, history: np.ndarray, word: np.ndarray) -> np.ndarray:
        """c(v,w) for arrays of histories v and words w (same shape), by binary search."""
        query = history * self.vocab_size + word  # keys v·V + w
        index = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        found = self.keys[index] == query
        return np.where(found, self.counts[index], 0)  # c(v,w)

    def probability(self, history: np.ndarray, word: np.ndarray) -> np.ndarray:
        """P(w | v) for arrays of histories v and words w (same shape), float64."""
        history, word = np.asarray(history, dtype=np.int64), np.asarray(word, dtype=np.int64)
        counts = self.bigram_counts(history, word)  # c(v,w)
        context = self.history_counts[history]  # c(v)
        discounted = np.maximum(counts - self.discount, 0.0) / np.where(context > 0, context, 1.0)
        return discounted + self.backoff[history] * self.continuation[word]  # P(w | v)

    def distribution(self, context: int) -> np.ndarray:
        """P(· | v) over the whole vocabulary for one history id v, a (V,) array summing to 1."""
        if not 0 <= context < self.vocab_size:
            raise ShapeError(f"context id must lie in [0, {self.vocab_size}), got {context}")
        words = np.arange(self.vocab_size)
        return self.probability(np.full_like(words, context), words)

    def log_probs(self, ids: Any) -> np.ndarray:
        """ln P(x_t | x_{t−1}) for t = 2 … N of a stream of ids (N,) -> (N−1,)."""
        array = as_id_array(ids, self.vocab_size, min_length=2)
        with np.errstate(divide="ignore"):
            return np.log(self.probability(array[:-1], array[1:]))

    def perplexity(self, ids: Any) -> float:
        """exp(−(1/(N−1)) Σ_{t≥2} ln P(x_t | x_{t−1})) over a stream of ids."""
        return perplexity_from_log_probs(self.log_probs(ids))


__all__ = ["KneserNeyBigramLM", "UnigramLM", "as_id_array", "perplexity_from_log_probs"]

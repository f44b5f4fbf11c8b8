"""WordVectors: trained word vectors and the queries users know from gensim's KeyedVectors.

Every query works on unit vectors x̂ = x / ‖x‖ (cached once), so that a cosine is a dot product:

    cos(x, y) = x̂ · ŷ

References:
    T. Mikolov, W. Yih and G. Zweig, "Linguistic Regularities in Continuous Space Word
    Representations", NAACL 2013 (3CosAdd, the vector offset method).
    O. Levy and Y. Goldberg, "Linguistic Regularities in Sparse and Explicit Word
    Representations", CoNLL 2014 (3CosMul).
    R. Řehůřek and P. Sojka, gensim `KeyedVectors`, https://radimrehurek.com/gensim/
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor

from rnnkit.errors import ConfigError, ShapeError, VocabError

AnalogyMethod = Literal["3cosadd", "3cosmul"]
COSMUL_EPSILON = 1e-3  # ε of 3CosMul (Levy & Goldberg 2014); gensim's most_similar_cosmul uses 1e-6
Query = str | Tensor


def check_method(method: str) -> None:
    """ConfigError unless `method` is "3cosadd" or "3cosmul"."""
    if method not in ("3cosadd", "3cosmul"):
        raise ConfigError(f"method must be '3cosadd' or '3cosmul', got {method!r}")


def check_topn(topn: int) -> None:
    """ConfigError unless `topn` is a positive integer."""
    if isinstance(topn, bool) or not isinstance(topn, int) or topn < 1:
        raise ConfigError(f"topn must be a positive integer, got {topn!r}")


def _as_queries(items: Query | Sequence[Query]) -> list[Query]:
    """A list of queries: one word or vector alone becomes a list of one (a word is never read
    as its letters)."""
    return [items] if isinstance(items, str | Tensor) else list(items)


class WordVectors:
    """V words with a vector (E,) each, ordered most frequent first; read-only queries on them.

    Shapes: vectors (V, E) float32; `__getitem__` gives (E,) for a word, (N, E) for N words.

    >>> wv = WordVectors(["man", "woman", "king", "queen"],
    ...                  torch.tensor([[1.0, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1]]))
    >>> wv.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0]
    'queen'
    >>> round(wv.similarity("king", "queen"), 4)  # 2 / (√2 · √3)
    0.8165
    >>> wv.most_similar("king", topn=1)[0][0]  # one word, as gensim takes it
    'queen'
    """

    def __init__(
        self, words: Sequence[str], vectors: Tensor, counts: Sequence[int] | None = None
    ) -> None:
        if not isinstance(vectors, Tensor) or vectors.dim() != 2:
            shape = tuple(vectors.shape) if isinstance(vectors, Tensor) else type(vectors).__name__
            raise ShapeError(f"vectors must be a 2-D tensor (V, E), got {shape}")
        if not vectors.dtype.is_floating_point:
            raise ShapeError(f"vectors must be a float tensor, got {vectors.dtype}")
        if len(words) != vectors.shape[0] or len(words) == 0:
            raise ShapeError(
                f"need one vector per word and at least one word: {len(words)} words,"
                f" vectors of shape {tuple(vectors.shape)}"
            )
        self._words = tuple(words)
        self._index = {word: row for row, word in enumerate(self._words)}
        if len(self._index) != len(self._words) or not all(isinstance(w, str) for w in words):
            raise VocabError("words must be distinct strings; the list repeats a word")
        if counts is not None:
            if len(counts) != len(words) or any(int(count) < 0 for count in counts):
                raise ShapeError(
                    f"counts must be {len(words)} non-negative integers, one per word,"
                    f" got {len(counts)}"
                )
            counts = tuple(int(count) for count in counts)
        self._counts: tuple[int, ...] | None = counts
        self.vectors = vectors.detach().to("cpu", torch.float32).contiguous()  # (V, E)
        self._unit: Tensor | None = None

    # -- the vocabulary ---------------------------------------------------------------------------
    @property
    def words(self) -> list[str]:
        """The words in row order (most frequent first when trained by rnnkit)."""
        return list(self._words)

    @property
    def counts(self) -> list[int] | None:
        """Corpus count of each word, or None when the source did not record them."""
        return None if self._counts is None else list(self._counts)

    @property
    def embed_dim(self) -> int:
        """E, the length of each vector."""
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def __repr__(self) -> str:
        return f"WordVectors({len(self)} words, embed_dim={self.embed_dim})"

    def index(self, word: str) -> int:
        """The row of `word`; VocabError naming the word (and a close spelling) if unknown."""
        row = self._index.get(word)
        if row is None:
            raise VocabError(self._unknown_message(word))
        return row

    def _unknown_message(self, word: str) -> str:
        """'word' is not in the vocabulary, with a suggestion when a close spelling exists."""
        message = f"word {word!r} is not in the vocabulary of {len(self):,} words"
        if word.lower() in self._index:
            return f"{message}; did you mean {word.lower()!r}?"
        close = difflib.get_close_matches(word, self._words[:50_000], n=1, cutoff=0.8)
        return f"{message}; did you mean {close[0]!r}?" if close else message

    def __getitem__(self, words: str | Sequence[str]) -> Tensor:
        """The vector (E,) of one word, or the vectors (N, E) of a list of words."""
        if isinstance(words, str):
            return self.vectors[self.index(words)]
        return self.vectors[[self.index(word) for word in words]]

    @property
    def unit(self) -> Tensor:
        """x̂ = x / max(‖x‖, 1e-12) for every row (V, E), computed once and cached."""
        if self._unit is None:
            norms = self.vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)  # ‖x‖ (V, 1)
            self._unit = self.vectors / norms  # x̂ (V, E)
        return self._unit

    def restrict(self, n: int) -> WordVectors:
        """The `n` most frequent words (by count; by row order when counts are unknown)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"restrict needs a positive number of words, got {n!r}")
        if self._counts is None:
            rows = list(range(min(n, len(self))))
        else:  # stable: equal counts keep their row order
            rows = sorted(range(len(self)), key=lambda row: -self._counts[row])[:n]
        counts = None if self._counts is None else [self._counts[row] for row in rows]
        return WordVectors([self._words[row] for row in rows], self.vectors[rows], counts)

    # -- queries ----------------------------------------------------------------------------------
    def similarity(self, word_a: str, word_b: str) -> float:
        """cos(a, b) = â · b̂ ∈ [−1, 1]."""
        unit = self.unit
        return float(unit[self.index(word_a)] @ unit[self.index(word_b)])

    def _query(self, item: Query) -> tuple[Tensor, int | None]:
        """(unit vector (E,), its row or None) of a word or a raw vector."""
        if isinstance(item, str):
            row = self.index(item)
            return self.unit[row], row
        if not isinstance(item, Tensor) or tuple(item.shape) != (self.embed_dim,):
            shape = tuple(item.shape) if isinstance(item, Tensor) else type(item).__name__
            raise ShapeError(f"a query must be a word or a vector ({self.embed_dim},); got {shape}")
        vector = item.detach().to(torch.float32)
        return vector / vector.norm().clamp_min(1e-12), None

    def _top(self, scores: Tensor, exclude: set[int], topn: int) -> list[tuple[str, float]]:
        """The `topn` best (word, score) of scores (V,), rows in `exclude` left out."""
        if exclude:
            scores = scores.clone()
            scores[list(exclude)] = -torch.inf
        count = min(topn, len(scores) - len(exclude))
        best = torch.topk(scores, max(count, 0))
        return [
            (self._words[row], float(score))
            for score, row in zip(best.values.tolist(), best.indices.tolist(), strict=True)
        ]

    def most_similar(
        self,
        positive: Query | Sequence[Query] = (),
        negative: Query | Sequence[Query] = (),
        *,
        topn: int = 10,
        method: AnalogyMethod = "3cosadd",
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """The words x closest to the positive words and far from the negative ones.

        3CosAdd, the vector offset (Mikolov et al. 2013), ranks x by the cosine with the mean:

            score(x) = cos(x, Σ_{p ∈ P} p̂ − Σ_{n ∈ N} n̂)

        3CosMul (Levy & Goldberg 2014) multiplies cosines shifted to [0, 1] instead of adding:

            cos'(x, y) = (1 + cos(x, y)) / 2
            score(x) = Π_{p ∈ P} cos'(x, p) / (Π_{n ∈ N} cos'(x, n) + ε),   ε = 10⁻³

        where P are the positive and N the negative queries. "a is to b as c is to ?" is
        `most_similar(positive=[b, c], negative=[a])`. Query words are never returned.

        Args:
            positive, negative: words or vectors (E,); one word or vector alone is a list of
                one, as in gensim (`most_similar("king")`).
            topn: how many words to return.
            method: "3cosadd" or "3cosmul".
            restrict_vocab: rank only the first (most frequent) rows.

        Returns:
            (word, score) pairs, best first.
        """
        check_method(method)
        check_topn(topn)
        positive, negative = _as_queries(positive), _as_queries(negative)
        if not positive and not negative:
            raise ConfigError("most_similar needs at least one positive or negative word")
        pos = [self._query(item) for item in positive]
        neg = [self._query(item) for item in negative]
        exclude = {row for _, row in pos + neg if row is not None}
        unit = self.unit if restrict_vocab is None else self.unit[:restrict_vocab]  # (V', E)
        if method == "3cosadd":
            target = torch.zeros(self.embed_dim)
            for vector, _ in pos:
                target += vector  # + p̂
            for vector, _ in neg:
                target -= vector  # − n̂
            target = target / target.norm().clamp_min(1e-12)
            scores = unit @ target  # (V',)
        else:
            shifted = [(1 + unit @ v) / 2 for v, _ in pos + neg]  # cos' (V',) each
            numerator = torch.stack(shifted[: len(pos)]).prod(0) if pos else torch.ones(len(unit))
            denominator = torch.stack(shifted[len(pos) :]).prod(0) if neg else torch.ones(len(unit))
            scores = numerator / (denominator + COSMUL_EPSILON)
        return self._top(scores, {row for row in exclude if row < len(unit)}, topn)

    def save(self, path: str | Path) -> Path:
        """Write the vectors to `path`: word2vec text (.txt, .vec), binary (.bin) or
        safetensors (.safetensors, with vocab.json in its folder), by the suffix."""
        from rnnkit.represent.word2vec.formats import save_vectors  # formats imports this module

        return save_vectors(self, path)

    def nearest(self, query: Query, topn: int = 10) -> list[tuple[str, float]]:
        """The `topn` words of highest cos(x, query); a query word itself is left out."""
        check_topn(topn)
        vector, row = self._query(query)
        return self._top(self.unit @ vector, set() if row is None else {row}, topn)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word farthest from the mean of the others' direction, as gensim does.

        m = Σ_w ŵ / ‖Σ_w ŵ‖,   odd one = argmin_w ŵ · m
        """
        if len(words) < 2:
            raise ConfigError(f"doesnt_match needs at least two words, got {list(words)}")
        rows = [self.index(word) for word in words]
        unit = self.unit[rows]  # (N, E)
        mean = unit.sum(0)
        mean = mean / mean.norm().clamp_min(1e-12)  # m
        return words[int(torch.argmin(unit @ mean))]


__all__ = ["COSMUL_EPSILON", "AnalogyMethod", "WordVectors"]

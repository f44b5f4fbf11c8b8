"""Word hashing: a word as the bag of its letter n-grams with boundary marks (Huang et al. 2013).

    grams_n(w) = [ m[i : i+n]  for i = 0 … len(m) - n ],  m = "#" + w + "#"
    e.g. grams_3("apple") = #ap, app, ppl, ple, le#   (len(w) + 2 - n + 1 of them)
    x_w[j] = #{ g ∈ grams_n(w) : index(g) = j },     ‖x_w‖₁ = |grams_n(w)|

A word shorter than n - 2 letters has no full n-gram; its whole marked form m is then its one
gram. index(g) is the position of g in a fitted n-gram vocabulary when g is in it; otherwise
the gram is hashed into one of `oov_buckets` extra slots after the vocabulary:

    index(g) = V_n + (crc32(utf-8(g)) mod K)     K = oov_buckets, V_n = fitted n-grams

K = 1 is a single "other" slot; an unfitted hasher (V_n = 0) with K = 2^16 is the hashing trick
with a fixed dimension. crc32 is stable across runs, unlike Python's salted hash().
Few trigrams cover many words, and two words collide only when their bags are equal;
`ngram_collisions` counts such words, the statistic Huang et al. report.

References:
    P.-S. Huang, X. He, J. Gao, L. Deng, A. Acero and L. Heck, "Learning Deep Structured Semantic
    Models for Web Search using Clickthrough Data", CIKM 2013.
    K. Weinberger et al., "Feature Hashing for Large Scale Multitask Learning", ICML 2009.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

from rnnkit.errors import ConfigError, DataError
from rnnkit.represent.bow import WORDS
from rnnkit.text.tokenize import Tokenizer

BOUNDARY = "#"


def letter_ngrams(word: str, n: int = 3, *, boundary: str = BOUNDARY) -> list[str]:
    """The letter n-grams of `word` with boundary marks, in order (with repeats).

    >>> letter_ngrams("apple")
    ['#ap', 'app', 'ppl', 'ple', 'le#']
    >>> letter_ngrams("a", 4)  # shorter than n: the marked word itself
    ['#a#']
    """
    if not isinstance(word, str):
        raise DataError(f"letter_ngrams expects a word as str, got {type(word).__name__}")
    if not word:
        raise DataError("letter_ngrams got an empty word; it has no letters to hash")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be a positive integer, got {n!r}")
    marked = f"{boundary}{word}{boundary}"  # m
    if len(marked) < n:
        return [marked]
    return [marked[i : i + n] for i in range(len(marked) - n + 1)]  # grams_n(w)


def stable_bucket(gram: str, buckets: int) -> int:
    """crc32(utf-8(gram)) mod buckets: the same bucket in every run and on every machine.

    >>> stable_bucket("app", 1000)
    255
    """
    return zlib.crc32(gram.encode("utf-8")) % buckets


class WordHasher:
    """Sparse count vectors of letter n-grams over a fitted vocabulary plus hashed OOV buckets.

    Dimension D = len(ngrams) + oov_buckets. Build with `WordHasher.fit(words)` for an n-gram
    vocabulary (unseen grams go to the "other" slot), or `WordHasher(oov_buckets=K)` for the
    pure hashing trick.

    >>> hasher = WordHasher.fit(["apple", "apply"], n=3)
    >>> hasher.ngrams
    ['#ap', 'app', 'ppl', 'ple', 'le#', 'ply', 'ly#']
    >>> hasher.to_dict(hasher.encode_word("apple", sparse=False))
    {'#ap': 1.0, 'app': 1.0, 'ppl': 1.0, 'ple': 1.0, 'le#': 1.0}
    >>> hasher.to_dict(hasher.encode_word("maple", sparse=False))  # #ma, map, apl unseen
    {'ple': 1.0, 'le#': 1.0, '<other>': 3.0}

    Raw text, as scikit-learn's HashingVectorizer reads it: a text is the bag of the letter
    n-grams of its words (lower-cased, punctuation dropped), one (D,) row per text:

    >>> words = WordHasher.fit(WORDS("we like TensorLayer, do we?"), n=3)
    >>> words.transform("do we?").sum().item()  # #do do# #we we#: 4 trigrams
    4.0
    >>> WordHasher(oov_buckets=2**10).transform(["we like", "do we"]).shape  # no fit needed
    torch.Size([2, 1024])
    """

    def __init__(
        self,
        n: int = 3,
        *,
        ngrams: Sequence[str] = (),
        oov_buckets: int = 1,
        boundary: str = BOUNDARY,
    ) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"n must be a positive integer, got {n!r}")
        if isinstance(oov_buckets, bool) or not isinstance(oov_buckets, int) or oov_buckets < 1:
            raise ConfigError(f"oov_buckets must be a positive integer, got {oov_buckets!r}")
        self.n = n
        self.boundary = boundary
        self.oov_buckets = oov_buckets
        self.ngrams: list[str] = list(dict.fromkeys(ngrams))
        self._index = {gram: j for j, gram in enumerate(self.ngrams)}
        self.tokenizer: Tokenizer = WORDS  # cuts a raw text into words for `transform`

    @classmethod
    def fit(
        cls,
        words: Iterable[str],
        n: int = 3,
        *,
        min_freq: int = 1,
        oov_buckets: int = 1,
        boundary: str = BOUNDARY,
    ) -> WordHasher:
        """Collect the n-grams of `words` seen ≥ min_freq times, in order of first appearance."""
        counts: Counter[str] = Counter()
        for word in words:
            counts.update(letter_ngrams(word, n, boundary=boundary))
        if not counts:
            raise DataError("WordHasher.fit got no words; pass at least one word")
        kept = [gram for gram, count in counts.items() if count >= min_freq]
        return cls(n, ngrams=kept, oov_buckets=oov_buckets, boundary=boundary)

    @property
    def dim(self) -> int:
        """D = V_n + K: fitted n-grams plus hashed out-of-vocabulary buckets."""
        return len(self.ngrams) + self.oov_buckets

    @property
    def names(self) -> list[str]:
        """A name per dimension: the n-gram, '<other>' (K = 1) or '<hash:k>' for bucket k."""
        if self.oov_buckets == 1:
            return [*self.ngrams, "<other>"]
        return [*self.ngrams, *(f"<hash:{k}>" for k in range(self.oov_buckets))]

    def index(self, gram: str) -> int:
        """index(g): the fitted position of g, else V_n + crc32(g) mod K."""
        found = self._index.get(gram)
        if found is not None:
            return found
        return len(self.ngrams) + stable_bucket(gram, self.oov_buckets)

    def grams(self, word: str) -> list[str]:
        """grams_n(word) with this hasher's n and boundary mark."""
        return letter_ngrams(word, self.n, boundary=self.boundary)

    def encode_word(self, word: str, *, sparse: bool = True) -> Tensor:
        """Count vector x_w of one word. Shapes: -> (D,) float32, sparse by default."""
        return self.encode([word], sparse=sparse)[0]

    def encode(self, words: Sequence[str], *, sparse: bool = True) -> Tensor:
        """Count vectors of a list of words, one row each; an empty list gives (0, D).

        Shapes: words T strings -> (T, D) float32, torch.sparse_coo by default.
        """
        if isinstance(words, str | bytes) or not isinstance(words, Sequence):
            raise DataError(
                f"encode expects a list of words, got {type(words).__name__};"
                " use encode_word for a single word"
            )
        rows, cols = [], []
        for row, word in enumerate(words):
            for gram in self.grams(word):
                rows.append(row)
                cols.append(self.index(gram))
        indices = torch.tensor([rows, cols], dtype=torch.int64).reshape(2, -1)  # (2, nnz)
        values = torch.ones(len(rows))  # each occurrence adds 1; coalesce sums repeats
        vectors = torch.sparse_coo_tensor(
            indices, values, (len(words), self.dim), check_invariants=True
        ).coalesce()
        return vectors if sparse else vectors.to_dense()  # (T, D)

    def transform(self, text: str | Sequence[str], *, sparse: bool = False) -> Tensor:
        """The letter n-gram counts of the words of a raw text, summed: (D,); N texts -> (N, D).

        x_text = Σ_{w ∈ words(text)} x_w, the words cut by `tokenizer`.
        """
        if isinstance(text, str):
            return self.transform([text], sparse=sparse)[0]
        if not isinstance(text, Sequence) or not all(isinstance(item, str) for item in text):
            raise DataError(f"transform reads a text or a list of texts (str), got {text!r:.80}")
        rows = [self.encode(self.tokenizer(item), sparse=False).sum(0) for item in text]  # (D,)
        stacked = torch.stack(rows) if rows else torch.zeros(0, self.dim)  # (N, D)
        return stacked.to_sparse() if sparse else stacked

    def to_dict(self, vector: Tensor) -> dict[str, float]:
        """Nonzero entries of one (D,) vector by dimension name, in dimension order."""
        dense = vector.to_dense() if vector.is_sparse else vector
        names = self.names
        return {names[j]: float(dense[j]) for j in torch.nonzero(dense).flatten().tolist()}


def ngram_collisions(
    words: Iterable[str], n: int = 3, *, boundary: str = BOUNDARY
) -> list[list[str]]:
    """Groups of distinct words whose n-gram bags are identical (so word hashing confuses them).

    >>> ngram_collisions(["abab", "baba", "abba"], n=2)  # #a ab ba ab b# vs #b ba ab ba a#
    []
    >>> ngram_collisions(["aaa", "aaaa"], n=1)  # unigrams ignore order, "#" counts twice
    []
    >>> ngram_collisions(["ab", "ba"], n=1)
    [['ab', 'ba']]
    """
    groups: dict[frozenset[tuple[str, int]], list[str]] = defaultdict(list)
    for word in dict.fromkeys(words):
        bag = frozenset(Counter(letter_ngrams(word, n, boundary=boundary)).items())
        groups[bag].append(word)
    return [group for group in groups.values() if len(group) > 1]

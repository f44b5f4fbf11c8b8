"""Bag-of-words vectors of a document over a Vocab: counts, binary presence, or tf-idf.

For a document d (a token list) and the word with id j, over a corpus of N documents:

    tf(j, d) = #{ t ∈ d : id(t) = j }                            term frequency (raw count)
    binary:  x[j] = 1 if tf(j, d) > 0 else 0
    df(j)    = #{ documents that contain j at least once }
    idf(j)   = ln((1 + N) / (1 + df(j))) + 1     smooth idf, as scikit-learn's TfidfVectorizer
    tf-idf:  x[j] = tf(j, d) · idf(j)  (Salton & Buckley 1988)
    sublinear tf: tf(j, d) ← 1 + ln tf(j, d) for tf > 0, so a word said 300 times does not
             outweigh a rare word 300 to 1 (Manning et al. 2008, sec. 6.4.1)
    l2 norm: x ← x / ‖x‖₂   (an all-zero vector stays zero)

The +1 inside the log acts as one extra document holding every word (no division by zero); the
+1 outside keeps words found in every document from vanishing. Word order is lost: "dog bites
man" and "man bites dog" have the same bag. Tokens outside the Vocab count under <unk>.

References:
    G. Salton and C. Buckley, "Term-weighting approaches in automatic text retrieval",
    Information Processing & Management 24(5), 1988.
    C. D. Manning, P. Raghavan and H. Schütze, "Introduction to Information Retrieval",
    Cambridge University Press, 2008, ch. 6.
    scikit-learn, TfidfTransformer (smooth_idf=True, sublinear_tf),
    https://scikit-learn.org/stable/modules/feature_extraction.html#tfidf-term-weighting
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import torch
from torch import Tensor

from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.text.vocab import Vocab

BowMode = Literal["count", "binary", "tfidf"]


class BagOfWords:
    """Vectors (V,) of documents over `vocab`; tf-idf needs `fit(documents)` first.

    The worked example (lower-cased words, punctuation dropped):

    >>> from rnnkit.text.tokenize import Tokenizer
    >>> words = Tokenizer(kind="word", lowercase=True, keep_punctuation=False)
    >>> sentence = "we like TensorLayer, do we?"
    >>> vocab = Vocab.build_from_iterator([sentence], words, specials=())
    >>> bow = BagOfWords(vocab)
    >>> bow.to_dict(bow.transform(sentence))
    {'we': 2.0, 'like': 1.0, 'tensorlayer': 1.0, 'do': 1.0}
    """

    def __init__(
        self,
        vocab: Vocab,
        *,
        mode: BowMode = "count",
        norm: Literal["l2"] | None = None,
        sublinear: bool = False,
    ) -> None:
        if not isinstance(vocab, Vocab):
            raise ConfigError(f"BagOfWords needs a Vocab, got {type(vocab).__name__}")
        if mode not in ("count", "binary", "tfidf"):
            raise ConfigError(f"mode must be count, binary or tfidf, got {mode!r}")
        if norm not in (None, "l2"):
            raise ConfigError(f"norm must be None or 'l2', got {norm!r}")
        self.vocab = vocab
        self.mode = mode
        self.norm = norm
        self.sublinear = sublinear  # tf ← 1 + ln tf (count and tfidf modes)
        self.idf: Tensor | None = None  # (V,) after fit
        self.num_documents = 0  # N

    def term_counts(self, document: str | Sequence[str], *, strict: bool = False) -> Tensor:
        """tf(·, d): count of every vocabulary id in the document. Shapes: -> (V,) float32."""
        ids = self.vocab.encode(document, strict=strict)  # (T,)
        return torch.bincount(ids, minlength=len(self.vocab)).float()  # (V,)

    def fit(self, documents: Iterable[str | Sequence[str]]) -> BagOfWords:
        """Count df(j) over the documents and set idf(j) = ln((1+N)/(1+df(j))) + 1."""
        document_freq = torch.zeros(len(self.vocab))  # df(j)
        count = 0
        for document in documents:
            document_freq += self.term_counts(document) > 0
            count += 1
        if count == 0:
            raise DataError("BagOfWords.fit needs at least one document, got none")
        self.num_documents = count  # N
        self.idf = torch.log((1.0 + count) / (1.0 + document_freq)) + 1.0  # idf(j)
        return self

    def transform(self, document: str | Sequence[str], *, strict: bool = False) -> Tensor:
        """The bag-of-words vector of one document (text or token list). Shapes: -> (V,)."""
        tf = self.term_counts(document, strict=strict)  # tf(j, d)
        if self.sublinear:
            tf = torch.where(tf > 0, 1.0 + torch.log(tf.clamp(min=1.0)), tf)  # 1 + ln tf
        if self.mode == "binary":
            vector = (tf > 0).float()
        elif self.mode == "tfidf":
            if self.idf is None:
                raise ConfigError("mode='tfidf' needs idf weights: call fit(documents) first")
            vector = tf * self.idf  # tf(j, d) · idf(j)
        else:
            vector = tf
        if self.norm == "l2":
            length = torch.linalg.vector_norm(vector)  # ‖x‖₂
            vector = vector / length if length > 0 else vector
        return vector

    def transform_batch(self, documents: Iterable[str | Sequence[str]]) -> Tensor:
        """Vectors of many documents stacked. Shapes: N documents -> (N, V)."""
        rows = [self.transform(document) for document in documents]
        if not rows:
            return torch.zeros(0, len(self.vocab))
        return torch.stack(rows)  # (N, V)

    def _check_vector(self, vector: Tensor) -> Tensor:
        if not isinstance(vector, Tensor) or vector.shape != (len(self.vocab),):
            shape = tuple(vector.shape) if isinstance(vector, Tensor) else type(vector).__name__
            raise ShapeError(f"expected a vector of shape ({len(self.vocab)},), got {shape}")
        return vector.to_dense() if vector.is_sparse else vector

    def to_dict(self, vector: Tensor) -> dict[str, float]:
        """Nonzero entries of a (V,) vector by token, in id order."""
        vector = self._check_vector(vector)
        tokens = self.vocab.tokens
        return {tokens[j]: float(vector[j]) for j in torch.nonzero(vector).flatten().tolist()}

    def top_terms(self, vector: Tensor, k: int = 10) -> list[tuple[str, float]]:
        """The k largest nonzero entries of a (V,) vector, largest first (ties: lower id first)."""
        entries = self.to_dict(vector)
        ranked = sorted(entries.items(), key=lambda item: -item[1])  # stable: id order on ties
        return ranked[:k]

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

Like scikit-learn's CountVectorizer / TfidfVectorizer, `BagOfWords(mode=...)` without a Vocab
reads raw text: `fit(texts)` cuts them into lower-cased words (punctuation dropped) and builds
the Vocab itself (<unk> for words never seen, then ids by frequency), `transform(text)` gives (V,)
and `transform(texts)` / `fit_transform(texts)` give (N, V).

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
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import UNK, Vocab

BowMode = Literal["count", "binary", "tfidf"]
WORDS = Tokenizer(kind="word", lowercase=True, keep_punctuation=False)  # as CountVectorizer


class BagOfWords:
    """Vectors (V,) of documents over a Vocab, given or built by `fit(texts)` from raw text.

    The worked example, from raw text as scikit-learn's CountVectorizer reads it (lower-cased
    words, punctuation dropped; <unk> first, then ids by frequency and first appearance):

    >>> bow = BagOfWords(mode="count").fit(["we like TensorLayer, do we?"])
    >>> bow.to_dict(bow.transform("we like TensorLayer, do we?"))
    {'we': 2.0, 'like': 1.0, 'tensorlayer': 1.0, 'do': 1.0}
    >>> bow.get_feature_names_out()
    ['<unk>', 'we', 'like', 'tensorlayer', 'do']
    >>> bow.transform(["do we?", "we like rnnkit"]).tolist()  # rnnkit was never seen: <unk>
    [[0.0, 1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0, 0.0]]

    Over a prebuilt Vocab (its tokeniser cuts text; a list is then one document's tokens):

    >>> sentence = "we like TensorLayer, do we?"
    >>> vocab = Vocab.build_from_iterator([sentence], WORDS, specials=())
    >>> bow = BagOfWords(vocab)
    >>> bow.to_dict(bow.transform(sentence))
    {'we': 2.0, 'like': 1.0, 'tensorlayer': 1.0, 'do': 1.0}

    Args:
        vocab: the words to count; None: `fit(texts)` builds it with `tokenizer`.
        mode: "count" (tf), "binary" (presence) or "tfidf" (tf · idf; idf from `fit`).
        norm: "l2" divides each vector by its length.
        sublinear: tf ← 1 + ln tf.
        tokenizer, min_freq, max_size: how `fit` builds the Vocab (only without `vocab`).
    """

    def __init__(
        self,
        vocab: Vocab | None = None,
        *,
        mode: BowMode = "count",
        norm: Literal["l2"] | None = None,
        sublinear: bool = False,
        tokenizer: Tokenizer = WORDS,
        min_freq: int = 1,
        max_size: int | None = None,
    ) -> None:
        if vocab is not None and not isinstance(vocab, Vocab):
            raise ConfigError(f"BagOfWords needs a Vocab or None, got {type(vocab).__name__}")
        if vocab is not None and (tokenizer != WORDS or min_freq != 1 or max_size is not None):
            raise ConfigError(
                "tokenizer, min_freq and max_size build the vocabulary in fit(texts); with a "
                "given Vocab they do not apply (the Vocab's tokeniser cuts the text): pass one "
                "or the other"
            )
        if mode not in ("count", "binary", "tfidf"):
            raise ConfigError(f"mode must be count, binary or tfidf, got {mode!r}")
        if norm not in (None, "l2"):
            raise ConfigError(f"norm must be None or 'l2', got {norm!r}")
        self.vocab = vocab  # None until fit(texts) builds it
        self.reads_texts = vocab is None  # True: fit builds the Vocab; a list is many texts
        self.tokenizer = tokenizer
        self.min_freq = min_freq
        self.max_size = max_size
        self.mode = mode
        self.norm = norm
        self.sublinear = sublinear  # tf ← 1 + ln tf (count and tfidf modes)
        self.idf: Tensor | None = None  # (V,) after fit
        self.num_documents = 0  # N

    def _fitted_vocab(self) -> Vocab:
        if self.vocab is None:
            raise ConfigError("this BagOfWords builds its vocabulary from text: call "
                              "fit(texts) (or fit_transform(texts)) first")  # fmt: skip
        return self.vocab

    def term_counts(self, document: str | Sequence[str], *, strict: bool = False) -> Tensor:
        """tf(·, d): count of every vocabulary id in the document. Shapes: -> (V,) float32."""
        vocab = self._fitted_vocab()
        ids = vocab.encode(document, strict=strict)  # (T,)
        return torch.bincount(ids, minlength=len(vocab)).float()  # (V,)

    def fit(self, documents: Iterable[str | Sequence[str]]) -> BagOfWords:
        """Count df(j) over the documents and set idf(j) = ln((1+N)/(1+df(j))) + 1.

        Without a given Vocab, first build it from the texts: their words seen ≥ min_freq
        times (the max_size most frequent), then <unk> for any other word.
        """
        if self.reads_texts:
            if isinstance(documents, str):
                raise DataError("BagOfWords.fit reads a list of texts, got one str; pass "
                                "[text] for a single text")  # fmt: skip
            documents = [self._document(document) for document in documents]
            if not documents:
                raise DataError("BagOfWords.fit needs at least one document, got none")
            self.vocab = Vocab.build_from_iterator(documents, self.tokenizer, specials=(UNK,),
                                                   min_freq=self.min_freq,
                                                   max_size=self.max_size)  # fmt: skip
        document_freq = torch.zeros(len(self._fitted_vocab()))  # df(j)
        count = 0
        for document in documents:
            document_freq += self.term_counts(document) > 0
            count += 1
        if count == 0:
            raise DataError("BagOfWords.fit needs at least one document, got none")
        self.num_documents = count  # N
        self.idf = torch.log((1.0 + count) / (1.0 + document_freq)) + 1.0  # idf(j)
        return self

    def fit_transform(self, texts: Iterable[str]) -> Tensor:
        """`fit(texts)`, then the vectors of the same texts. Shapes: N texts -> (N, V)."""
        texts = list(texts)
        return self.fit(texts).transform_batch(texts)

    def get_feature_names_out(self) -> list[str]:
        """The token of each dimension j, as scikit-learn names the columns."""
        return list(self._fitted_vocab().tokens)

    def transform(self, document: str | Sequence[str], *, strict: bool = False) -> Tensor:
        """The bag-of-words vector of one document. Shapes: -> (V,); N texts -> (N, V).

        A str is one text. A list is N texts when the vocabulary was built by `fit(texts)`,
        and one document's tokens over a given Vocab (then `transform_batch` takes many).
        """
        if self.reads_texts and not isinstance(document, str):
            return self.transform_batch(document)  # (N, V)
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
        rows = [self.transform(self._document(document)) for document in documents]
        if not rows:
            return torch.zeros(0, len(self._fitted_vocab()))
        return torch.stack(rows)  # (N, V)

    def _document(self, document: str | Sequence[str]) -> str | Sequence[str]:
        """One document of a batch: a text when the bag reads texts (DataError otherwise)."""
        if self.reads_texts and not isinstance(document, str):
            raise DataError(f"each document must be a text (str), got {type(document).__name__}")
        return document

    def _check_vector(self, vector: Tensor) -> Tensor:
        V = len(self._fitted_vocab())
        if not isinstance(vector, Tensor) or vector.shape != (V,):
            shape = tuple(vector.shape) if isinstance(vector, Tensor) else type(vector).__name__
            raise ShapeError(f"expected a vector of shape ({V},), got {shape}")
        return vector.to_dense() if vector.is_sparse else vector

    def to_dict(self, vector: Tensor) -> dict[str, float]:
        """Nonzero entries of a (V,) vector by token, in id order."""
        vector = self._check_vector(vector)
        tokens = self._fitted_vocab().tokens
        return {tokens[j]: float(vector[j]) for j in torch.nonzero(vector).flatten().tolist()}

    def top_terms(self, vector: Tensor, k: int = 10) -> list[tuple[str, float]]:
        """The k largest nonzero entries of a (V,) vector, largest first (ties: lower id first)."""
        entries = self.to_dict(vector)
        ranked = sorted(entries.items(), key=lambda item: -item[1])  # stable: id order on ties
        return ranked[:k]

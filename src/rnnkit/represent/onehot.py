"""One-hot vectors over a lexicon, with an explicit "other" dimension for words outside it.

    x_w ∈ {0, 1}^D,  x_w[j] = 1 if j = index(w) else 0,  ‖x_w‖₂ = ‖x_w‖₁ = 1

where D = V + 1 for a word list of V words (the extra last slot is "other", <unk>), and for a
Vocab with an <unk> token D = len(vocab) and "other" is the <unk> id. A word outside the lexicon
gets the "other" slot. One-hot vectors are orthogonal, so every pair of distinct words is equally
far apart; an embedding (`represent.embedding`) is a learned linear map of them.

Like scikit-learn's encoders, `OneHotEncoder().fit(texts)` builds the lexicon from raw text
(lower-cased words, punctuation dropped, most frequent first) and `transform(text)` gives the
rows (T, D) of the text's words.

References:
    D. Jurafsky and J. H. Martin, "Speech and Language Processing" (3rd ed. draft), ch. 6,
    "Vector Semantics and Embeddings", https://web.stanford.edu/~jurafsky/slp3/
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

from rnnkit.errors import ConfigError, DataError, ShapeError, VocabError
from rnnkit.represent.bow import WORDS
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import UNK, Vocab

OTHER = UNK  # name of the "other" dimension for a plain word list


class OneHotEncoder:
    """Map tokens (or ids) to one-hot rows over a lexicon plus an "other" slot.

    The worked example, a 5-word lexicon with the 6th slot for any other word:

    >>> encoder = OneHotEncoder(["apple", "bag", "cat", "dog", "elephant"])
    >>> encoder.encode(["apple", "zebra"]).tolist()
    [[1.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]
    >>> encoder.dim, encoder.names[encoder.other_index]
    (6, '<unk>')

    From raw text, the lexicon built by `fit` (the lecture's sentence):

    >>> encoder = OneHotEncoder().fit(["we like TensorLayer, do we?"])
    >>> encoder.names
    ['we', 'like', 'tensorlayer', 'do', '<unk>']
    >>> rows = encoder.transform("do we like rnnkit?")  # (T, D) = (4, 5)
    >>> rows.shape, rows.argmax(dim=1).tolist()  # rnnkit: the "other" slot
    (torch.Size([4, 5]), [3, 0, 1, 4])

    Args:
        lexicon: a Vocab or a word list; None: `fit(texts)` builds it with `tokenizer`.
        tokenizer, min_freq, max_size: how `fit` and `transform` read raw text.
    """

    def __init__(
        self,
        lexicon: Vocab | Sequence[str] | None = None,
        *,
        tokenizer: Tokenizer = WORDS,
        min_freq: int = 1,
        max_size: int | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.min_freq = min_freq
        self.max_size = max_size
        self.names: list[str] = []  # empty until a lexicon is set
        if lexicon is not None:
            self._set_lexicon(lexicon)

    def _set_lexicon(self, lexicon: Vocab | Sequence[str]) -> None:
        if isinstance(lexicon, Vocab):
            names = lexicon.tokens
            has_unk = lexicon.unk_id is not None
            self.other_index = lexicon.unk_id if has_unk else len(names)
            self.names: list[str] = names if has_unk else [*names, OTHER]
        else:
            if isinstance(lexicon, str | bytes) or not isinstance(lexicon, Sequence):
                raise DataError(
                    f"lexicon must be a Vocab or a list of words, got {type(lexicon).__name__}"
                )
            words = list(dict.fromkeys(lexicon))  # drop repeats, keep first order
            if not all(isinstance(word, str) for word in words):
                raise DataError("lexicon words must all be str")
            if OTHER in words:
                raise DataError(f"{OTHER!r} is reserved for the 'other' slot; remove it")
            self.other_index = len(words)
            self.names = [*words, OTHER]
        self._index = {name: j for j, name in enumerate(self.names)}

    def fit(self, texts: Iterable[str]) -> OneHotEncoder:
        """Build the lexicon from raw texts: their words seen ≥ min_freq times (the max_size
        most frequent), most frequent first, then the "other" slot."""
        if isinstance(texts, str):
            raise DataError("OneHotEncoder.fit reads a list of texts, got one str; pass [text]")
        vocab = Vocab.build_from_iterator(texts, self.tokenizer, min_freq=self.min_freq,
                                          max_size=self.max_size, specials=())  # fmt: skip
        self._set_lexicon(vocab.tokens)
        return self

    def transform(self, text: str | Iterable[str]) -> Tensor | list[Tensor]:
        """One-hot rows of the words of a raw text (T, D), or a list of them for N texts."""
        if not self.names:
            raise ConfigError("this OneHotEncoder has no lexicon: call fit(texts) first")
        if isinstance(text, str):
            return self.encode(self.tokenizer(text))  # (T, D)
        return [self.encode(self.tokenizer(self._text(item))) for item in text]

    def fit_transform(self, texts: Iterable[str]) -> list[Tensor]:
        """`fit(texts)`, then the rows (T_i, D) of each of the same texts."""
        texts = [self._text(text) for text in texts]
        return self.fit(texts).transform(texts)  # type: ignore[return-value]

    @staticmethod
    def _text(item: object) -> str:
        if not isinstance(item, str):
            raise DataError(f"each text must be a str, got {type(item).__name__}")
        return item

    @property
    def dim(self) -> int:
        """D: the length of every one-hot vector (lexicon size + "other" slot)."""
        return len(self.names)

    def index(self, token: str) -> int:
        """index(w): the dimension of `token`, or the "other" slot if it is not in the lexicon."""
        return self._index.get(token, self.other_index)

    def encode(self, tokens: Sequence[str], *, sparse: bool = False) -> Tensor:
        """One-hot rows of a token list; an empty list gives a (0, D) tensor.

        Shapes: tokens T strings -> (T, D) float32, dense or torch.sparse_coo.
        """
        if isinstance(tokens, str | bytes) or not isinstance(tokens, Sequence):
            raise DataError(
                f"encode expects a list of tokens, got {type(tokens).__name__};"
                " tokenize text first (rnnkit.text.tokenize)"
            )
        for token in tokens:
            if not isinstance(token, str):
                raise DataError(f"tokens must be str, got {type(token).__name__} ({token!r})")
        ids = torch.tensor([self.index(token) for token in tokens], dtype=torch.int64)  # (T,)
        return self.encode_ids(ids, sparse=sparse)

    def encode_ids(self, ids: Tensor | Sequence[int], *, sparse: bool = False) -> Tensor:
        """One-hot rows of dimension indices; VocabError for an index outside 0 … D-1.

        Shapes: ids (T,) int64 -> (T, D) float32.
        """
        ids = torch.as_tensor(ids)
        if ids.dim() != 1 or ids.dtype.is_floating_point or ids.dtype == torch.bool:
            raise ShapeError(
                f"ids must be a 1-D integer tensor (T,), got shape {tuple(ids.shape)} {ids.dtype}"
            )
        ids = ids.to(torch.int64)
        bad = ids[(ids < 0) | (ids >= self.dim)]
        if len(bad):
            raise VocabError(
                f"id {int(bad[0])} is out of range for a one-hot dimension of {self.dim}"
                f" (valid ids 0 … {self.dim - 1})"
            )
        T = len(ids)
        if sparse:
            indices = torch.stack([torch.arange(T), ids])  # (2, T): row t, column index(w_t)
            values = torch.ones(T)
            return torch.sparse_coo_tensor(
                indices, values, (T, self.dim), check_invariants=True
            ).coalesce()
        one_hot = torch.zeros(T, self.dim)  # (T, D)
        one_hot[torch.arange(T), ids] = 1.0  # x_w[index(w)] = 1
        return one_hot

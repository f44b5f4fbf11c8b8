"""Many-to-one models: read a whole token sequence, give one distribution over C classes.

    x_t = represent(w_t)                               embedding, one-hot or word hashing
    h_t = RNN(x_t, h_{t-1})   t = 1 … len            RNN / LSTM / GRU, uni- or bidirectional
    s = pool(h_1 … h_len)                              over the real steps only, never padding
    y = softmax(W_hy s + b_y)                          e.g. y = (0.9 negative, 0.1 positive)

Pooling over the real steps of a sequence of length len:
    last   s = h_len; bidirectional: s = [h→_len ; h←_1], the forward direction at its last real
           step and the backward direction at step 1, where it has read the whole sequence
    mean   s = (1/len) Σ_{t ≤ len} h_t
    max    s[k] = max_{t ≤ len} h_t[k]   (Collobert et al. 2011)

Representations of a word w:
    embedding  x = E[w], E (V, E) learned, or initialised from pretrained vectors (word2vec)
    one-hot    x = onehot(w) ∈ {0, 1}^V, fed to W_ih as it is (E = V)
    hashing    x = Σ_{g ∈ grams_n(w)} G[g], the letter n-grams #go, goo, ood, od# of w summed
               over a learned table G (D, E), as an EmbeddingBag (Huang et al. 2013)

References:
    Elman. Finding Structure in Time. Cognitive Science 14, 1990.
    Collobert, Weston, Bottou, Karlen, Kavukcuoglu, Kuksa. Natural Language Processing (Almost)
        from Scratch. JMLR 12, 2011 (max pooling over time).
    Huang, He, Gao, Deng, Acero, Heck. Learning Deep Structured Semantic Models for Web Search
        using Clickthrough Data. CIKM 2013 (word hashing).
    Schuster & Paliwal. Bidirectional Recurrent Neural Networks. IEEE TSP 45(11), 1997.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import GRU, LSTM, RNN
from rnnkit.layers.lengths import check_lengths, last_valid, lengths_mask
from rnnkit.models.configs.sequence_classifier import (
    SequenceClassifierConfig,  # torch-free: a task config nests it
)
from rnnkit.represent.embedding import copy_pretrained
from rnnkit.represent.hashing import WordHasher
from rnnkit.text.vocab import Vocab


def hashing_table(vocab: Vocab, n: int = 3) -> tuple[Tensor, int]:
    """For each vocabulary word its letter n-gram ids, padded: (V, G) int64, and D.

    Special tokens (<pad>, <unk>, …) get one id of their own each; padding in the table is D,
    a zero row of G that adds nothing.

    >>> vocab = Vocab(["good", "goody"], specials=("<pad>",))
    >>> table, D = hashing_table(vocab)
    >>> table.tolist(), D  # #go goo ood od#, then #go goo ood ody dy#
    ([[0, 8, 8, 8, 8], [1, 2, 3, 4, 8], [1, 2, 3, 5, 6]], 8)
    """
    specials = [token for token in vocab.tokens if token in vocab.specials]
    words = [token for token in vocab.tokens if token not in vocab.specials]
    hasher = WordHasher.fit(words, n) if words else WordHasher(n)
    grams_of = {token: [k] for k, token in enumerate(specials)}  # one id per special
    for word in words:
        grams_of[word] = [len(specials) + hasher.index(g) for g in hasher.grams(word)]
    D = len(specials) + hasher.dim
    width = max(len(ids) for ids in grams_of.values())  # G
    table = torch.full((len(vocab), width), D, dtype=torch.int64)  # (V, G), D = padding
    for token_id, token in enumerate(vocab.tokens):
        ids = grams_of[token]
        table[token_id, : len(ids)] = torch.tensor(ids)
    return table, D


def build_recurrent(config: Any, input_size: int) -> nn.Module:
    """The batch-first rnnkit layer (RNN / LSTM / GRU) named by `config.cell`, reading x_t of
    `input_size` features; `config` has cell, hidden_size, num_layers, dropout, bidirectional."""
    layer = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[config.cell]
    return layer(
        input_size,
        config.hidden_size,
        num_layers=config.num_layers,
        batch_first=True,
        dropout=config.dropout if config.num_layers > 1 else 0.0,
        bidirectional=config.bidirectional,
    )


def pool_states(
    outputs: Tensor, lengths: Tensor, pooling: str, *, bidirectional: bool = False
) -> Tensor:
    """s from the outputs (B, T, D·H) over each sequence's real steps only: (B, D·H).

    >>> outputs = torch.tensor([[[1.0], [3.0]], [[2.0], [0.0]]])  # (B=2, T=2, H=1)
    >>> lengths = torch.tensor([2, 1])
    >>> [pool_states(outputs, lengths, p).flatten().tolist() for p in ("last", "mean", "max")]
    [[3.0, 2.0], [2.0, 2.0], [3.0, 2.0]]
    """
    if pooling == "last":
        if not bidirectional:
            return last_valid(outputs, lengths)  # h_len
        H = outputs.shape[-1] // 2
        forward = last_valid(outputs[..., :H], lengths)  # h→_len, (B, H)
        return torch.cat([forward, outputs[:, 0, H:]], dim=-1)  # [h→_len ; h←_1], (B, 2H)
    mask = lengths_mask(lengths, outputs.shape[1], device=outputs.device).unsqueeze(-1)  # (B,T,1)
    if pooling == "mean":
        total = outputs.masked_fill(~mask, 0.0).sum(1)  # Σ_{t ≤ len} h_t, (B, D·H)
        return total / lengths.to(outputs.device, outputs.dtype).unsqueeze(-1)
    if pooling == "max":
        return outputs.masked_fill(~mask, float("-inf")).amax(1)  # max_{t ≤ len} h_t
    raise ConfigError(f"pooling must be last, mean or max, got {pooling!r}")


class PooledClassifier(nn.Module):
    """The many-to-one head of the classifiers: s = pool(h_1 … h_len), z = W_s dropout(s) + b_s.

    A subclass makes `recurrent` (`build_recurrent`), `dropout` and `output` (Linear D·H → C)
    and its `forward` turns its input into x (B, T, F) and calls `classify`.
    """

    config: Any
    recurrent: nn.Module
    dropout: nn.Dropout
    output: nn.Linear

    def classify(self, x: Tensor, lengths: Tensor) -> Tensor:
        """Logits (B, C) from x (B, T, F), padded past each checked length (B,)."""
        outputs, _ = self.recurrent(x, lengths=lengths)  # (B, T, D·H), zero past len
        pooled = pool_states(
            outputs, lengths, self.config.pooling, bidirectional=self.config.bidirectional
        )  # s, (B, D·H)
        return self.output(self.dropout(pooled))  # z, (B, C)

    @torch.no_grad()
    def predict_proba(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """y = softmax(z) (B, C), in eval mode (no dropout)."""
        was_training = self.training
        self.eval()
        try:
            return torch.softmax(self(inputs, lengths), dim=-1)
        finally:
            self.train(was_training)


class SequenceClassifier(PooledClassifier):
    """Token ids (B, T) and lengths (B,) -> class logits (B, C); `predict_proba` gives y.

    Shapes: token_ids (B, T) int64 right-padded with pad_id; lengths (B,) in [1, T];
    returns logits (B, C).

    >>> model = SequenceClassifier(SequenceClassifierConfig(vocab_size=10, hidden_size=4))
    >>> probs = model.predict_proba(torch.tensor([[4, 5, 6], [7, 0, 0]]), torch.tensor([3, 1]))
    >>> probs.shape, torch.allclose(probs.sum(-1), torch.ones(2))  # (B, C), rows sum to 1
    (torch.Size([2, 2]), True)
    """

    def __init__(
        self, config: SequenceClassifierConfig, *, ngram_table: Tensor | None = None
    ) -> None:
        super().__init__()
        self.config = config
        if config.representation == "embedding":
            self.embedding = nn.Embedding(config.vocab_size, config.embed_dim, config.pad_id)
            nn.init.uniform_(self.embedding.weight, -0.1, 0.1)  # as LanguageModel
            with torch.no_grad():
                self.embedding.weight[config.pad_id] = 0.0
        elif config.representation == "hashing":
            rows = config.hash_buckets + 1  # G (D, E) plus the zero padding row D
            self.ngrams = nn.Embedding(rows, config.embed_dim, padding_idx=config.hash_buckets)
            nn.init.uniform_(self.ngrams.weight, -0.1, 0.1)
            with torch.no_grad():
                self.ngrams.weight[config.hash_buckets] = 0.0
            shape = (config.vocab_size, config.hash_width)
            if ngram_table is None:  # filled by load_state_dict
                ngram_table = torch.full(shape, config.hash_buckets, dtype=torch.int64)
            if tuple(ngram_table.shape) != shape:
                raise ShapeError(
                    f"ngram_table must be (V, G) = {shape}; got {tuple(ngram_table.shape)}"
                )
            self.register_buffer("ngram_table", ngram_table.clone())
        self.recurrent = build_recurrent(config, config.input_size)
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(config.features, config.num_classes)

    def load_pretrained(self, vectors: Tensor, *, freeze: bool = False) -> None:
        """Copy a (V, E) table (e.g. word2vec rows aligned to the vocabulary) into E."""
        if self.config.representation != "embedding":
            raise ConfigError("pretrained vectors need representation='embedding'")
        copy_pretrained(self.embedding.weight, vectors, pad_id=self.config.pad_id, freeze=freeze)

    def represent(self, token_ids: Tensor) -> Tensor:
        """x_t for every step: (B, T) -> (B, T, F)."""
        kind = self.config.representation
        if kind == "embedding":
            return self.embedding(token_ids)  # E[w_t], (B, T, E)
        if kind == "onehot":
            return F.one_hot(token_ids, self.config.vocab_size).to(self.output.weight.dtype)
        grams = self.ngram_table[token_ids]  # (B, T, G) n-gram ids
        return self.ngrams(grams).sum(2)  # Σ_g G[g], (B, T, E)

    def forward(self, token_ids: Tensor, lengths: Tensor) -> Tensor:
        """Logits z = W_hy s + b_y of each sequence (before softmax).

        Shapes:
            token_ids (B, T) int64, padded past each length; lengths (B,) in [1, T];
            returns logits (B, C).
        """
        if token_ids.ndim != 2 or token_ids.dtype != torch.long:
            raise ShapeError(
                f"token_ids must be (B, T) int64; got {tuple(token_ids.shape)} {token_ids.dtype}"
            )
        V = self.config.vocab_size
        if token_ids.numel() and (int(token_ids.min()) < 0 or int(token_ids.max()) >= V):
            raise ShapeError(f"token ids must lie in [0, {V}); got max {int(token_ids.max())}")
        B, T = token_ids.shape
        lengths = check_lengths(lengths, batch_size=B, steps=T)
        return self.classify(self.dropout(self.represent(token_ids)), lengths)  # x (B, T, F)

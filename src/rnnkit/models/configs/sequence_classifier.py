"""SequenceClassifierConfig: the settings of `many_to_one.SequenceClassifier` (no torch).

The vocabulary, the classes, the hashing table's sizes and the padding id are set by the task
from its data (`data_field`: no flags); a vocabulary size of 0 is "not yet known", and the
checks that need it wait for it, while the parameter count (a lower bound then) still refuses
a model too big to hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rnnkit.config import data_field
from rnnkit.errors import ConfigError
from rnnkit.models.size import check_fits, recurrent_parameters


@dataclass(frozen=True, kw_only=True)
class SequenceClassifierConfig:
    """Representation → recurrent stack → pooling → dropout → linear → logits (B, C)."""

    vocab_size: int = data_field(0)  # V, from the data (0: not yet known)
    num_classes: int = data_field(2)  # C, the data's classes
    # x_t of a word: a learned embedding, one-hot, or hashed letter n-grams
    representation: Literal["embedding", "onehot", "hashing"] = "embedding"
    embed_dim: int = 128  # E, size of each word's embedding (unused by one-hot, where E = V)
    hash_buckets: int = data_field(0)  # D rows of the n-gram table G (set by hashing_table)
    hash_width: int = data_field(0)  # most n-grams of one word (set by hashing_table)
    cell: Literal["rnn", "lstm", "gru"] = "lstm"  # recurrent cell: Elman, LSTM or GRU
    hidden_size: int = 128  # H, hidden units per layer and direction
    num_layers: int = 1  # L, stacked recurrent layers
    bidirectional: bool = False  # also read each text right to left (D = 2)
    pooling: Literal["last", "mean", "max"] = "max"  # s from h_1 … h_T: last, mean or max
    dropout: float = 0.0  # p on the representation, between layers and on s
    pad_id: int = data_field(0)  # id of <pad>: its row of E is zero

    def __post_init__(self) -> None:
        if self.vocab_size < 0:
            raise ConfigError(f"vocab_size must be a positive integer, got {self.vocab_size}")
        for name in ("num_classes", "embed_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.num_classes < 2:
            raise ConfigError(f"num_classes must be ≥ 2, got {self.num_classes}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        known = self.vocab_size > 0  # the data's, once read; the table is built from it
        hashed = self.hash_buckets >= 1 and self.hash_width >= 1
        if known and self.representation == "hashing" and not hashed:
            raise ConfigError(
                "representation='hashing' needs hash_buckets and hash_width ≥ 1; build the "
                "table with hashing_table(vocab) and pass its sizes"
            )
        if known and not 0 <= self.pad_id < self.vocab_size:
            raise ConfigError(f"pad_id must be in [0, {self.vocab_size}), got {self.pad_id}")
        D = 2 if self.bidirectional else 1
        table = {"embedding": self.vocab_size, "onehot": 0, "hashing": self.hash_buckets + 1}
        parameters = table[self.representation] * self.embed_dim + recurrent_parameters(
            self.input_size, self.hidden_size, self.num_layers, self.cell, D
        )  # the lookup table, the recurrent stack; then W_s
        check_fits("this classifier", parameters + self.num_classes * (self.features + 1))

    @property
    def input_size(self) -> int:
        """F, the size of x_t: V for one-hot, else E."""
        return self.vocab_size if self.representation == "onehot" else self.embed_dim

    @property
    def features(self) -> int:
        """Size of the pooled vector s: D·H."""
        return self.hidden_size * (2 if self.bidirectional else 1)

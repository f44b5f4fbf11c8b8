"""SequenceTaggerConfig: the settings of `rnnkit.models.tagger.SequenceTagger` (no torch).

The vocabularies (words, characters), the tag set and the padding id are set by the task from
its data (`data_field`: no flags); a vocabulary size of 0 or no tags is "not yet known", and
the parameter count (a lower bound then) still refuses a model too big to hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.config import data_field
from rnnkit.errors import ConfigError
from rnnkit.models.size import check_fits, recurrent_parameters

NUM_CASINGS = 10  # casing classes of a word, rnnkit.models.tagger.CASINGS (0 = padding)


@dataclass(frozen=True, kw_only=True)
class SequenceTaggerConfig:
    """Word (+ char) features → stacked BiLSTM → linear → softmax or CRF over `tags`."""

    vocab_size: int = data_field(0)  # V words, from the data (0: not yet known)
    tags: tuple[str, ...] = data_field(())  # the C tag names, e.g. ("O", "B-PER", "I-PER")
    embed_dim: int = 100  # E, size of each word's embedding (set by word vectors)
    char_vocab_size: int = data_field(0)  # characters; 0: no character features
    char_embed_dim: int = 25  # E_c, size of each character's embedding
    char_hidden_size: int = 25  # H_c, hidden units per direction of the char BiLSTM
    hidden_size: int = 100  # H, hidden units per direction of the word BiLSTM
    num_layers: int = 1  # L, stacked recurrent layers
    dropout: float = 0.5  # p on x_t and on h_t
    crf: bool = True  # CRF output layer; --no-crf: softmax per word
    constrain: bool = True  # CRF: forbid transitions invalid in BIO / BIOES
    pad_id: int = data_field(0)  # padding id of words and characters
    casing: bool = False  # one-hot casing class of each word in x_t (needs char features)

    def __post_init__(self) -> None:
        if self.vocab_size < 0:
            raise ConfigError(f"vocab_size must be a positive integer, got {self.vocab_size}")
        for name in ("embed_dim", "char_embed_dim", "char_hidden_size", "hidden_size",
                     "num_layers"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        known = self.vocab_size > 0  # the tags are read with the words
        if known and (len(self.tags) < 1 or len(set(self.tags)) != len(self.tags)):
            raise ConfigError(f"tags must be distinct and non-empty, got {list(self.tags)}")
        if self.char_vocab_size < 0:
            raise ConfigError(f"char_vocab_size must be ≥ 0, got {self.char_vocab_size}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if known and self.casing and not self.char_vocab_size:
            raise ConfigError("casing is read from the characters: it needs char features")
        C, H_c = len(self.tags), self.char_hidden_size
        parameters = self.vocab_size * self.embed_dim + self.char_vocab_size * self.char_embed_dim
        if self.char_vocab_size:
            parameters += recurrent_parameters(self.char_embed_dim, H_c, 1, "lstm", 2)
        parameters += recurrent_parameters(self.input_size, self.hidden_size, self.num_layers,
                                           "lstm", 2)  # fmt: skip
        check_fits("this tagger", parameters + C * (2 * self.hidden_size + 1) + C * (C + 2))

    @property
    def input_size(self) -> int:
        """F = E (+ 2·H_c with character features) (+ NUM_CASINGS with casing)."""
        casing = NUM_CASINGS if self.casing else 0  # rnnkit.models.tagger.CASINGS
        return self.embed_dim + (2 * self.char_hidden_size if self.char_vocab_size else 0) + casing

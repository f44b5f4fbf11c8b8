"""Seq2SeqConfig: the settings of `rnnkit.models.seq2seq.Seq2Seq` (no torch).

The vocabularies, their special ids and whether source and target share one table are set by
the task from its data (`data_field`: no flags); a vocabulary size of 0 is "not yet known",
and the checks that need it wait for it, while the parameter count (a lower bound then) still
refuses a model too big to hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rnnkit.config import data_field
from rnnkit.errors import ConfigError
from rnnkit.models.size import check_fits, recurrent_parameters


@dataclass(frozen=True, kw_only=True)
class Seq2SeqConfig:
    """Sizes and options of an encoder–decoder; token ids 0 … V−1 with <pad>, <bos>, <eos>."""

    source_vocab_size: int = data_field(0)  # V_src, from the data (0: not yet known)
    target_vocab_size: int = data_field(0)  # V_tgt, from the data (0: not yet known)
    embed_dim: int = 256  # E, size of each word's embedding (source and target)
    cell: Literal["rnn", "lstm", "gru"] = "gru"  # recurrent cell: Elman, LSTM or GRU
    hidden_size: int = 256  # H, hidden units per layer (encoder per direction, and decoder)
    encoder_layers: int = 1  # L_enc, stacked encoder layers
    decoder_layers: int = 1  # L_dec, stacked decoder layers
    bidirectional: bool = False  # the encoder also reads right to left (D = 2)
    # score of the decoder's attention over the encoder states; none: no attention
    attention: Literal["none", "additive", "dot", "general"] = "none"
    reverse_source: bool = False  # feed the source reversed (Sutskever et al. 2014)
    # one table E for source and target (one joint vocabulary: the task's data decides)
    share_embeddings: bool = data_field(False)
    dropout: float = 0.0  # p on embeddings, between layers and on õ_t
    pad_id: int = data_field(0)  # <pad> in both vocabularies
    bos_id: int = data_field(2)  # <bos> of the target vocabulary
    eos_id: int = data_field(3)  # <eos> of the target vocabulary

    def __post_init__(self) -> None:
        for name in ("source_vocab_size", "target_vocab_size"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        for name in ("embed_dim", "hidden_size", "encoder_layers", "decoder_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.cell not in ("rnn", "lstm", "gru"):
            raise ConfigError(f"cell must be rnn, lstm or gru, got {self.cell!r}")
        if self.attention not in ("none", "additive", "dot", "general"):
            raise ConfigError(f"attention must be none, additive, dot or general, "
                              f"got {self.attention!r}")  # fmt: skip
        known = self.source_vocab_size and self.target_vocab_size  # the data's, once read
        if known and not 0 <= self.pad_id < self.source_vocab_size:
            raise ConfigError(f"pad_id must be a source token id too, got {self.pad_id}")
        for name in ("pad_id", "bos_id", "eos_id"):
            if known and not 0 <= getattr(self, name) < self.target_vocab_size:
                raise ConfigError(f"{name} must be a target token id, got {getattr(self, name)}")
        if known and self.share_embeddings and self.source_vocab_size != self.target_vocab_size:
            raise ConfigError("share_embeddings needs one joint vocabulary (equal V_src, V_tgt)")
        if self.attention == "dot" and self.bidirectional:
            raise ConfigError("dot attention needs K = H: use general or additive attention "
                              "with a bidirectional encoder")  # fmt: skip
        E, H, K = self.embed_dim, self.hidden_size, self.memory_size
        V_src, V_tgt = self.source_vocab_size, self.target_vocab_size
        context = K if self.attention != "none" else 0
        parameters = (V_src * (not self.share_embeddings) + V_tgt) * E  # the lookup tables
        parameters += recurrent_parameters(E, H, self.encoder_layers, self.cell, K // H)
        parameters += recurrent_parameters(E + context, H, self.decoder_layers, self.cell)
        parameters += (H + context) * (H + K + 1) + V_tgt * (H + context + 1)  # attention, W_out
        check_fits("this translation model", parameters)

    @property
    def memory_size(self) -> int:
        """K, the size of an encoder state h_s: D·H."""
        return self.hidden_size * (2 if self.bidirectional else 1)

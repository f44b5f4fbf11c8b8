"""ConditionedDecoderConfig: the settings of `one_to_many.ConditionedDecoder` (no torch).

The vocabulary, its special ids and the size F of the condition v are set by the task from its
data (`data_field`: no flags); vocab_size 0 is "not yet known", and the checks that need V wait
for it, while the parameter count (a lower bound then) still refuses a model too big to hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rnnkit.config import data_field
from rnnkit.errors import ConfigError
from rnnkit.models.size import check_fits, recurrent_parameters


@dataclass(frozen=True, kw_only=True)
class ConditionedDecoderConfig:
    """Sizes and options of a decoder conditioned on one vector; ids 0 … V−1."""

    vocab_size: int = data_field(0)  # V, from the data (0: not yet known)
    embed_dim: int = 256  # E, size of each word's embedding
    condition_size: int = data_field(256)  # F, the size of v (the task's: classes, features)
    cell: Literal["rnn", "lstm", "gru"] = "lstm"  # recurrent cell: Elman, LSTM or GRU
    hidden_size: int = 512  # H, hidden units per layer
    num_layers: int = 1  # L, stacked recurrent layers
    dropout: float = 0.0  # p on the layer inputs, between layers and before W_out
    conditioning: Literal["init", "every_step"] = "init"  # v sets h_0, or enters each x_t
    condition_output: bool = False  # v also enters the output layer, W_out [h_t ; v]
    pad_id: int = data_field(0)  # <pad>
    bos_id: int = data_field(2)  # <bos>
    eos_id: int = data_field(3)  # <eos>

    def __post_init__(self) -> None:
        if self.vocab_size < 0:
            raise ConfigError(f"vocab_size must be a positive integer, got {self.vocab_size}")
        for name in ("embed_dim", "condition_size", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.cell not in ("rnn", "lstm", "gru"):
            raise ConfigError(f"cell must be rnn, lstm or gru, got {self.cell!r}")
        if self.conditioning not in ("init", "every_step"):
            raise ConfigError(f"conditioning must be init or every_step, "
                              f"got {self.conditioning!r}")  # fmt: skip
        for name in ("pad_id", "bos_id", "eos_id"):  # once V is known
            if self.vocab_size and not 0 <= getattr(self, name) < self.vocab_size:
                raise ConfigError(f"{name} must be a token id in [0, {self.vocab_size}), "
                                  f"got {getattr(self, name)}")  # fmt: skip
        V, E, F, H = self.vocab_size, self.embed_dim, self.condition_size, self.hidden_size
        every = F if self.conditioning == "every_step" else 0
        parameters = V * E + recurrent_parameters(E + every, H, self.num_layers, self.cell)
        parameters += 2 * self.num_layers * H * (F + 1)  # v -> h_0 (and c_0)
        check_fits("this decoder", parameters + V * (H + F * self.condition_output + 1))

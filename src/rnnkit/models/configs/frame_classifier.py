"""FrameClassifierConfig: the settings of `rnnkit.models.frame_classifier.FrameClassifier`.

No torch here: the `sequences` task nests this config, so that `rnnkit train sequences --help`
lists the model's flags without importing torch. The frame size F and the classes C come from
the data (`data_field`); 0 frames features is "not yet known".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rnnkit.config import data_field
from rnnkit.errors import ConfigError
from rnnkit.models.size import check_fits, recurrent_parameters


@dataclass(frozen=True, kw_only=True)
class FrameClassifierConfig:
    """Standardise → recurrent stack → pooling over the real steps → dropout → linear → (B, C)."""

    num_features: int = data_field(0)  # F, values per frame, from the data (0: not yet known)
    num_classes: int = data_field(2)  # C, the data's classes
    cell: Literal["rnn", "lstm", "gru"] = "lstm"  # recurrent cell: Elman, LSTM or GRU
    hidden_size: int = 64  # H, hidden units per layer and direction
    num_layers: int = 1  # L, stacked recurrent layers
    bidirectional: bool = True  # also read each sequence from its end back (D = 2)
    pooling: Literal["last", "mean", "max"] = "max"  # s from h_1 … h_len: last, mean or max
    dropout: float = 0.0  # p on the frames, between layers and on s

    def __post_init__(self) -> None:
        if self.num_features < 0:
            raise ConfigError(f"num_features must be a positive integer, got {self.num_features}")
        for name in ("hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.num_classes < 2:
            raise ConfigError(f"num_classes must be ≥ 2, got {self.num_classes}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.cell not in ("rnn", "lstm", "gru"):
            raise ConfigError(f"cell must be rnn, lstm or gru, got {self.cell!r}")
        if self.pooling not in ("last", "mean", "max"):
            raise ConfigError(f"pooling must be last, mean or max, got {self.pooling!r}")
        D = 2 if self.bidirectional else 1
        parameters = recurrent_parameters(
            self.num_features, self.hidden_size, self.num_layers, self.cell, D
        ) + self.num_classes * (self.features + 1)  # the recurrent stack, then W_s and b_s
        check_fits("this classifier", parameters)

    @property
    def features(self) -> int:
        """Size of the pooled vector s: D·H."""
        return self.hidden_size * (2 if self.bidirectional else 1)

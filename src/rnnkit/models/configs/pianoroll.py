"""PianoRollConfig: the settings of `rnnkit.models.pianoroll.PianoRollModel` (no torch).

The number of pitches P is the piano roll's (`data_field`): the music task sets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rnnkit.config import data_field
from rnnkit.errors import ConfigError
from rnnkit.models.size import check_fits, recurrent_parameters


@dataclass(frozen=True, kw_only=True)
class PianoRollConfig:
    """Stacked recurrent layer over frames → linear head → a sigmoid per pitch."""

    num_pitches: int = data_field(88)  # P, the piano roll's pitches (the 88 keys)
    hidden_size: int = 128  # H, hidden units per layer
    num_layers: int = 1  # L, stacked recurrent layers
    cell: Literal["lstm", "gru", "rnn"] = "lstm"  # recurrent cell: LSTM, GRU or Elman
    dropout: float = 0.0  # p between recurrent layers

    def __post_init__(self) -> None:
        for name in ("num_pitches", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.cell not in ("lstm", "gru", "rnn"):
            raise ConfigError(f"cell must be 'lstm', 'gru' or 'rnn', got {self.cell!r}")
        P, H = self.num_pitches, self.hidden_size
        parameters = recurrent_parameters(P, H, self.num_layers, self.cell) + P * (H + 1)
        check_fits("this piano-roll model", parameters)

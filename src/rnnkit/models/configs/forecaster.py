"""ForecasterConfig: the settings of `rnnkit.models.forecaster.Forecaster` (no torch).

The number of features F is decided by the data (`data_field`): the forecast task fills it in
once the series is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rnnkit.config import data_field
from rnnkit.errors import ConfigError
from rnnkit.models.size import check_fits, recurrent_parameters


@dataclass(frozen=True, kw_only=True)
class ForecasterConfig:
    """Scaler → stacked LSTM/GRU → linear head over F features."""

    num_features: int = data_field(1)  # F, from the series: forecast jointly (multivariate > 1)
    hidden_size: int = 32  # H, hidden units per layer
    num_layers: int = 1  # L, stacked recurrent layers
    cell: Literal["lstm", "gru"] = "lstm"  # recurrent cell: LSTM or GRU
    dropout: float = 0.0  # p between recurrent layers
    residual: bool = True  # predict the change ẑ_{t+1} − z_t rather than ẑ_{t+1}

    def __post_init__(self) -> None:
        for name in ("num_features", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.cell not in ("lstm", "gru"):
            raise ConfigError(f"cell must be 'lstm' or 'gru', got {self.cell!r}")
        F, H = self.num_features, self.hidden_size
        parameters = recurrent_parameters(F, H, self.num_layers, self.cell) + F * (H + 1)
        check_fits("this forecaster", parameters)

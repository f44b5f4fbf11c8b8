"""ForecastConfig: the settings of a `rnnkit train forecast` run, and its trainer defaults.

This module imports no torch, so that `rnnkit train … --help` lists the flags quickly;
`rnnkit.tasks.forecast.train` builds and trains the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from rnnkit.errors import ConfigError
from rnnkit.tasks.registry import TaskInfo

if TYPE_CHECKING:
    from rnnkit.models.forecaster import ForecasterConfig


SeriesName = Literal[
    "airline", "sunspots", "co2", "nile", "elec_equip", "lynx", "shampoo", "macrodata", "csv"
]  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ForecastConfig:
    """A forecasting run: the series and its split, the windows and the model."""

    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {  # help groups of the flags
        "data": ("series", "time_column", "value_column", "fill", "season", "window", "horizon",
                 "batch_size"),
        "model": ("cell", "hidden_size", "num_layers", "dropout", "residual"),
    }  # fmt: skip

    series: SeriesName = "airline"  # csv: your file, --data FILE.csv
    time_column: str | None = None  # csv: the timestamp column (default: the first)
    value_column: str | None = None  # csv: value column(s), comma-separated; macrodata: choice
    fill: Literal["error", "interpolate"] = "error"  # csv: empty values refused or interpolated
    season: int | None = None  # m of seasonal naive and MASE; None: the series' own (csv: inferred)
    window: int = 24  # T, steps per training window
    horizon: int = 12  # k, held-out points forecast ahead
    cell: Literal["lstm", "gru"] = "lstm"  # recurrent cell: LSTM or GRU
    hidden_size: int = 32  # H, hidden units per layer
    num_layers: int = 1  # L, stacked recurrent layers
    dropout: float = 0.0  # p between recurrent layers
    residual: bool = True  # predict the change ẑ_{t+1} − z_t
    batch_size: int = 32  # B windows per update

    def __post_init__(self) -> None:
        for name in ("window", "horizon", "hidden_size", "num_layers", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.season is not None and self.season < 1:
            raise ConfigError(f"season must be a positive integer or None, got {self.season}")

    def model_config(self, num_features: int) -> ForecasterConfig:
        """The Forecaster's config for F features."""
        from rnnkit.models.forecaster import ForecasterConfig

        return ForecasterConfig(
            num_features=num_features, hidden_size=self.hidden_size, num_layers=self.num_layers,
            cell=self.cell, dropout=self.dropout, residual=self.residual,
        )  # fmt: skip


# Adam 3e-3, cosine to η/10; 500 updates of B = 32 windows (bench/forecast.py).
TRAINER_DEFAULTS = {
    "max_steps": 500,
    "lr": 3e-3,
    "schedule": "cosine",
    "min_lr": 3e-4,
    "clip_norm": 1.0,
    "eval_every": 0,
    "checkpoint_every": 0,
    "log_every": 50,
}

# Registration (read by rnnkit.tasks): the module that builds the task, the function that
# loads a trained run of it (rnnkit.load, rnnkit serve).
BUILDER = "rnnkit.tasks.forecast.train"
LOADER = "rnnkit.tasks.forecast.train:load_forecaster"

TASK_INFO = {
    "forecast": TaskInfo(
        ForecastConfig,
        "streaming time-series forecasting (airline, sunspots, co2, … or your CSV)",
        TRAINER_DEFAULTS,
        builder=BUILDER,
        loader=LOADER,
    ),
}

"""ForecastConfig: the settings of a `rnnkit train forecast` run, and its trainer defaults.

This module imports no torch, so that `rnnkit train … --help` lists the flags quickly;
`rnnkit.tasks.forecast.train` builds and trains the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from rnnkit.config import check_data_fields
from rnnkit.errors import ConfigError
from rnnkit.models.configs.forecaster import ForecasterConfig
from rnnkit.tasks.registry import TaskInfo

SeriesName = Literal[
    "airline", "sunspots", "co2", "nile", "elec_equip", "lynx", "shampoo", "macrodata", "csv"
]  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ForecastConfig:
    """A forecasting run: the series and its split, the windows and the model (`model`, the
    Forecaster's own config: `--model.hidden-size`, alias `--hidden-size`)."""

    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {  # help groups of the flags
        "data": ("series", "time_column", "value_column", "fill", "season", "window", "horizon",
                 "batch_size"),
        "model": ("model",),
    }  # fmt: skip

    series: SeriesName = "airline"  # csv: your file, --data FILE.csv
    time_column: str | None = None  # csv: the timestamp column (default: the first)
    value_column: str | None = None  # csv: value column(s), comma-separated; macrodata: choice
    fill: Literal["error", "interpolate"] = "error"  # csv: empty values refused or interpolated
    season: int | None = None  # m of seasonal naive and MASE; None: the series' own (csv: inferred)
    window: int = 24  # T, steps per training window
    horizon: int = 12  # k, held-out points forecast ahead
    model: ForecasterConfig = field(default_factory=ForecasterConfig)  # H 32, L 1, LSTM
    batch_size: int = 32  # B windows per update

    def __post_init__(self) -> None:
        for name in ("window", "horizon", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.season is not None and self.season < 1:
            raise ConfigError(f"season must be a positive integer or None, got {self.season}")

    def model_config(self, num_features: int) -> ForecasterConfig:
        """The Forecaster's config for the series' F features."""
        model = dataclasses.replace(self.model, num_features=num_features)
        check_data_fields(model)
        return model


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
        verbs=("rnnkit.tasks.forecast.cli:add_forecast",),
    ),
}

"""The forecast task: streaming time-series forecasting (`rnnkit train forecast`).

    config.py   ForecastConfig and TASK_INFO (torch-free)
    train.py    windows, build, report and load_forecaster (LoadedForecaster)

Light to import (no torch): `rnnkit.tasks.forecast.NAME`, for a NAME defined in one of these
modules, is read from it on first use (`rnnkit.tasks.task_package`), config.py first.
"""

from __future__ import annotations

from rnnkit.tasks.task_package import task_package_exports

__getattr__, __dir__ = task_package_exports(
    globals(),
    (
        "config",
        "train",
    ),
)

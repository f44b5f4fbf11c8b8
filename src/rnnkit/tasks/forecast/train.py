"""Streaming time-series forecasting: `rnnkit train forecast --series airline --window 24 …`.

The last k = `horizon` points of the series are held out. The model (`rnnkit.models.Forecaster`)
is trained on sliding windows x_i … x_{i+T−1} of the first n = N − k points, each step scored
against the next value (teacher forcing):

    L = (1/(B·T·F)) Σ_{b,t,f} ((ŷ_{t+1} − y_{t+1}) / σ_f)²      MSE in z-scored units

Evaluation streams the whole training series through the model, then rolls it out k steps,
feeding its own forecasts back, and scores that forecast with MAE, RMSE and MASE beside the
naive and seasonal-naive forecasts of the same hold-out (`training.forecast_metrics`); it also
scores the one-step-ahead forecasts made while the true held-out values stream in (`onestep_*`).
There is no separate validation split, so the "best" checkpoint is chosen on the held-out tail:
quote the latest checkpoint (eval_every = 0, the default here).

References:
    Hyndman & Koehler. Another look at measures of forecast accuracy. IJF 22(4), 2006.
    Hewamalage, Bergmeir & Bandara. Recurrent Neural Networks for Time Series Forecasting:
        Current status and future directions. IJF 37(1), 2021.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from rnnkit.config import config_from_dict, config_to_dict
from rnnkit.console import console
from rnnkit.datasets.shared import find_shared
from rnnkit.datasets.timeseries import TimeSeries, holdout_split, load_series, read_csv_series
from rnnkit.errors import ConfigError, DataError
from rnnkit.losses.regression import masked_mse
from rnnkit.models.forecaster import Forecaster, ForecasterConfig
from rnnkit.tasks.export import exported_series
from rnnkit.tasks.forecast.config import TRAINER_DEFAULTS as TRAINER_DEFAULTS  # re-exported
from rnnkit.tasks.forecast.config import ForecastConfig
from rnnkit.tasks.load import load_run
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.training import BatchSource, FitResult, Objective, StepResult, TrainingSetup
from rnnkit.training.forecast_metrics import (
    compare_with_baselines,
    mase,
    mase_scale,
    naive_forecast,
    seasonal_naive_forecast,
)


class Windows(NamedTuple):
    """B training windows: inputs x_1 … x_T and targets x_2 … x_{T+1}, both (B, T, F)."""

    inputs: Tensor
    targets: Tensor


class HoldOut(NamedTuple):
    """The training series (1, n, F) and the k held-out values (1, k, F) after it."""

    history: Tensor
    truth: Tensor


def find_root(data: Path | None) -> Path:
    """The `timeseries` folder: --data (a folder), or shared/data/timeseries near this checkout."""
    if data is not None:
        return data / "timeseries" if (data / "timeseries").is_dir() else data
    return find_shared("timeseries", flag="--data PATH")


def load_data(config: ForecastConfig, data: Path | None) -> TimeSeries:
    """The run's series: a user CSV when --data is a file (or series=csv), else a built-in one."""
    min_length = config.window + config.horizon + 1
    columns = config.value_column.split(",") if config.value_column else None
    if config.series == "csv" or (data is not None and Path(data).is_file()):
        if data is None or not Path(data).is_file():
            raise DataError("series=csv needs --data FILE.csv (with --value-column NAME)")
        if columns is None:
            raise DataError(f"{data}: name the value column(s) with --value-column NAME[,NAME]")
        series = read_csv_series(
            data, time_column=config.time_column or _first_column(Path(data)),
            value_columns=columns, fill=config.fill, min_length=min_length, season=config.season,
        )  # fmt: skip
    else:
        series = load_series(config.series, find_root(data), columns=columns, min_length=min_length)
    if config.season is not None:
        series = TimeSeries(series.name, series.values, series.timestamps, series.columns,
                            config.season)  # fmt: skip
    return series


def _first_column(path: Path) -> str:
    with path.open(encoding="utf-8") as handle:
        return handle.readline().split(",")[0].strip().strip('"')


def make_windows(values: Tensor, window: int) -> Windows:
    """Every window of T + 1 consecutive points, split into inputs and next-step targets.

    Shapes: values (n, F) -> inputs, targets (n − T, T, F).

    >>> w = make_windows(torch.arange(5.0)[:, None], 3)
    >>> w.inputs[:, :, 0].tolist(), w.targets[:, :, 0].tolist()
    ([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]])
    """
    spans = values.unfold(0, window + 1, 1).transpose(1, 2)  # (n − T, T + 1, F)
    return Windows(spans[:, :-1].contiguous(), spans[:, 1:].contiguous())


def _unwrap(model: nn.Module) -> Forecaster:
    return getattr(model, "module", model)  # DistributedDataParallel keeps it as .module


class ForecastObjective(Objective):
    """MSE of the teacher-forced one-step forecasts in z-scored units; rollout metrics on eval."""

    unit = "value"  # one predicted number: B·T·F per batch
    loss_name, loss_unit = "squared error", "z-scored units²"

    def __init__(self, season: int) -> None:
        self.season = season

    def loss(
        self, model: nn.Module, batch: Windows, state: Any, *, loss_from: int = 0
    ) -> StepResult:
        """L over the window's steps t ≥ loss_from (the windows are independent: no state flows)."""
        inputs, targets = batch  # (B, T, F) each; the BatchSource yields a plain tuple
        predictions, state = model(inputs)  # (B, T, F)
        scale = _unwrap(model).scale  # σ (F,)
        targets = targets[:, loss_from:]
        loss = masked_mse(predictions[:, loss_from:] / scale, targets / scale)
        return StepResult(loss, int(targets.numel()), state)

    def evaluate(self, model: nn.Module, batches: Any) -> dict[str, float]:
        """Rollout k steps after the training series; MAE/RMSE/MASE against the baselines."""
        (holdout,) = list(batches)
        forecaster = _unwrap(model)
        history, truth = holdout.history.float(), holdout.truth.float()  # (1, n, F), (1, k, F)
        forecast = forecaster.rollout(history, truth.shape[1])  # (1, k, F)
        streamed, _ = model(torch.cat([history, truth[:, :-1]], dim=1))  # (1, n + k − 1, F)
        onestep = streamed[:, -truth.shape[1] :]  # ŷ_{n+1} … ŷ_{n+k}, each from true inputs
        train, actual = history[0].cpu().double().numpy(), truth[0].cpu().double().numpy()
        table = compare_with_baselines(
            forecast[0].cpu().double().numpy(), actual, train, self.season
        )
        scale = forecaster.scale
        metrics = {"loss": float(masked_mse(forecast / scale, truth / scale))}
        for name, prefix in (("model", ""), ("naive", "naive_"), ("seasonal_naive", "snaive_")):
            metrics.update(table[name].as_dict(prefix))
        metrics["onestep_mase"] = mase(
            onestep[0].cpu().double().numpy(), actual, train, self.season
        )
        return metrics


def float32_values(series: TimeSeries) -> Tensor:
    """The series' values (N, F) as the float32 the model computes in; DataError beyond it."""
    largest = float(np.abs(series.values).max(initial=0.0))
    if largest > torch.finfo(torch.float32).max:
        raise DataError(
            f"series {series.name!r} holds {largest:.4g}, beyond the float32 range the model "
            "computes in; rescale the values (e.g. divide by a power of ten)"
        )
    return torch.tensor(series.values, dtype=torch.float32)


def _check_values(series: TimeSeries, train_part: TimeSeries) -> None:
    """DataError, before training, for values float32 cannot hold or a constant training part."""
    float32_values(series)
    try:
        mase_scale(train_part.values, train_part.season)
    except DataError as err:  # constant, or no longer than a season: nothing to learn or score
        raise DataError(f"series {series.name!r} cannot be forecast and scored: {err}") from err


def build(config: ForecastConfig, *, data: Path | None, seed: int) -> TrainingSetup:
    """Model with its scaler fitted on the training split, windows, and the held-out tail."""
    series = load_data(config, data)
    train_part, test_part = holdout_split(series, config.horizon)
    _check_values(series, train_part)
    train_values = torch.tensor(train_part.values, dtype=torch.float32)  # (n, F)
    model = Forecaster(config.model_config(series.values.shape[1]))
    model.fit_scaler(train_values)  # μ, σ of the training split only
    windows = make_windows(train_values, config.window)
    batch_size = min(config.batch_size, windows.inputs.shape[0])
    train_data = BatchSource(tuple(windows), batch_size, seed=seed)
    holdout = HoldOut(
        train_values.unsqueeze(0), torch.tensor(test_part.values, dtype=torch.float32)[None]
    )  # (1, n, F), (1, k, F)
    return TrainingSetup(
        model,
        ForecastObjective(series.season),
        train_data,
        [holdout],
        artifacts={
            "forecaster": config_to_dict(model.config),
            "series": {
                "name": series.name, "columns": list(series.columns), "season": series.season,
                "length": len(series), "train": len(train_part), "test": len(test_part),
                "windows": int(windows.inputs.shape[0]),
            },
        },
    )  # fmt: skip


class LoadedForecaster(NamedTuple):
    """A trained forecaster in eval mode, its run config and its series."""

    model: Forecaster
    config: ForecastConfig
    series: TimeSeries
    checkpoint: Path
    user_csv: bool  # the series came from the user's CSV, not a built-in one

    def forecast(
        self, horizon: int | None = None, history: TimeSeries | np.ndarray | None = None
    ) -> np.ndarray:
        """The `horizon` steps (default: the run's) after `history` (default: the run's whole
        series), each forecast fed back as the next input; as `rnnkit forecast` prints them.

        Shapes: history (n, F) or (n,) for one column -> (horizon, F).
        """
        horizon = self.config.horizon if horizon is None else horizon
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            raise ConfigError(f"horizon must be a positive integer, got {horizon!r}")
        if history is None or isinstance(history, TimeSeries):
            values = float32_values(self.series if history is None else history)  # (n, F)
        else:
            array = np.asarray(history, dtype=np.float64)
            array = array[:, None] if array.ndim == 1 else array  # (n, F)
            values = float32_values(dataclasses.replace(self.series, values=array))
        with torch.no_grad():
            return self.model.rollout(values, horizon).double().numpy()  # (k, F)


def load_forecaster(
    run_dir: str | Path, *, checkpoint: str = DEFAULT_CHECKPOINT
) -> LoadedForecaster:
    """The model of a `forecast` run at a checkpoint ("best": else the latest; "latest"; a
    path). Its series has no validation split: a run evaluated on the held-out tail marks a
    best checkpoint, and the default loads it; quote the held-out tail of the latest."""
    run = load_run(
        run_dir, lambda config: Forecaster(
            config_from_dict(ForecasterConfig, config["forecaster"])),
        tasks=("forecast",), needs="forecaster", what="a forecast", checkpoint=checkpoint,
    )  # fmt: skip
    config = run.config
    task_config = config_from_dict(ForecastConfig, config["task_config"])
    data = None if config.get("data") is None else Path(config["data"])
    exported = exported_series(run_dir)  # an `rnnkit export` folder carries its series
    if exported is not None:
        series, user_csv = exported
    else:
        series = load_data(task_config, data)
        user_csv = task_config.series == "csv" or (data is not None and data.is_file())
    return LoadedForecaster(run.model, task_config, series, run.checkpoint, user_csv)


def report(run_dir: Path, result: FitResult) -> None:
    """After training: MAE/RMSE/MASE of the model and the baselines, and the forecast plot."""
    from rnnkit.analysis.forecast_plot import plot_forecast  # matplotlib only when reporting

    loaded = load_forecaster(run_dir)
    train_part, test_part = holdout_split(loaded.series, loaded.config.horizon)
    history = torch.tensor(train_part.values, dtype=torch.float32)  # (n, F)
    with torch.no_grad():
        forecast = loaded.model.rollout(history, len(test_part)).double().numpy()  # (k, F)
    table = compare_with_baselines(forecast, test_part.values, train_part.values, train_part.season)
    name = loaded.series.name
    console.print(
        f"[bold]{name}: last {len(test_part)} points held out, m = {train_part.season}[/]"
    )
    console.print(f"  {'forecast':<16}{'MAE':>10}{'RMSE':>10}{'MASE':>8}", markup=False)
    for label, scores in table.items():
        console.print(f"  {label:<16}{scores.mae:10.3f}{scores.rmse:10.3f}{scores.mase:8.3f}",
                      markup=False)  # fmt: skip
    k, m = len(test_part), train_part.season
    baselines = {
        "naive": naive_forecast(train_part.values, k),
        "seasonal naive": seasonal_naive_forecast(train_part.values, k, m),
    }
    path = plot_forecast(
        run_dir / "plots" / "forecast.png", train_part.values,
        {loaded.model.config.cell.upper(): forecast, **baselines}, truth=test_part.values,
        timestamps=loaded.series.timestamps, title=f"{name}: {len(test_part)}-step forecast",
    )  # fmt: skip
    console.print(f"forecast plot: {path}")
    console.print(
        f"forecast past the end of the series with:\n  rnnkit forecast {run_dir} --horizon 24"
    )


__all__ = ["ForecastConfig", "build", "load_data", "load_forecaster", "make_windows"]

"""`rnnkit forecast RUN_DIR --horizon 24 [--input FILE.csv] [--plot OUT.png]`: forecast ahead.

The trained forecaster streams the whole series (the run's own series, or `--input`, a CSV with
the run's columns) one sample at a time, then rolls out `--horizon` steps past its end, feeding
each forecast back as the next input. It prints one row per step:

    step  after 1960-12    Passengers
    h=1                      461.5883
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rnnkit.console import console
from rnnkit.errors import ConfigError
from rnnkit.tasks.registry import CHECKPOINT_HELP, DEFAULT_CHECKPOINT

if TYPE_CHECKING:  # torch and the task load inside the handler
    from rnnkit.datasets.timeseries import TimeSeries
    from rnnkit.tasks.forecast.train import LoadedForecaster

# steps; 100,000 took 35 s on the 2-core dev machine, printing included, for a forecast run of
# hidden size 8 (`time rnnkit forecast RUN --horizon 100000 > /dev/null`)
MAX_HORIZON = 100_000


def read_input(loaded: LoadedForecaster, path: Path) -> TimeSeries:
    """A CSV with the run's time and value columns (a built-in series' own, or the run's)."""
    from rnnkit.datasets.timeseries import SERIES, read_csv_series

    config, series = loaded.config, loaded.series
    spec = None if loaded.user_csv else SERIES[config.series]
    time_column = config.time_column or (spec.time_columns if spec else None)
    if time_column is None:
        with path.open(encoding="utf-8") as handle:
            time_column = handle.readline().split(",")[0].strip().strip('"')
    return read_csv_series(
        path, time_column=time_column, value_columns=series.columns, fill=config.fill,
        min_length=1, name=path.stem, season=series.season, join=spec.join if spec else "-",
    )  # fmt: skip


def format_forecast(forecast: list[list[float]], columns: tuple[str, ...], last: str) -> str:
    """One row per step h = 1 … k with a value per column.

    >>> print(format_forecast([[1.5], [2.25]], ("v",), "2000"))
    step  after 2000                v
    h=1                        1.5000
    h=2                        2.2500
    """
    header = f"{'step  after ' + last:<21}" + "".join(f"{c:>12}" for c in columns)
    rows = [
        f"{'h=' + str(h):<21}" + "".join(f"{value:12.4f}" for value in values)
        for h, values in enumerate(forecast, start=1)
    ]
    return "\n".join([header, *rows])


def add_forecast(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit forecast RUN_DIR [--horizon K] [--input FILE] [--plot OUT.png]`."""
    parser = verbs.add_parser(
        "forecast",
        help="forecast the next steps of a series with a trained forecast run",
        description="Stream the series through RUN_DIR's model, then forecast HORIZON steps"
        " past its end (each forecast fed back as the next input).",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a trained forecast run")
    parser.add_argument("--horizon", type=int, default=None, help="steps ahead (default: run's)")
    parser.add_argument("--input", type=Path, default=None,
                        help="CSV with the run's columns (default: the run's series)")  # fmt: skip
    parser.add_argument("--plot", type=Path, default=None, metavar="OUT.png",
                        help="write a PNG of the forecast (default: no plot)")  # fmt: skip
    parser.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help=CHECKPOINT_HELP)

    def handle(args: argparse.Namespace) -> int:
        import torch

        from rnnkit.tasks.forecast.train import float32_values, load_forecaster

        loaded = load_forecaster(args.run_dir, checkpoint=args.checkpoint)
        horizon = loaded.config.horizon if args.horizon is None else args.horizon
        if not 1 <= horizon <= MAX_HORIZON:
            raise ConfigError(
                f"--horizon must be an integer in [1, {MAX_HORIZON:,}], got {horizon}: each step "
                "feeds the previous forecast back, so far horizons only repeat the model's drift"
            )
        series = loaded.series if args.input is None else read_input(loaded, args.input)
        history = float32_values(series)  # (N, F)
        with torch.no_grad():
            forecast = loaded.model.rollout(history, horizon)  # (k, F)
        table = format_forecast(forecast.tolist(), series.columns, series.timestamps[-1])
        console.print(table, markup=False, highlight=False)
        if args.plot is not None:
            from rnnkit.analysis.forecast_plot import plot_forecast

            path = plot_forecast(
                args.plot, series.values, {loaded.model.config.cell.upper(): forecast.numpy()},
                timestamps=series.timestamps, title=f"{series.name}: {horizon} steps ahead",
            )  # fmt: skip
            console.print(f"plot: {path}", markup=False)
        return 0

    parser.set_defaults(handler=handle)

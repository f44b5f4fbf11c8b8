"""Task forecast: the build (split, scaler, windows), training from the CLI, `rnnkit forecast`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main
from rnnkit.config import make_config
from rnnkit.datasets.shared import locate_shared
from rnnkit.errors import DataError
from rnnkit.tasks.forecast.train import ForecastConfig, build, load_forecaster, make_windows
from rnnkit.training import read_metrics

# the tests that read it carry @pytest.mark.shared_data("timeseries"): skipped where absent
ROOT = locate_shared("timeseries") or Path("../shared/data/timeseries")


pytestmark = pytest.mark.usefixtures("one_thread")


def _write_series(path: Path, count: int = 60) -> Path:
    """A seasonal series (period 6) with a trend, as a CSV with a timestamp column."""
    lines = ["day,load,other"]
    for t in range(count):
        lines.append(f"d{t},{10 + 0.2 * t + 3 * math.sin(2 * math.pi * t / 6):.4f},{t}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.shared_data("timeseries")
def test_build_fits_the_scaler_on_the_training_split_only() -> None:
    config = make_config(ForecastConfig, series="airline", window=12, horizon=12, hidden_size=4)
    setup = build(config, data=ROOT, seed=0)
    (holdout,) = setup.eval_data
    history, truth = holdout.history[0], holdout.truth[0]  # (132, 1), (12, 1)
    assert (history.shape[0], truth.shape[0]) == (132, 12)
    assert setup.model.mean.item() == pytest.approx(history.mean().item())
    everything = torch.cat([history, truth])
    assert setup.model.mean.item() != pytest.approx(everything.mean().item())
    assert setup.artifacts["series"]["windows"] == 132 - 12
    inputs, targets = setup.train_data.next_batch()  # (B, T, F) each
    torch.testing.assert_close(inputs[:, 1:], targets[:, :-1])


def test_a_monthly_csv_gets_season_12_and_values_are_the_unit(tmp_path: Path) -> None:
    sales = [f"{2000 + t // 12}-{t % 12 + 1:02d},{10 + t % 12 + t / 7:.3f}" for t in range(48)]
    lines = ["month,sales", *sales]
    path = tmp_path / "sales.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = ForecastConfig(series="csv", value_column="sales", window=6, horizon=6)
    setup = build(config, data=path, seed=0)
    assert setup.artifacts["series"]["season"] == 12  # was 1: seasonal naive = naive
    assert setup.objective.season == 12
    quarterly = ForecastConfig(series="csv", value_column="sales", window=6, horizon=6, season=4)
    assert build(quarterly, data=path, seed=0).objective.season == 4  # --season wins
    assert setup.objective.unit == "value"
    assert setup.objective.loss_label == "mean squared error per value (z-scored units²)"


def test_windows_cover_every_start() -> None:
    windows = make_windows(torch.arange(10.0).reshape(5, 2), 2)  # (n, F) = (5, 2)
    assert windows.inputs.shape == (3, 2, 2)
    assert windows.targets[2].tolist() == [[6.0, 7.0], [8.0, 9.0]]


def _train(tmp_path: Path, *extra: str) -> Path:
    run = tmp_path / "run"
    argv = [
        "train", "forecast", "--data", str(_write_series(tmp_path / "load.csv")),
        "--value-column", "load", "--season", "6", "--window", "12", "--horizon", "6",
        "--hidden-size", "8", "--batch-size", "8", "--max-steps", "150", "--lr", "0.01",
        "--quiet", "--device", "cpu", "--run-dir", str(run), *extra,
    ]  # fmt: skip
    assert main(argv) == 0
    return run


def test_train_reports_model_and_baselines_then_forecast_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _train(tmp_path)
    printed = capsys.readouterr().out
    assert "seasonal_naive" in printed
    assert "MASE" in printed
    assert (run / "plots" / "forecast.png").stat().st_size > 1000
    last = [row for row in read_metrics(run) if row.get("kind") == "eval"][-1]
    for key in ("val_mae", "val_rmse", "val_mase", "val_naive_mase", "val_snaive_mase"):
        assert math.isfinite(last[key])
    assert last["val_mase"] < last["val_naive_mase"]  # trend + season: beats "no change"
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert config["series"]["train"] == 54
    assert config["series"]["season"] == 6
    loaded = load_forecaster(run)
    assert loaded.model.mean.item() == pytest.approx(loaded.series.values[:54].mean(), rel=1e-6)

    plot = tmp_path / "ahead.png"
    assert main(["forecast", str(run), "--horizon", "4", "--plot", str(plot)]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split() == ["step", "after", "d59", "load"]
    assert [row.split()[0] for row in rows[1:5]] == ["h=1", "h=2", "h=3", "h=4"]
    assert plot.stat().st_size > 1000

    short = tmp_path / "short.csv"
    short.write_text("day,load\na,1.0\nb,2.0\nc,3.0\n", encoding="utf-8")
    assert main(["forecast", str(run), "--horizon", "2", "--input", str(short)]) == 0
    with torch.no_grad():
        expected = loaded.model.rollout(torch.tensor([[1.0], [2.0], [3.0]]), 2)
    values = [float(row.split()[1]) for row in capsys.readouterr().out.splitlines()[1:3]]
    assert values == pytest.approx(expected.ravel().tolist(), abs=1e-4)

    short.write_text("day,load\na,1.0\nb,1e300\n", encoding="utf-8")
    assert main(["forecast", str(run), "--input", str(short)]) == 2
    assert "holds 1e+300, beyond the float32 range" in capsys.readouterr().out
    assert main(["forecast", str(run), "--horizon", "100001"]) == 2
    assert "--horizon must be an integer in [1, 100,000]" in capsys.readouterr().out


def test_cli_errors_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _write_series(tmp_path / "load.csv")
    argv = ["train", "forecast", "--data", str(data), "--value-column", "watts", "--quiet",
            "--run-dir", str(tmp_path / "r1")]  # fmt: skip
    assert main(argv) == 2
    assert "no column 'watts'; found columns ['day', 'load', 'other']" in capsys.readouterr().out
    argv = ["train", "forecast", "--series", "csv", "--quiet", "--run-dir", str(tmp_path / "r2")]
    assert main(argv) == 2
    assert "series=csv needs --data" in capsys.readouterr().out
    argv = ["train", "forecast", "--data", str(data), "--value-column", "load", "--window", "60",
            "--quiet", "--run-dir", str(tmp_path / "r3")]  # fmt: skip
    assert main(argv) == 2
    assert "needs at least 73" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e300", r"holds 1e\+300, beyond the float32 range"),
        ("constant", r"cannot be forecast and scored: MASE is undefined"),
    ],
)
def test_series_the_model_cannot_use_are_refused_before_training(
    tmp_path: Path, value: str, message: str
) -> None:
    lines = ["day,load"] + [f"d{t},{10 if value == 'constant' else 10 + t % 6}" for t in range(60)]
    if value != "constant":
        lines[30] = f"d29,{value}"
    path = tmp_path / "load.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = ForecastConfig(series="csv", value_column="load", window=6, horizon=6)
    with pytest.raises(DataError, match=message):
        build(config, data=path, seed=0)

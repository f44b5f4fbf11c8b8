"""Forecasting benchmark: LSTM and GRU forecasters against naive and seasonal-naive forecasts.

Usage:
    python -m bench.forecast [--series airline,elec_equip,sunspots,co2,nile,lynx]
                             [--cells lstm,gru] [--seeds 0,1,2] [--steps 400]
                             [--data-root ../shared/data] [--out FILE.json]

For each series (`shared/data/README.md` §6, read by `rnnkit.datasets.timeseries`) the last k
points are held out (k and the window T per series are in SETTINGS below). Each model trains
through `rnnkit.tasks.forecast.train.build` and the rnnkit Trainer (the task's defaults: Adam 3e-3,
cosine decay to η/10, B = 32 sliding windows, H = 32, one layer), with no early stopping and
no model selection on the held-out tail: the figures are those of the last step. The forecast
is a k-step rollout after the training series (predictions fed back). MASE is scaled by the
in-sample seasonal-naive MAE of the training split (Hyndman & Koehler 2006), so the naive and
seasonal-naive rows are deterministic; model rows are mean ± sd over the seeds. Training
seconds are wall-clock on this machine (evaluation excluded).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from rnnkit.config import make_config
from rnnkit.seeding import seed_everything
from rnnkit.tasks.forecast.train import ForecastConfig, build
from rnnkit.training import Trainer, TrainerConfig
from rnnkit.training.forecast_metrics import compare_with_baselines

# series -> (k held out, window T); k is one season where there is one
SETTINGS = {
    "airline": (12, 24),
    "elec_equip": (12, 24),
    "sunspots": (11, 22),
    "co2": (52, 52),
    "nile": (10, 20),
    "lynx": (10, 20),
}


def run_one(series: str, cell: str, seed: int, steps: int, root: Path) -> dict[str, float]:
    """Train one model; its MAE/RMSE/MASE on the hold-out and the training seconds."""
    horizon, window = SETTINGS[series]
    config = make_config(ForecastConfig, series=series, window=window, horizon=horizon, cell=cell)
    seed_everything(seed)
    setup = build(config, data=root, seed=seed)
    trainer_config = TrainerConfig(
        max_steps=steps, lr=3e-3, schedule="cosine", min_lr=3e-4, clip_norm=1.0,
        checkpoint_every=0, keep_best=False, log_every=steps, quiet=True, seed=seed, device="cpu",
    )  # fmt: skip
    trainer = Trainer(setup.model, setup.objective, setup.train_data, config=trainer_config)
    start = time.perf_counter()
    trainer.fit()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        metrics = setup.objective.evaluate(setup.model.eval(), setup.eval_data)
    return {**metrics, "seconds": seconds}


def baselines(series: str, root: Path) -> dict[str, dict[str, float]]:
    """MAE/RMSE/MASE of the naive and seasonal-naive forecasts of the same hold-out."""
    horizon, window = SETTINGS[series]
    setup = build(ForecastConfig(series=series, window=window, horizon=horizon), data=root, seed=0)
    (holdout,) = setup.eval_data
    train, truth = holdout.history[0].double().numpy(), holdout.truth[0].double().numpy()
    season = setup.objective.season
    table = compare_with_baselines(truth, truth, train, season)
    return {name: vars(table[name]) for name in ("naive", "seasonal_naive")} | {
        "season": season, "n": len(train), "k": len(truth)
    }  # fmt: skip


def mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default=",".join(SETTINGS))
    parser.add_argument("--cells", default="lstm,gru")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)  # small models: one thread is faster and shares the machine
    seeds = [int(s) for s in args.seeds.split(",")]
    results: dict[str, dict] = {}
    print("| series | n / k / m | forecast | MAE | RMSE | MASE | train s |")
    print("|---|---|---|---|---|---|---|")
    for series in args.series.split(","):
        base = baselines(series, args.data_root)
        shape = f"{base['n']} / {base['k']} / {base['season']}"
        results[series] = {"baselines": base}
        for name in ("naive", "seasonal_naive"):
            s = base[name]
            print(f"| {series} | {shape} | {name} | {s['mae']:.3f} | {s['rmse']:.3f} | "
                  f"{s['mase']:.3f} | – |")  # fmt: skip
        for cell in args.cells.split(","):
            runs = [run_one(series, cell, seed, args.steps, args.data_root) for seed in seeds]
            results[series][cell] = runs
            cols = [mean_sd([r[key] for r in runs]) for key in ("mae", "rmse", "mase", "seconds")]
            print(f"| {series} | {shape} | {cell.upper()} | " + " | ".join(cols) + " |")
            sys.stdout.flush()
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

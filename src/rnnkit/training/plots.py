"""Training curves from RUN_DIR/metrics.jsonl as PNG files: loss, learning rate, gradient norm.

    loss.png       training loss per logged step and validation loss per evaluation
    lr.png         the learning rate η_t (warm-up and decay)
    grad_norm.png  ‖g‖ before and after clipping, log scale: clipping shows as the gap

Figures are drawn with matplotlib's Agg canvas directly, so no GUI backend is touched.

References:
    https://matplotlib.org/stable/gallery/user_interfaces/canvasagg.html
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rnnkit.errors import DataError
from rnnkit.training.runs import read_metrics


def _series(rows: list[dict[str, Any]], kind: str, key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of `key` in rows of `kind`, skipping missing and non-finite values."""
    steps, values = [], []
    for row in rows:
        value = row.get(key)
        if row.get("kind") == kind and isinstance(value, int | float) and math.isfinite(value):
            steps.append(int(row["step"]))
            values.append(float(value))
    return steps, values


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure).print_png(str(path))
    return path


def _figure(title: str, ylabel: str) -> tuple[Figure, Any]:
    figure = Figure(figsize=(6.4, 4.0), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.set_xlabel("step")
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    return figure, axes


def plot_run(run_dir: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Write loss.png, lr.png and grad_norm.png for a run; returns their paths.

    Args:
        run_dir: a run directory holding metrics.jsonl.
        out_dir: where to write the PNGs (default RUN_DIR/plots).
    """
    rows = read_metrics(run_dir)
    train_steps, train_loss = _series(rows, "train", "loss")
    if not train_steps:
        raise DataError(f"{Path(run_dir) / 'metrics.jsonl'} holds no training rows to plot")
    out = Path(out_dir) if out_dir is not None else Path(run_dir) / "plots"
    out.mkdir(parents=True, exist_ok=True)

    figure, axes = _figure("loss", "mean loss per token (nats)")
    axes.plot(train_steps, train_loss, label="train", linewidth=1)
    val_steps, val_loss = _series(rows, "eval", "val_loss")
    if val_steps:
        axes.plot(val_steps, val_loss, "o-", label="validation", linewidth=1.5)
    axes.legend()
    paths = [_save(figure, out / "loss.png")]

    figure, axes = _figure("learning rate", "η")
    axes.plot(*_series(rows, "train", "lr"), linewidth=1)
    paths.append(_save(figure, out / "lr.png"))

    figure, axes = _figure("gradient norm", "‖g‖ (log scale)")
    axes.plot(*_series(rows, "train", "grad_norm"), label="before clipping", linewidth=1)
    axes.plot(*_series(rows, "train", "grad_norm_clipped"), label="after clipping", linewidth=1)
    axes.set_yscale("log")
    axes.legend()
    paths.append(_save(figure, out / "grad_norm.png"))
    return paths

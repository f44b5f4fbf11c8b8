"""Training curves from RUN_DIR/metrics.jsonl as PNG files: loss, learning rate, gradient norm.

    loss.png       training loss per logged step and validation loss per evaluation, per the
                   task's unit (per example for a classifier, per token or char for an LM)
    lr.png         the learning rate η_t (warm-up and decay)
    grad_norm.png  ‖g‖ before and after clipping, log scale, with the threshold θ₀ as a line;
                   one line, and a title saying so, when the run clipped nothing

The y label of the loss and the clipping settings come from RUN_DIR/config.json (the trainer
records the objective's unit and loss there); without it the labels stay generic.

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
from rnnkit.training.runs import CONFIG_FILE, read_metrics, read_run_config


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


def _was_clipped(row: dict[str, Any]) -> bool:
    """Whether the update of a train row had its ‖g‖ reduced (both norms finite numbers)."""
    before, after = row.get("grad_norm"), row.get("grad_norm_clipped")
    numbers = all(isinstance(x, int | float) and math.isfinite(x) for x in (before, after))
    return numbers and after < before * (1 - 1e-6)


def loss_figure(rows: list[dict[str, Any]], ylabel: str = "mean training loss") -> Figure:
    """Training loss per logged step and validation loss per evaluation; `ylabel` names the unit."""
    figure, axes = _figure("loss", ylabel)
    axes.plot(*_series(rows, "train", "loss"), label="train", linewidth=1)
    val_steps, val_loss = _series(rows, "eval", "val_loss")
    if val_steps:
        axes.plot(val_steps, val_loss, "o-", label="validation", linewidth=1.5)
    axes.legend()
    return figure


def grad_norm_figure(rows: list[dict[str, Any]], trainer: dict[str, Any] | None) -> Figure:
    """‖g‖ before clipping and min(‖g‖, θ₀) after it, with θ₀ drawn as a horizontal line.

    `trainer` is the run's trainer config (clip_norm θ₀, clip_value v), None when unknown.
    Without clipping both norms are the same numbers, so one line is drawn and the title says
    that nothing was clipped.
    """
    steps, before = _series(rows, "train", "grad_norm")
    clip_norm = None if trainer is None else trainer.get("clip_norm")
    clip_value = None if trainer is None else trainer.get("clip_value")
    if trainer is not None and clip_norm is None and clip_value is None:
        figure, axes = _figure("gradient norm: no clipping configured", "‖g‖ (log scale)")
        axes.plot(steps, before, label="‖g‖ (not clipped)", linewidth=1)
        axes.set_yscale("log")
        return figure
    after_steps, after = _series(rows, "train", "grad_norm_clipped")
    clipped = sum(_was_clipped(row) for row in rows if row.get("kind") == "train")
    if trainer is None:
        title = "gradient norm (clipping settings unknown: no config.json)"
    else:
        limits = ([f"‖g‖ ≤ θ₀ = {clip_norm:g}"] if clip_norm is not None else []) + (
            [f"|g_i| ≤ {clip_value:g}"] if clip_value is not None else []
        )
        title = f"gradient norm, clipped to {' and '.join(limits)}"
    subtitle = f"{clipped} of {len(before)} logged updates clipped"
    figure, axes = _figure(f"{title}\n{subtitle}", "‖g‖ (log scale)")
    axes.plot(steps, before, label="before clipping ‖g‖", linewidth=2.5, alpha=0.6)
    label = "after clipping min(‖g‖, θ₀)" if clip_value is None else "after clipping"
    axes.plot(after_steps, after, "--", label=label, linewidth=1.2)
    if clip_norm is not None:
        axes.axhline(
            clip_norm, color="tab:red", linestyle=":", label=f"threshold θ₀ = {clip_norm:g}"
        )
    axes.set_yscale("log")
    axes.legend()
    return figure


def run_figures(run_dir: str | Path) -> dict[str, Figure]:
    """The figures of a run by file name: loss.png, lr.png, grad_norm.png."""
    rows = read_metrics(run_dir)
    if not _series(rows, "train", "loss")[0]:
        raise DataError(f"{Path(run_dir) / 'metrics.jsonl'} holds no training rows to plot")
    config = read_run_config(run_dir) if (Path(run_dir) / CONFIG_FILE).is_file() else {}
    objective, trainer = config.get("objective"), config.get("trainer")
    ylabel = "mean training loss"
    if isinstance(objective, dict) and isinstance(objective.get("loss"), str):
        ylabel = objective["loss"]
    figure, axes = _figure("learning rate", "η")
    axes.plot(*_series(rows, "train", "lr"), linewidth=1)
    return {
        "loss.png": loss_figure(rows, ylabel),
        "lr.png": figure,
        "grad_norm.png": grad_norm_figure(rows, trainer),
    }


def plot_run(run_dir: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Write loss.png, lr.png and grad_norm.png for a run; returns their paths.

    Args:
        run_dir: a run directory holding metrics.jsonl (and config.json, for the labels).
        out_dir: where to write the PNGs (default RUN_DIR/plots).
    """
    figures = run_figures(run_dir)
    out = Path(out_dir) if out_dir is not None else Path(run_dir) / "plots"
    out.mkdir(parents=True, exist_ok=True)
    return [_save(figure, out / name) for name, figure in figures.items()]

"""Matplotlib figures for the gradient analyses: curves on a log scale, drawn to PNG files.

Figures are drawn with matplotlib's Agg canvas directly, so no GUI backend is touched.

References:
    https://matplotlib.org/stable/gallery/user_interfaces/canvasagg.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rnnkit.errors import ShapeError


def plot_log_curves(
    path: str | Path,
    x: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
) -> Path:
    """Write one PNG with a labelled curve per entry of `curves`, y on a log scale.

    Non-positive values cannot be drawn on a log axis; matplotlib leaves those points out.

    Args:
        path: the PNG file to write.
        x: the shared x values, length N.
        curves: label -> y values, each of length N.
        title: the figure title.
        xlabel: the x-axis label.
        ylabel: the y-axis label.

    Returns:
        The path written.

    Raises:
        ShapeError: a curve's length differs from len(x).
    """
    figure = Figure(figsize=(6.4, 4.0), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    for label, values in curves.items():
        if len(values) != len(x):
            raise ShapeError(
                f"curve {label!r} must have len(x) = {len(x)} values; got {len(values)}."
            )
        axes.plot(list(x), list(values), label=label)
    axes.set_yscale("log")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3, which="both")
    axes.legend()
    path = Path(path)
    FigureCanvasAgg(figure).print_png(str(path))
    return path


def plot_panels(
    path: str | Path,
    x: Sequence[float],
    panels: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    ylim: tuple[float, float] | None = None,
    spread: float = 0.0,
) -> Path:
    """Write one PNG with a panel per entry of `panels`, each with labelled curves over `x`.

    Used for success rate against sequence length, one panel per problem. `spread` shifts
    curve k of n by (k − (n − 1)/2)·spread in y, so curves with equal values stay visible.

    Raises:
        ShapeError: a curve's length differs from len(x).
    """
    figure = Figure(figsize=(4.2 * len(panels), 3.8), dpi=100, layout="constrained")
    for index, (name, curves) in enumerate(panels.items()):
        axes = figure.add_subplot(1, len(panels), index + 1)
        for k, (label, values) in enumerate(curves.items()):
            if len(values) != len(x):
                raise ShapeError(
                    f"curve {label!r} must have len(x) = {len(x)} values; got {len(values)}."
                )
            shift = (k - (len(curves) - 1) / 2) * spread
            axes.plot(list(x), [v + shift for v in values], marker="o", label=label)
        axes.set_title(name)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.set_xticks(list(x))
        if ylim is not None:
            axes.set_ylim(*ylim)
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
    figure.suptitle(title)
    path = Path(path)
    FigureCanvasAgg(figure).print_png(str(path))
    return path


def plot_heatmaps(
    path: str | Path,
    maps: Mapping[str, np.ndarray],
    *,
    row_values: Sequence[int],
    title: str,
    xlabel: str,
    ylabel: str,
    colorbar: str,
) -> Path:
    """Write one PNG with a heatmap per entry of `maps`, all on one colour scale.

    Each map is (R, C): row r at `row_values[r]` (a training step, say), column c at c + 1
    (a time step). Non-finite cells are left blank.

    Raises:
        ShapeError: a map is not 2-D with len(row_values) rows, or maps differ in shape.
    """
    shapes = {tuple(np.shape(values)) for values in maps.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2 or next(iter(shapes))[0] != len(row_values):
        raise ShapeError(
            f"heatmaps must all be (R, C) with R = len(row_values) = {len(row_values)}; got "
            f"shapes {sorted(shapes)}."
        )
    finite = np.concatenate([np.asarray(v)[np.isfinite(v)] for v in maps.values()])
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    figure = Figure(figsize=(4.6 * len(maps), 3.8), dpi=100, layout="constrained")
    image = None
    for index, (name, values) in enumerate(maps.items()):
        axes = figure.add_subplot(1, len(maps), index + 1)
        columns = np.shape(values)[1]
        image = axes.imshow(
            values, aspect="auto", origin="lower", vmin=low, vmax=high, cmap="viridis",
            extent=(0.5, columns + 0.5, row_values[0], row_values[-1]),
        )  # fmt: skip
        axes.set_title(name)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
    figure.colorbar(image, ax=figure.axes, label=colorbar)
    figure.suptitle(title)
    path = Path(path)
    FigureCanvasAgg(figure).print_png(str(path))
    return path


__all__ = ["plot_heatmaps", "plot_log_curves", "plot_panels"]

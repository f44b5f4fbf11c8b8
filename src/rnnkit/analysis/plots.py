"""Matplotlib figures for the gradient analyses: curves on a log scale, drawn to PNG files.

Figures are drawn with matplotlib's Agg canvas directly, so no GUI backend is touched.

References:
    https://matplotlib.org/stable/gallery/user_interfaces/canvasagg.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

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


__all__ = ["plot_log_curves"]

"""A PNG of a forecast: the history, the held-out truth and one or more forecasts after it.

Drawn with matplotlib's Agg canvas directly, so no GUI backend is touched. The x axis is the
step index 0 … n+k−1; a few timestamps label the ticks when given.

References:
    https://matplotlib.org/stable/gallery/user_interfaces/canvasagg.html
    Hyndman & Athanasopoulos. Forecasting: Principles and Practice, 3rd ed., §5.2 (such plots).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from rnnkit.errors import ShapeError


def _column(values: ArrayLike, feature: int, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    array = array[:, None] if array.ndim == 1 else array  # (N, F)
    if array.ndim != 2 or not 0 <= feature < array.shape[1]:
        raise ShapeError(f"{name} must be (N,) or (N, F) with feature {feature} < F; got "
                         f"{array.shape}")  # fmt: skip
    return array[:, feature]


def plot_forecast(
    path: str | Path,
    history: ArrayLike,
    forecasts: Mapping[str, ArrayLike],
    *,
    truth: ArrayLike | None = None,
    timestamps: Sequence[str] | None = None,
    feature: int = 0,
    title: str = "forecast",
    ylabel: str = "value",
) -> Path:
    """Write one PNG: history (n,), truth (k,) when known, and each forecast (k,) after step n.

    Args:
        path: the PNG file to write (its folder is created).
        history: the observed series, (n,) or (n, F).
        forecasts: label -> forecast (k,) or (k, F), e.g. {"LSTM": …, "seasonal naive": …}.
        truth: the held-out values (k,) or (k, F), drawn in black when given.
        timestamps: labels of steps 0 … n+k−1 (a few are shown on the x axis).
        feature: which of the F features to draw.
        title: the figure title.
        ylabel: the y-axis label.

    Returns:
        The path written.

    Raises:
        ShapeError: forecasts of different lengths, or truth of another length.
    """
    past = _column(history, feature, "history")  # (n,)
    lines = {label: _column(values, feature, label) for label, values in forecasts.items()}
    lengths = {len(values) for values in lines.values()}
    actual = None if truth is None else _column(truth, feature, "truth")  # (k,)
    if actual is not None:
        lengths.add(len(actual))
    if len(lengths) > 1:
        raise ShapeError(f"forecasts and truth must share one length k; got lengths {lengths}")
    n = len(past)
    figure = Figure(figsize=(8.0, 4.0), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.plot(np.arange(n), past, color="0.45", label="history")
    if actual is not None:
        axes.plot(np.arange(n, n + len(actual)), actual, color="black", label="truth")
    for label, values in lines.items():
        axes.plot(np.arange(n, n + len(values)), values, linestyle="--", label=label)
    axes.axvline(n - 0.5, color="0.7", linewidth=0.8)
    if timestamps:
        ticks = np.linspace(0, len(timestamps) - 1, num=min(6, len(timestamps))).astype(int)
        axes.set_xticks(ticks, [timestamps[i] for i in ticks])
    axes.set_title(title)
    axes.set_xlabel("time step")
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    axes.legend()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure).print_png(str(path))
    return path

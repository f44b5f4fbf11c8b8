"""A PNG of a piano roll: time (frames) across, pitch up, a dark cell where a key sounds.

Drawn with matplotlib's Agg canvas directly, so no GUI backend is touched. The y axis labels
each C (C2, C3, …) and shows only the span of pitches used, with two keys of margin; the x axis
counts quarter notes. An optional probability map (σ(a_t) of a model) is drawn in grey under
the notes.

References:
    https://matplotlib.org/stable/gallery/user_interfaces/canvasagg.html
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from rnnkit.errors import ShapeError

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def pitch_name(midi: int) -> str:
    """Scientific pitch name of a MIDI number.

    >>> pitch_name(60), pitch_name(21), pitch_name(108)
    ('C4', 'A0', 'C8')
    """
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def plot_piano_roll(
    path: str | Path,
    roll: ArrayLike,
    *,
    lowest_pitch: int = 21,
    step: float = 1.0,
    title: str = "piano roll",
    probabilities: ArrayLike | None = None,
) -> Path:
    """Write one PNG of a piano roll (T, P).

    Args:
        path: the PNG file to write (its folder is created).
        roll: binary frames (T, P); column p is MIDI pitch lowest_pitch + p.
        lowest_pitch: the MIDI number of column 0 (21, A0, for an 88-key roll).
        step: Δ, quarter notes per frame (the x axis is in quarter notes).
        title: the figure title.
        probabilities: σ(a_t) of a model (T, P), drawn in grey beneath the notes.

    Returns:
        The path written.

    Raises:
        ShapeError: a roll that is not (T, P), or probabilities of another shape.
    """
    frames = np.asarray(roll, dtype=np.float64)
    if frames.ndim != 2 or frames.shape[0] < 1:
        raise ShapeError(f"a piano roll must be (T, P) with T ≥ 1; got {frames.shape}")
    T, P = frames.shape
    used = np.flatnonzero(frames.any(axis=0))
    low, high = (max(used[0] - 2, 0), min(used[-1] + 3, P)) if used.size else (0, P)
    image = np.zeros((high - low, T))  # (pitches shown, T)
    if probabilities is not None:
        shade = np.asarray(probabilities, dtype=np.float64)
        if shade.shape != frames.shape:
            raise ShapeError(f"probabilities must be {frames.shape} as the roll; got {shade.shape}")
        image = 0.5 * shade[:, low:high].T
    image = np.maximum(image, frames[:, low:high].T)  # notes on top, in black
    figure = Figure(figsize=(min(4 + T * step / 8, 16), 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.imshow(image, aspect="auto", origin="lower", cmap="Greys", vmin=0.0, vmax=1.0,
                extent=(0, T * step, low - 0.5, high - 0.5), interpolation="nearest")  # fmt: skip
    c_rows = [p for p in range(low, high) if (lowest_pitch + p) % 12 == 0]
    axes.set_yticks(c_rows, [pitch_name(lowest_pitch + p) for p in c_rows])
    for row in c_rows:
        axes.axhline(row - 0.5, color="tab:blue", linewidth=0.4, alpha=0.4)
    axes.set_xlabel("time (quarter notes)")
    axes.set_ylabel("pitch")
    axes.set_title(title)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path


__all__ = ["pitch_name", "plot_piano_roll"]

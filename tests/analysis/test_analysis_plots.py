"""analysis/plots.py: log-scale curve figures written as real PNG files."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.analysis.plots import plot_log_curves
from rnnkit.errors import ShapeError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_writes_a_png(tmp_path: Path) -> None:
    path = plot_log_curves(
        tmp_path / "curves.png",
        [1, 2, 3],
        {"a": [1.0, 0.1, 0.01], "b": [1.0, 10.0, 100.0]},
        title="t",
        xlabel="x",
        ylabel="y",
    )
    assert path == tmp_path / "curves.png"
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 1000


def test_curve_length_mismatch_raises(tmp_path: Path) -> None:
    with pytest.raises(ShapeError, match="got 2"):
        plot_log_curves(
            tmp_path / "bad.png", [1, 2, 3], {"a": [1.0, 2.0]}, title="t", xlabel="x", ylabel="y"
        )
    assert not (tmp_path / "bad.png").exists()

"""The attention heatmap: a PNG for α (T, S), a ShapeError for weights of another shape."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rnnkit.analysis.attention_plot import plot_attention
from rnnkit.errors import ShapeError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_writes_a_png_of_the_weights(tmp_path: Path) -> None:
    weights = torch.softmax(torch.randn(4, 3), dim=-1)  # (T, S)
    path = plot_attention(tmp_path / "alpha.png", weights, ["ein", "Mann", "."],
                          ["a", "man", ".", "<eos>"], title="en → de")  # fmt: skip
    assert path == tmp_path / "alpha.png"
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 1000  # a real image, not just a header
    one_row = plot_attention(str(tmp_path / "one.png"), torch.ones(1, 1), ["x"], ["y"])
    assert one_row.read_bytes().startswith(PNG_MAGIC)  # a str path works too


@pytest.mark.parametrize(
    "weights",
    [torch.ones(3, 4), torch.ones(4), torch.ones(1, 4, 3)],
    ids=["transposed", "1-D", "batched"],
)
def test_wrong_shape_raises_shape_error(tmp_path: Path, weights: torch.Tensor) -> None:
    with pytest.raises(ShapeError, match=r"\(T, S\) = \(4, 3\); got"):
        plot_attention(tmp_path / "bad.png", weights, ["a", "b", "c"], ["w", "x", "y", "z"])
    assert not (tmp_path / "bad.png").exists()

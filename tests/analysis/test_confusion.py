"""Confusion matrix as a text table and a PNG heat map."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from matplotlib.image import imread

from rnnkit.analysis.confusion import confusion_table, plot_confusion
from rnnkit.errors import ShapeError


def test_table_rows_are_true_classes() -> None:
    table = confusion_table(torch.tensor([[7, 1, 0], [2, 9, 3], [0, 0, 12]]), ["neg", "neu", "pos"])
    lines = table.splitlines()
    assert lines[0].split()[-3:] == ["neg", "neu", "pos"]
    assert lines[2].split() == ["neu", "2", "9", "3"]
    assert len(lines) == 4


@pytest.mark.parametrize("normalize", [False, True])
def test_plot_writes_a_png(tmp_path: Path, normalize: bool) -> None:
    path = plot_confusion(
        tmp_path / "plots" / "cm.png", torch.tensor([[50, 2], [3, 45]]), ["ham", "spam"],
        normalize=normalize,
    )  # fmt: skip
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.shape[0] > 100
    assert image.shape[1] > 100


def test_shape_must_match_the_names(tmp_path: Path) -> None:
    with pytest.raises(ShapeError, match=r"\(C, C\) = \(3, 3\)"):
        plot_confusion(tmp_path / "cm.png", torch.zeros(2, 2), ["a", "b", "c"])
    with pytest.raises(ShapeError, match="got"):
        confusion_table(torch.zeros(2, 3), ["a", "b"])

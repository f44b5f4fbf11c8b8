"""The confusion matrix of a classifier as a text table and as a PNG heat map.

M[i, j] counts the examples of true class i predicted as class j (rows true, columns predicted,
as `rnnkit.training.classification_metrics.confusion_matrix`); the diagonal holds the correct
predictions. With `normalize=True` each row is divided by its total, so the diagonal shows
the recall R_i = M[i, i] / Σ_j M[i, j] of each class.

References:
    https://matplotlib.org/stable/gallery/images_contours_and_fields/image_annotated_heatmap.html
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor

from rnnkit.errors import ShapeError


def _check(confusion: Tensor, class_names: Sequence[str]) -> int:
    C = len(class_names)
    if tuple(confusion.shape) != (C, C):
        raise ShapeError(
            f"confusion must be (C, C) = ({C}, {C}) for {C} class names; "
            f"got {tuple(confusion.shape)}"
        )
    return C


def confusion_table(confusion: Tensor, class_names: Sequence[str]) -> str:
    """M as aligned text: one row per true class, one column per predicted class.

    >>> import torch
    >>> print(confusion_table(torch.tensor([[50, 2], [3, 45]]), ["ham", "spam"]))
    true \\ predicted   ham  spam
    ham                 50     2
    spam                 3    45
    """
    _check(confusion, class_names)
    head = "true \\ predicted"
    width = max(len(head), *(len(name) for name in class_names))
    cell = max(5, *(len(name) for name in class_names), len(str(int(confusion.max()))))
    lines = [head.ljust(width) + " " + " ".join(name.rjust(cell) for name in class_names)]
    for i, name in enumerate(class_names):
        counts = " ".join(str(int(value)).rjust(cell) for value in confusion[i])
        lines.append(name.ljust(width) + " " + counts)
    return "\n".join(lines)


def plot_confusion(
    path: str | Path,
    confusion: Tensor,
    class_names: Sequence[str],
    *,
    normalize: bool = False,
    title: str = "confusion matrix",
) -> Path:
    """Write M as a heat map PNG, each cell annotated with its count (or row fraction).

    Args:
        path: the PNG file to write.
        confusion: M (C, C), rows true class, columns predicted.
        class_names: the C class names, in class-id order.
        normalize: divide each row by its total (the diagonal is then each class's recall).
        title: the figure title.

    Returns:
        The path written.

    Raises:
        ShapeError: M is not (C, C) for the C names.
    """
    C = _check(confusion, class_names)
    values = confusion.double()
    if normalize:
        values = values / values.sum(1, keepdim=True).clamp(min=1)  # rows sum to 1
    figure = Figure(figsize=(1.6 + 1.1 * C, 1.2 + 1.0 * C), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(values.numpy(), cmap="Blues", vmin=0.0)
    figure.colorbar(image, ax=axes)
    axes.set_xticks(range(C), labels=list(class_names))
    axes.set_yticks(range(C), labels=list(class_names))
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title)
    high = float(values.max()) if values.numel() else 0.0
    for i in range(C):
        for j in range(C):
            value = float(values[i, j])
            text = f"{value:.2f}" if normalize else str(int(value))
            color = "white" if value > high / 2 else "black"
            axes.text(j, i, text, ha="center", va="center", color=color)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure).print_png(str(path))
    return path


__all__ = ["confusion_table", "plot_confusion"]

"""The attention weights of one decoded output as a heatmap: output tokens × source tokens.

Row t holds α_{t,1} … α_{t,S}, the weights with which output token t read the source
(`rnnkit.layers.attention`); a good translation shows a near-diagonal band, bent where the
word order of the two languages differs (Bahdanau et al. 2015, fig. 3).

References:
    Bahdanau, Cho, Bengio. Neural Machine Translation by Jointly Learning to Align and
        Translate. ICLR 2015.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor

from rnnkit.errors import ShapeError


def plot_attention(
    path: str | Path,
    weights: Tensor,
    source_tokens: Sequence[str],
    output_tokens: Sequence[str],
    *,
    title: str = "attention",
) -> Path:
    """Write α (T, S) as a PNG heatmap, source tokens along x and output tokens down y.

    Raises:
        ShapeError: α is not (len(output_tokens), len(source_tokens)).
    """
    expected = (len(output_tokens), len(source_tokens))
    if weights.ndim != 2 or tuple(weights.shape) != expected:
        raise ShapeError(f"attention weights must be (T, S) = {expected}; "
                         f"got {tuple(weights.shape)}")  # fmt: skip
    T, S = expected
    figure = Figure(figsize=(1.5 + 0.45 * S, 1.3 + 0.4 * T), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(weights.detach().float().cpu().numpy(), cmap="Greys", vmin=0.0,
                        vmax=1.0, aspect="auto")  # fmt: skip
    figure.colorbar(image, ax=axes, label="α")
    axes.set_xticks(range(S), labels=list(source_tokens), rotation=60, ha="right")
    axes.set_yticks(range(T), labels=list(output_tokens))
    axes.set_xlabel("source")
    axes.set_ylabel("output")
    axes.set_title(title)
    path = Path(path)
    FigureCanvasAgg(figure).print_png(str(path))
    return path

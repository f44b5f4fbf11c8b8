"""2-D pictures of chosen word vectors: PCA (always) or t-SNE (when scikit-learn is installed).

PCA projects the centred vectors on their two directions of largest variance:

    X̃ = X − 1 x̄ᵀ,   X̃ = U S Vᵀ (SVD),   Y = X̃ V[:, :2]

where X (N, E) holds the N chosen vectors and Y (N, 2) their coordinates. Each column of V
has its sign fixed (largest entry positive), so the same words always give the same picture.
matplotlib is imported only when a plot is drawn, with the file-only Agg backend.

References:
    K. Pearson, "On Lines and Planes of Closest Fit to Systems of Points in Space", 1901.
    L. van der Maaten and G. Hinton, "Visualizing Data using t-SNE", JMLR 9, 2008.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor

from rnnkit.errors import ConfigError
from rnnkit.represent.word2vec.vectors import WordVectors

ProjectionMethod = Literal["pca", "tsne"]


def tsne_available() -> bool:
    """True when scikit-learn (which provides t-SNE) can be imported."""
    return importlib.util.find_spec("sklearn") is not None


def pca_2d(points: Tensor) -> Tensor:
    """Y (N, 2): the rows of X (N, E) projected on their first two principal directions.

    >>> coords = pca_2d(torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]))  # on a line
    >>> [round(x, 3) for x in coords[:, 0].tolist()], coords.shape  # ±√2 along (1, 1)/√2
    ([-1.414, 0.0, 1.414], torch.Size([3, 2]))
    """
    centred = points.double() - points.double().mean(0)  # X̃ (N, E)
    _, _, right = torch.linalg.svd(centred, full_matrices=False)  # Vᵀ (min(N, E), E)
    directions = right[:2].T  # V[:, :2] (E, 2)
    signs = torch.sign(directions.gather(0, directions.abs().argmax(0, keepdim=True)))  # (1, 2)
    projected = centred @ (directions * signs)  # Y (N, 2)
    if projected.shape[1] < 2:  # a single word or E = 1: pad the missing axis with zeros
        projected = torch.cat([projected, torch.zeros(len(points), 2 - projected.shape[1])], 1)
    return projected.float()


def project_words(
    vectors: WordVectors, words: Sequence[str], *, method: ProjectionMethod = "pca", seed: int = 0
) -> Tensor:
    """Coordinates (N, 2) of the chosen words; VocabError for an unknown word."""
    if method not in ("pca", "tsne"):
        raise ConfigError(f"method must be 'pca' or 'tsne', got {method!r}")
    if len(words) < 2:
        raise ConfigError(f"plot at least two words, got {list(words)}")
    points = vectors[list(words)]  # (N, E)
    if method == "pca":
        return pca_2d(points)
    if not tsne_available():
        raise ConfigError("t-SNE needs scikit-learn (pip install scikit-learn); use method='pca'")
    from sklearn.manifold import TSNE

    perplexity = min(30.0, (len(words) - 1) / 3)  # must stay below N; 3·perplexity ≤ N − 1
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return torch.from_numpy(tsne.fit_transform(points.double().numpy())).float()


def plot_words(
    vectors: WordVectors,
    words: Sequence[str],
    path: str | Path,
    *,
    method: ProjectionMethod = "pca",
    seed: int = 0,
    title: str | None = None,
) -> Path:
    """Scatter the chosen words in 2-D, each point labelled, and save the figure (PNG, SVG …)."""
    coords = project_words(vectors, words, method=method, seed=seed).tolist()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 6))
    try:
        xs, ys = zip(*coords, strict=True)
        axes.scatter(xs, ys, s=18, color="tab:blue")
        for word, (x, y) in zip(words, coords, strict=True):
            axes.annotate(word, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=9)
        axes.set_title(title or f"{len(words)} words, {method.upper()} of {vectors.embed_dim}-D")
        axes.set_xlabel("component 1")
        axes.set_ylabel("component 2")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=120, bbox_inches="tight")
    finally:
        plt.close(figure)
    return path


__all__ = ["pca_2d", "plot_words", "project_words", "tsne_available"]

"""Many-to-one over real-valued frames: a whole series (T, F) in, one distribution over C out.

    z_t = (x_t − μ) / σ                                 standardised with the training frames
    h_t = RNN(z_t, h_{t-1})   t = 1 … len             RNN / LSTM / GRU, uni- or bidirectional
    s = pool(h_1 … h_len)                               last, mean or max over the real steps
    y = softmax(W_s s + b_s)                            e.g. which of 9 speakers said it

The frames are what the data gives: LPC cepstra of speech (Japanese Vowels), one-hot bases of
DNA, any multivariate series. μ and σ (F,) are buffers, fitted on the training frames only
(`fit_scaler`) and saved with the weights, so a loaded model standardises new series as it
was trained; left unfitted (μ = 0, σ = 1) they change nothing, as one-hot input needs.
The stack, pooling and output are `many_to_one.PooledClassifier`'s, as the token classifier's
(`pool_states`: the bidirectional `last` takes [h→_len ; h←_1]).

References:
    Schuster & Paliwal. Bidirectional Recurrent Neural Networks. IEEE TSP 45(11), 1997.
    Graves & Schmidhuber. Framewise Phoneme Classification with Bidirectional LSTM and Other
        Neural Network Architectures. Neural Networks 18(5-6), 2005.
    Kudo, Toyama & Shimbo. Multidimensional Curve Classification Using Passing-Through
        Regions. Pattern Recognition Letters 20(11-13), 1999 (Japanese Vowels).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.errors import DataError, ShapeError
from rnnkit.layers.lengths import check_lengths, lengths_mask
from rnnkit.models.configs.frame_classifier import (
    FrameClassifierConfig,  # torch-free: the sequences task nests it
)
from rnnkit.models.many_to_one import PooledClassifier, build_recurrent


class FrameClassifier(PooledClassifier):
    """Frames (B, T, F) and lengths (B,) -> class logits (B, C); `predict_proba` gives y.

    Shapes: frames (B, T, F) float, right-padded (padding is ignored); lengths (B,) in [1, T];
    returns logits (B, C).

    >>> model = FrameClassifier(FrameClassifierConfig(num_features=3, num_classes=4,
    ...                                               hidden_size=5))
    >>> probs = model.predict_proba(torch.randn(2, 6, 3), torch.tensor([6, 2]))
    >>> probs.shape, torch.allclose(probs.sum(-1), torch.ones(2))  # (B, C), rows sum to 1
    (torch.Size([2, 4]), True)
    """

    def __init__(self, config: FrameClassifierConfig) -> None:
        super().__init__()
        if config.num_features < 1:
            raise ShapeError("FrameClassifier needs num_features ≥ 1 (the data's frame size F)")
        self.config = config
        F = config.num_features
        self.register_buffer("mean", torch.zeros(F))  # μ
        self.register_buffer("scale", torch.ones(F))  # σ
        self.recurrent = build_recurrent(config, F)
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(config.features, config.num_classes)

    def fit_scaler(self, train_frames: Tensor) -> None:
        """μ and σ of every feature over the training frames (N, F) (σ = 0 is left as 1).

        σ is the population standard deviation, √((1/N) Σ_n (x_n − μ)²).
        """
        F = self.config.num_features
        if train_frames.ndim != 2 or train_frames.shape[1] != F or len(train_frames) == 0:
            raise ShapeError(
                f"fit_scaler expects the training frames as (N, {F}); "
                f"got {tuple(train_frames.shape)}"
            )
        frames = train_frames.to(self.mean.device, torch.float64)
        mean, std = frames.mean(0), frames.std(0, correction=0)
        self.mean.copy_(mean)
        self.scale.copy_(torch.where(std > 0, std, torch.ones_like(std)))

    def standardize(self, frames: Tensor, lengths: Tensor) -> Tensor:
        """z_t = (x_t − μ) / σ at the real steps, 0 past each length. Shapes: (B, T, F)."""
        z = (frames - self.mean.to(frames.dtype)) / self.scale.to(frames.dtype)
        mask = lengths_mask(lengths, frames.shape[1], device=frames.device).unsqueeze(-1)
        return z.masked_fill(~mask, 0.0)

    def forward(self, frames: Tensor, lengths: Tensor) -> Tensor:
        """Logits z = W_s s + b_s of each series (before softmax).

        Shapes: frames (B, T, F) float, padded past each length; lengths (B,) in [1, T];
        returns logits (B, C).
        """
        F = self.config.num_features
        if frames.ndim != 3 or frames.shape[-1] != F or not frames.is_floating_point():
            raise ShapeError(
                f"frames must be (B, T, {F}) floats; got {tuple(frames.shape)} {frames.dtype}"
            )
        B, T, _ = frames.shape
        lengths = check_lengths(lengths, batch_size=B, steps=T)
        return self.classify(self.dropout(self.standardize(frames, lengths)), lengths)


def pad_frames(series: list[Tensor], num_features: int) -> tuple[Tensor, Tensor]:
    """Series of shapes (T_i, F) right-padded with zeros: (N, T_max, F) float32, lengths (N,).

    Raises:
        DataError: no series, an empty one, a frame of the wrong size or a non-finite value.
    """
    if not series:
        raise DataError("need at least one series")
    for i, s in enumerate(series):
        if s.ndim != 2 or s.shape[1] != num_features or s.shape[0] == 0:
            raise DataError(
                f"series {i} must be (T, {num_features}) with T ≥ 1; got {tuple(s.shape)}"
            )
        if not torch.isfinite(s).all():
            raise DataError(f"series {i} holds a NaN or infinite value")
    lengths = torch.tensor([len(s) for s in series], dtype=torch.int64)
    frames = torch.zeros(len(series), int(lengths.max()), num_features)
    for i, s in enumerate(series):
        frames[i, : len(s)] = s.to(torch.float32)
    return frames, lengths


__all__ = ["FrameClassifier", "FrameClassifierConfig", "pad_frames"]

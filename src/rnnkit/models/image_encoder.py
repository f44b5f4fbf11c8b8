"""Image → vector v (B, F) for one-to-many decoders: a small CNN, or precomputed features.

The CNN is trained from scratch; `FeatureInput` instead projects the vectors of any pretrained
backbone, computed beforehand.

    stage s:  z ← max-pool₂ₓ₂(ReLU(BN(conv₃ₓ₃(z))))   (one or more conv → BN → ReLU before the pool)
    g = (1 / H'W') Σ_{i,j} z[:, :, i, j]              global average pooling  (Lin et al. 2014)
    v = W_f dropout(g) + b_f                          (B, F)
    v ← LN(v) = a ⊙ (v − μ_v) / σ_v + b              feature_norm "layer" (Ba et al. 2016)

`freeze_features()` fixes the convolution stages (no gradient, BatchNorm in eval mode) after
they were pretrained elsewhere, as a Keras user sets `base_model.trainable = False`; W_f and the
LayerNorm stay trainable.

References:
    Simonyan & Zisserman. Very Deep Convolutional Networks for Large-Scale Image Recognition.
        ICLR 2015. https://arxiv.org/abs/1409.1556 (stacks of 3×3 convolutions)
    Ioffe & Szegedy. Batch Normalization: Accelerating Deep Network Training by Reducing Internal
        Covariate Shift. ICML 2015. https://arxiv.org/abs/1502.03167
    Lin, Chen & Yan. Network In Network. ICLR 2014. https://arxiv.org/abs/1312.4400 (global
        average pooling)
    Ba, Kiros & Hinton. Layer Normalization. 2016. https://arxiv.org/abs/1607.06450
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.checks import shape_of


@dataclass(frozen=True, kw_only=True)
class ImageEncoderConfig:
    """Sizes of the CNN; the image side must survive one 2×2 pool per stage."""

    channels: tuple[int, ...] = (32, 64, 128, 256)  # output channels of each stage
    convs_per_stage: int = 2  # conv → BN → ReLU blocks before each pool
    in_channels: int = 3  # RGB
    image_size: int = 64  # the side S of the (S, S) images the encoder expects, in pixels
    feature_size: int = 256  # F, the size of v
    dropout: float = 0.0  # on the pooled features g, before W_f
    feature_norm: Literal["none", "layer"] = "none"  # "layer": v ← LayerNorm(v), unit scale

    def __post_init__(self) -> None:
        if self.feature_norm not in ("none", "layer"):
            raise ConfigError(f"feature_norm must be none or layer, got {self.feature_norm!r}")
        if not self.channels or any(c < 1 for c in self.channels):
            raise ConfigError(f"channels must be positive integers, one per stage; "
                              f"got {self.channels!r}")  # fmt: skip
        for name in ("convs_per_stage", "in_channels", "image_size", "feature_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        smallest = 2 ** len(self.channels)
        if self.image_size < smallest:
            raise ConfigError(f"image_size must be at least 2^stages = {smallest} for "
                              f"{len(self.channels)} pooling stages, got {self.image_size}; "
                              f"use fewer stages or larger images")  # fmt: skip
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True, kw_only=True)
class FeatureInputConfig:
    """Sizes of the projection for precomputed features (e.g. 2048 of a ResNet-50 pool)."""

    input_size: int = 2048  # F_in, the size of a precomputed feature vector
    feature_size: int = 256  # F, the size of v
    dropout: float = 0.0  # on the input features, before W_f

    def __post_init__(self) -> None:
        for name in ("input_size", "feature_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")


def _conv_block(in_channels: int, out_channels: int) -> list[nn.Module]:
    """conv3×3 (padding 1, no bias: BN's shift replaces it) → BatchNorm → ReLU."""
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


class ImageEncoder(nn.Module):
    """A small VGG-style CNN with global average pooling: images (B, C, S, S) -> v (B, F).

    Each stage keeps the side with 3×3 convolutions and halves it with a 2×2 max-pool; two
    stacked 3×3 convolutions see a 5×5 window with fewer weights than one 5×5
    (Simonyan & Zisserman 2015). BatchNorm normalises each channel over the batch in training
    and with running averages in eval mode (Ioffe & Szegedy 2015), so call `.eval()` before
    captioning. Global average pooling (Lin et al. 2014) leaves one number per channel; a
    linear layer maps those to F. The equations are in the module docstring.

    Shapes:
        images (B, C, S, S) float, C = in_channels, S = image_size; returns v (B, F).

    >>> import torch
    >>> encoder = ImageEncoder(ImageEncoderConfig(channels=(4, 8), image_size=8, feature_size=5))
    >>> encoder(torch.randn(2, 3, 8, 8)).shape  # (B, F)
    torch.Size([2, 5])
    """

    def __init__(self, config: ImageEncoderConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        previous = config.in_channels
        for channels in config.channels:
            for _ in range(config.convs_per_stage):
                layers += _conv_block(previous, channels)
                previous = channels
            layers.append(nn.MaxPool2d(kernel_size=2))  # side S → S // 2
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)  # g, global average pooling
        self.dropout = nn.Dropout(config.dropout)
        self.project = nn.Linear(previous, config.feature_size)  # W_f, b_f
        # Identity holds no parameters, so checkpoints written before feature_norm still load.
        self.norm = nn.LayerNorm(config.feature_size) if config.feature_norm == "layer" else (
            nn.Identity())  # fmt: skip
        self.frozen = False  # set by freeze_features

    def freeze_features(self) -> ImageEncoder:
        """Fix the convolution stages: no gradient, BatchNorm statistics kept (eval mode) even
        when the model trains; the projection W_f (and the LayerNorm) still learn. Returns self.

        >>> encoder = ImageEncoder(ImageEncoderConfig(channels=(4,), image_size=2, feature_size=3))
        >>> encoder.freeze_features().train().features.training, encoder.project.training
        (False, True)
        """
        self.frozen = True
        for parameter in self.features.parameters():
            parameter.requires_grad_(False)
        self.features.eval()
        return self

    def train(self, mode: bool = True) -> ImageEncoder:
        """As nn.Module.train, but frozen convolution stages stay in eval mode."""
        super().train(mode)
        if self.frozen:
            self.features.eval()
        return self

    def forward(self, images: Tensor) -> Tensor:
        """The vector v of each image.

        Shapes:
            images (B, C, S, S) float; returns v (B, F).

        Raises:
            ShapeError: images are not a 4-D float tensor with C = in_channels and sides
                S = image_size.
        """
        config = self.config
        expected = f"(B, {config.in_channels}, {config.image_size}, {config.image_size})"
        if not isinstance(images, Tensor) or images.ndim != 4:
            raise ShapeError(f"images must be {expected} (B, C, H, W); got {shape_of(images)}")
        if not images.is_floating_point():
            raise ShapeError(f"images must be a float tensor; got {images.dtype}")
        if tuple(images.shape[1:]) != (config.in_channels, config.image_size, config.image_size):
            raise ShapeError(f"images must be {expected}; got {tuple(images.shape)}. Resize "
                             f"the images, or set in_channels / image_size")  # fmt: skip
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            maps = self.features(images)  # (B, C_last, S / 2^stages, S / 2^stages)
        pooled = self.pool(maps).flatten(1)  # g, (B, C_last)
        return self.norm(self.project(self.dropout(pooled)))  # v = W_f dropout(g) + b_f, (B, F)


class FeatureInput(nn.Module):
    """Precomputed image features (any pretrained backbone's vectors) -> v (B, F).

        v = W_f dropout(u) + b_f

    where u (B, F_in) is the precomputed feature vector of each image.

    Shapes:
        features (B, F_in) float; returns v (B, F).

    >>> import torch
    >>> project = FeatureInput(FeatureInputConfig(input_size=6, feature_size=4))
    >>> project(torch.randn(3, 6)).shape  # (B, F)
    torch.Size([3, 4])
    """

    def __init__(self, config: FeatureInputConfig) -> None:
        super().__init__()
        self.config = config
        self.dropout = nn.Dropout(config.dropout)
        self.project = nn.Linear(config.input_size, config.feature_size)  # W_f, b_f

    def forward(self, features: Tensor) -> Tensor:
        """The vector v of each precomputed feature vector.

        Shapes:
            features (B, F_in) float; returns v (B, F).

        Raises:
            ShapeError: features are not a 2-D float tensor with F_in = input_size columns.
        """
        F_in = self.config.input_size
        if not isinstance(features, Tensor) or features.ndim != 2 or features.shape[1] != F_in:
            raise ShapeError(f"features must be (B, {F_in}) precomputed vectors; got "
                             f"{shape_of(features)}. "
                             f"Check FeatureInputConfig.input_size")  # fmt: skip
        if not features.is_floating_point():
            raise ShapeError(f"features must be a float tensor; got {features.dtype}")
        return self.project(self.dropout(features))  # v = W_f dropout(u) + b_f, (B, F)


__all__ = ["FeatureInput", "FeatureInputConfig", "ImageEncoder", "ImageEncoderConfig"]

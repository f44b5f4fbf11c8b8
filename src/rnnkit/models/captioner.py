"""Image captioning as one-to-many: an image encoder gives v, a conditioned decoder writes text.

    v = CNN(image)  or  v = W_f u + b_f  for precomputed features u  (`rnnkit.models.image_encoder`)
    caption = the decoder of `rnnkit.models.one_to_many` driven by v, from <bos> until <eos>

References:
    Vinyals, Toshev, Bengio, Erhan. Show and Tell: A Neural Image Caption Generator. CVPR 2015.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.models.decoding import Hypothesis
from rnnkit.models.image_encoder import (
    FeatureInput,
    FeatureInputConfig,
    ImageEncoder,
    ImageEncoderConfig,
)
from rnnkit.models.one_to_many import ConditionedDecoder, ConditionedDecoderConfig


@dataclass(frozen=True, kw_only=True)
class CaptionerConfig:
    """An encoder ("cnn" from pixels, or "features" for precomputed vectors) and a decoder.

    Only the config of the chosen encoder is used; its feature_size must equal the decoder's
    condition_size F.
    """

    decoder: ConditionedDecoderConfig
    encoder: Literal["cnn", "features"] = "cnn"
    image: ImageEncoderConfig = field(default_factory=ImageEncoderConfig)
    features: FeatureInputConfig = field(default_factory=FeatureInputConfig)

    def __post_init__(self) -> None:
        if self.encoder not in ("cnn", "features"):
            raise ConfigError(f"encoder must be cnn or features, got {self.encoder!r}")
        chosen = self.image if self.encoder == "cnn" else self.features
        if chosen.feature_size != self.decoder.condition_size:
            raise ConfigError(f"the {self.encoder} encoder's feature_size "
                              f"({chosen.feature_size}) must equal the decoder's condition_size "
                              f"({self.decoder.condition_size})")  # fmt: skip


class Captioner(nn.Module):
    """Image (or precomputed features) -> v -> caption: an encoder and a ConditionedDecoder.

    BatchNorm uses batch statistics in training mode: call `.eval()` before `caption`.

    >>> config = CaptionerConfig(
    ...     encoder="features", features=FeatureInputConfig(input_size=6, feature_size=3),
    ...     decoder=ConditionedDecoderConfig(vocab_size=7, embed_dim=4, condition_size=3,
    ...                                      hidden_size=5))
    >>> model = Captioner(config).eval()
    >>> features, target_in = torch.randn(2, 6), torch.tensor([[2, 4], [2, 5]])
    >>> model(features, target_in).shape  # (B, T, V)
    torch.Size([2, 2, 7])
    >>> len(model.caption(features, beam_size=2, max_length=3)[0])  # K hypotheses per image
    2
    """

    def __init__(self, config: CaptionerConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder: ImageEncoder | FeatureInput = (
            ImageEncoder(config.image) if config.encoder == "cnn" else FeatureInput(config.features)
        )
        self.decoder = ConditionedDecoder(config.decoder)

    def forward(self, inputs: Tensor, target_in: Tensor) -> Tensor:
        """Teacher-forced logits of the captions.

        Shapes:
            inputs: images (B, C, S, S) ("cnn") or features (B, F_in) ("features");
            target_in (B, T) int64 <bos> y_1 … y_{T-1}; returns logits (B, T, V).
        """
        return self.decoder(self.encoder(inputs), target_in)

    @torch.no_grad()
    def caption(self, inputs: Tensor, *, beam_size: int = 1, max_length: int = 20,
                length_penalty: float = 1.0) -> list[list[Hypothesis]]:  # fmt: skip
        """The best captions of each image, best first (token ids; greedy for beam_size 1).

        Shapes: inputs as in `forward`; returns B lists of hypotheses.
        """
        v = self.encoder(inputs)  # (B, F)
        return self.decoder.search(
            v, beam_size=beam_size, max_length=max_length, length_penalty=length_penalty
        )


__all__ = ["Captioner", "CaptionerConfig"]

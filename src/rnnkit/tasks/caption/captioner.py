"""A trained caption run in use: load it and caption image files or uploaded bytes.

    loaded = load_captioner("runs/caption-…")
    caption_images(loaded, ["dog.jpg"], beam_size=3)   # ["a dog runs through the grass ."]
    loaded.caption(["dog.jpg"], beam=3)                  # the same

The command line (`rnnkit caption`) and the web page call these.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch

from rnnkit.config import config_from_dict
from rnnkit.datasets.images import ImageConfig, load_image
from rnnkit.errors import ConfigError, DataError
from rnnkit.models.captioner import Captioner, CaptionerConfig
from rnnkit.models.image_encoder import FeatureInputConfig, ImageEncoderConfig
from rnnkit.models.one_to_many import ConditionedDecoderConfig
from rnnkit.tasks.caption.train import CaptionConfig, caption_text
from rnnkit.tasks.load import load_run
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.text.vocab import Vocab


class LoadedCaptioner(NamedTuple):
    """A trained captioner in eval mode, its vocabulary and run config."""

    model: Captioner
    vocab: Vocab
    config: CaptionConfig
    checkpoint: Path

    def caption(
        self, images: str | Path | bytes | list[str | Path | bytes], beam: int = 1, *,
        max_length: int | None = None,
    ) -> list[str]:  # fmt: skip
        """One caption per image file (or image bytes), in order; as `rnnkit caption` prints
        them (greedy, or beam search of width `beam`). One path is one image."""
        images = [images] if isinstance(images, str | Path | bytes) else list(images)
        return caption_images(self, images, beam_size=beam, max_length=max_length)


def captioner_from_dict(data: dict) -> CaptionerConfig:
    """The nested captioner config written by `rnnkit.tasks.caption.train.captioner_to_dict`."""
    return CaptionerConfig(
        encoder=data["encoder"],
        image=config_from_dict(ImageEncoderConfig, data["image"]),
        features=config_from_dict(FeatureInputConfig, data["features"]),
        decoder=config_from_dict(ConditionedDecoderConfig, data["decoder"]),
    )


def load_captioner(run_dir: str | Path, *, checkpoint: str = DEFAULT_CHECKPOINT) -> LoadedCaptioner:
    """The model of a caption run at a checkpoint ("best": else the latest; "latest"; a path)."""
    run = load_run(run_dir, lambda config: Captioner(captioner_from_dict(config["captioner"])),
                   tasks=("caption",), needs="captioner", what="a caption",
                   checkpoint=checkpoint)  # fmt: skip
    task_config = config_from_dict(CaptionConfig, run.config["task_config"])
    vocab = Vocab.from_dict(run.config["vocab"])
    return LoadedCaptioner(run.model, vocab, task_config, run.checkpoint)


def caption_images(
    loaded: LoadedCaptioner,
    images: list[str | Path | bytes],
    *,
    beam_size: int = 1,
    max_length: int | None = None,
) -> list[str]:
    """One caption per image file (or image bytes), in order; DataError for a bad image."""
    if not images:
        raise DataError("caption needs at least one image")
    if loaded.model.config.encoder != "cnn":
        raise ConfigError("this run captions precomputed features, not image files; "
                          "pass feature vectors to loaded.model.caption")  # fmt: skip
    pixels = torch.stack(
        [load_image(image, ImageConfig(size=loaded.config.image_size)) for image in images]
    )  # fmt: skip  (N, 3, S, S)
    length = loaded.config.max_length if max_length is None else max_length  # 0 is refused
    found = loaded.model.caption(pixels, beam_size=beam_size, max_length=length)
    return [caption_text(best[0].tokens, loaded.vocab) for best in found]

"""A trained caption run in use: load it and caption image files or uploaded bytes.

    loaded = load_captioner("runs/caption-…")
    caption_images(loaded, ["dog.jpg"], beam_size=3)   # ["a dog runs through the grass ."]

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
from rnnkit.tasks.caption import CaptionConfig, caption_text
from rnnkit.text.vocab import Vocab
from rnnkit.training.checkpoint import read_checkpoint
from rnnkit.training.runs import read_run_config, run_checkpoint
from rnnkit.training.state_dicts import load_model_tensors


class LoadedCaptioner(NamedTuple):
    """A trained captioner in eval mode, its vocabulary and run config."""

    model: Captioner
    vocab: Vocab
    config: CaptionConfig
    checkpoint: Path


def captioner_from_dict(data: dict) -> CaptionerConfig:
    """The nested captioner config written by `rnnkit.tasks.caption.captioner_to_dict`."""
    return CaptionerConfig(
        encoder=data["encoder"],
        image=config_from_dict(ImageEncoderConfig, data["image"]),
        features=config_from_dict(FeatureInputConfig, data["features"]),
        decoder=config_from_dict(ConditionedDecoderConfig, data["decoder"]),
    )


def load_captioner(run_dir: str | Path, *, checkpoint: str = "best") -> LoadedCaptioner:
    """The model of a caption run at its "best" or "latest" checkpoint, or at a path."""
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if config.get("task") != "caption" or "captioner" not in config:
        raise ConfigError(f"{run_dir} is not a caption run (task {config.get('task')!r})")
    path = run_checkpoint(run_dir, checkpoint)
    model = Captioner(captioner_from_dict(config["captioner"]))
    load_model_tensors(model, read_checkpoint(path).tensors["model.safetensors"], source=path)
    task_config = config_from_dict(CaptionConfig, config["task_config"])
    return LoadedCaptioner(model.eval(), Vocab.from_dict(config["vocab"]), task_config, path)


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

"""CaptionConfig: the settings of a `rnnkit train caption` run, and its trainer defaults.

This module imports no torch, so that `rnnkit train … --help` lists the flags quickly;
`rnnkit.tasks.caption.train` builds and trains the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from rnnkit.errors import ConfigError
from rnnkit.models.configs.conditioned_decoder import ConditionedDecoderConfig
from rnnkit.tasks.registry import TaskInfo


def _decoder() -> ConditionedDecoderConfig:
    """The task's own decoder defaults: H 256, dropout 0.3, v sets h_0 (Vinyals et al. 2015)."""
    return ConditionedDecoderConfig(embed_dim=256, hidden_size=256, dropout=0.3)


Corpus = Literal["auto", "flickr8k", "coco_mini", "coco"]


@dataclass(frozen=True, kw_only=True)
class CaptionConfig:
    """A captioning run: corpus, image or feature input, vocabulary and model (trainer apart).

    `decoder` is the ConditionedDecoder's own config (`--decoder.hidden-size`, alias
    `--hidden-size`); its vocabulary comes from the captions, its condition size from
    `feature_size`. The CNN's stages are `cnn_width` × 1, 2, 4, 8.

    With `pretrain_steps` > 0 the CNN is first trained to predict the `pretrain_words` most
    common content words of each training image's captions (multi-label, BCE; random crops and
    flips: `rnnkit.tasks.caption.pretrain`), on the training split and, with `pretrain_extra`,
    on the other shared corpus (Flickr8k runs: all 159 COCO-mini images; COCO-mini runs:
    Flickr8k's training images). The held-out split is never read for it. `freeze_cnn` then
    keeps its convolutions fixed while the captioner trains.
    """

    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {  # help groups of the flags
        "data": ("corpus", "eval_split", "features", "image_size", "flip", "min_freq", "max_tokens",
                 "batch_size"),
        "model": ("cnn_width", "feature_size", "feature_norm", "pretrain_steps", "pretrain_words",
                  "pretrain_extra", "freeze_cnn", "decoder", "eval_beam", "max_length"),
    }  # fmt: skip

    corpus: Corpus = "auto"  # auto: from --data, else flickr8k; coco: --data DIR, COCO layout
    eval_split: Literal["dev", "test"] = "dev"  # COCO sets have one held-out split, val
    features: str | None = None  # precomputed vectors per image file name (replaces the CNN)
    image_size: int = 64  # S, images resized and centre-cropped to S × S
    cnn_width: int = 16  # channels of the first CNN stage (then ×2 per stage, 4 stages)
    flip: bool = True  # mirror training images left–right with probability ½
    feature_size: int = 256  # F, the size of v
    feature_norm: Literal["none", "layer"] = "none"  # layer: v ← LayerNorm(v) (Ba et al. 2016)
    pretrain_steps: int = 0  # multi-label pretraining updates of the CNN first (0: none)
    pretrain_words: int = 300  # K, caption words the pretraining predicts per image
    pretrain_extra: bool = True  # pretrain also on the other shared corpus's images
    freeze_cnn: bool = False  # keep the pretrained convolutions fixed while captioning
    decoder: ConditionedDecoderConfig = field(default_factory=_decoder)  # LSTM, H 256, init
    min_freq: int = 2  # rarer caption words become <unk>
    max_tokens: int = 25  # longer training captions are cut (their <eos> is kept)
    batch_size: int = 32  # B captions per update
    eval_beam: int = 1  # beam size of the BLEU evaluation while training
    max_length: int = 25  # most tokens of a generated caption

    def __post_init__(self) -> None:
        sizes = ("image_size", "cnn_width", "feature_size", "min_freq", "max_tokens",
                 "batch_size", "eval_beam", "max_length")  # fmt: skip
        for name in sizes:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.pretrain_steps < 0 or self.pretrain_words < 1:
            raise ConfigError(f"pretrain_steps must be ≥ 0 and pretrain_words ≥ 1, got "
                              f"{self.pretrain_steps}, {self.pretrain_words}")  # fmt: skip
        if self.features is not None and (self.pretrain_steps or self.freeze_cnn):
            raise ConfigError("pretrain_steps and freeze_cnn are for the CNN; a --features run "
                              "has none (its vectors come from a backbone already)")  # fmt: skip
        if self.freeze_cnn and not self.pretrain_steps:
            raise ConfigError("freeze_cnn would keep a random CNN fixed; pretrain it first "
                              "with --pretrain-steps N")  # fmt: skip


# 30 epochs of the Flickr8k subset (2,100 training captions, B = 32: 65 batches per epoch).
TRAINER_DEFAULTS = {
    "max_steps": 1950,
    "lr": 1e-3,
    "clip_norm": 5.0,
    "eval_every": 325,
    "checkpoint_every": 325,
    "log_every": 25,
    "monitor": "val_bleu_4",
    "monitor_mode": "max",
}

# Registration (read by rnnkit.tasks): the module that builds the task, the function that
# loads a trained run of it (rnnkit.load, rnnkit serve).
BUILDER = "rnnkit.tasks.caption.train"
LOADER = "rnnkit.tasks.caption.captioner:load_captioner"

TASK_INFO = {
    "caption": TaskInfo(
        CaptionConfig,
        "image captioning, CNN (or your features) + LSTM: Flickr8k, COCO, BLEU-1…4",
        TRAINER_DEFAULTS,
        builder=BUILDER,
        loader=LOADER,
        verbs=("rnnkit.tasks.caption.cli:add_caption",),
    ),
}

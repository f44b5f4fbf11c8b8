"""The caption task: a CNN (or precomputed features) and an LSTM decoder (`rnnkit train caption`).

    config.py      CaptionConfig and TASK_INFO (torch-free)
    train.py       data, build and report
    captioner.py   a trained run back as LoadedCaptioner (load_captioner, caption_images)
    pretrain.py    multi-label pretraining of the CNN on caption words (pretrain_encoder)

Light to import (no torch): `rnnkit.tasks.caption.NAME`, for a NAME defined in one of these
modules, is read from it on first use (`rnnkit.tasks.task_package`), config.py first.
"""

from __future__ import annotations

from rnnkit.tasks.task_package import task_package_exports

__getattr__, __dir__ = task_package_exports(
    globals(),
    (
        "config",
        "train",
        "captioner",
        "pretrain",
    ),
)

"""The ner task: named-entity tagging with a BiLSTM(-CRF) (`rnnkit train ner`).

    config.py   NerConfig and TASK_INFO (torch-free)
    train.py    data, build and report
    tagger.py   a trained run back as LoadedTagger (load_tagger, tag_sentences)

Light to import (no torch): `rnnkit.tasks.ner.NAME`, for a NAME defined in one of these
modules, is read from it on first use (`rnnkit.tasks.task_package`), config.py first.
"""

from __future__ import annotations

from rnnkit.tasks.task_package import task_package_exports

__getattr__, __dir__ = task_package_exports(
    globals(),
    (
        "config",
        "train",
        "tagger",
    ),
)

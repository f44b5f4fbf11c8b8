"""The word2vec task: word vectors trained into a run directory (`rnnkit word2vec train`).

    config.py        CHECKPOINT_EVERY and LOADERS (torch-free)
    train.py         train, resume, evaluate, report, load_run and load_vectors
    checkpoints.py   the run's checkpoints: save, pick, resume from

Light to import (no torch): `rnnkit.tasks.word2vec.NAME`, for a NAME defined in one of these
modules, is read from it on first use (`rnnkit.tasks.task_package`), config.py first.
"""

from __future__ import annotations

from rnnkit.tasks.task_package import task_package_exports

__getattr__, __dir__ = task_package_exports(
    globals(),
    (
        "config",
        "train",
        "checkpoints",
    ),
)

"""The classify task: sentence classification: sentiment and spam (`rnnkit train sentiment|spam`).

    config.py   ClassifyConfig, SpamConfig and TASK_INFO (torch-free)
    train.py    data, build, report and load_classifier (LoadedClassifier, predict_proba)

Light to import (no torch): `rnnkit.tasks.classify.NAME`, for a NAME defined in one of these
modules, is read from it on first use (`rnnkit.tasks.task_package`), config.py first.
"""

from __future__ import annotations

from rnnkit.tasks.task_package import task_package_exports

__getattr__, __dir__ = task_package_exports(
    globals(),
    (
        "config",
        "train",
    ),
)

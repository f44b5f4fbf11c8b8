"""The sequences task: one label for a whole real sequence (`rnnkit train sequences`).

    config.py   SequencesConfig and TASK_INFO (torch-free)
    train.py    the corpora, build, report and load_sequence_classifier (LoadedSequenceClassifier)
    cli.py      `rnnkit predict RUN SEQUENCE …` of a sequences run (predict_sequences)

Light to import (no torch): `rnnkit.tasks.sequences.NAME`, for a NAME defined in one of these
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

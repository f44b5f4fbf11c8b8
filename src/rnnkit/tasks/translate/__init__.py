"""The translate task: encoder–decoder translation and chat (`rnnkit train translate|chat`).

    config.py       TranslateConfig, ChatConfig and TASK_INFO (torch-free)
    data.py         sentence pairs, vocabularies and batches
    train.py        build and report
    translator.py   a trained run back as LoadedTranslator (load_translator, translate)

Light to import (no torch): `rnnkit.tasks.translate.NAME`, for a NAME defined in one of these
modules, is read from it on first use (`rnnkit.tasks.task_package`), config.py first.
"""

from __future__ import annotations

from rnnkit.tasks.task_package import task_package_exports

__getattr__, __dir__ = task_package_exports(
    globals(),
    (
        "config",
        "data",
        "train",
        "translator",
    ),
)

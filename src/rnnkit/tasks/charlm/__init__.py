"""The charlm task: character- or word-level language model (`rnnkit train charlm`).

    config.py     CharLMConfig and TASK_INFO (torch-free)
    train.py      data, build, report and load_language_model (LoadedModel)
    generate.py   sampling text from a language model (`rnnkit generate`, the web page)

Light to import (no torch): `rnnkit.tasks.charlm.NAME`, for a NAME defined in one of these
modules, is read from it on first use (`rnnkit.tasks.task_package`), config.py first.
"""

from __future__ import annotations

from rnnkit.tasks.task_package import task_package_exports

__getattr__, __dir__ = task_package_exports(
    globals(),
    (
        "config",
        "train",
        "generate",
    ),
)

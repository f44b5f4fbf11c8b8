"""The condlm task: text generation given a class (`rnnkit train condlm`).

    config.py   CondLMConfig and TASK_INFO (torch-free)
    train.py    data, build, report and load_condlm (LoadedCondLM, generate_conditioned)

Light to import (no torch): `rnnkit.tasks.condlm.NAME`, for a NAME defined in one of these
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

"""Tasks: the applications built on the library, each registered by name for the CLI.

`rnnkit.tasks.registry` holds the registry and train / resume / evaluate by name. Importing
this package registers the built-in tasks from their torch-free config modules; a task's own
module (which imports torch) is imported when the task is first built (`get_task`), and a task
module such as `rnnkit.tasks.charlm` is also an attribute of this package on first access.
"""

import importlib
from typing import Any

from rnnkit.tasks import (
    caption_config,
    charlm_config,
    classify_config,
    condlm_config,
    forecast_config,
    music_config,
    ner_config,
    translate_config,
)
from rnnkit.tasks.registry import (
    NOTHING_TO_TRAIN,
    RESERVED_FIELDS,
    TaskBuilder,
    TaskInfo,
    TaskSpec,
    configs_from_flags,
    data_from_flags,
    default_run_dir,
    describe_task,
    evaluate,
    get_task,
    known_tasks,
    read_config_file,
    register_task,
    resume,
    split_config,
    train,
)

# config module (config class, help, trainer defaults of each task) -> module defining `build`
BUILT_IN = {
    caption_config: "rnnkit.tasks.caption",
    charlm_config: "rnnkit.tasks.charlm",
    classify_config: "rnnkit.tasks.classify",
    condlm_config: "rnnkit.tasks.condlm",
    forecast_config: "rnnkit.tasks.forecast",
    music_config: "rnnkit.tasks.music",
    ner_config: "rnnkit.tasks.ner",
    translate_config: "rnnkit.tasks.translate",
}
for _config_module, _builder_module in BUILT_IN.items():
    for _name, _info in _config_module.TASK_INFO.items():
        register_task(
            _name,
            _builder_module,
            config_cls=_info.config_cls,
            help=_info.help,
            trainer_defaults=_info.trainer_defaults,
        )

_SUBMODULES = ("caption", "charlm", "classify", "condlm", "forecast", "music", "ner", "translate")

__all__ = [
    "NOTHING_TO_TRAIN",
    "RESERVED_FIELDS",
    "TaskBuilder",
    "TaskInfo",
    "TaskSpec",
    "caption",
    "charlm",
    "classify",
    "condlm",
    "configs_from_flags",
    "data_from_flags",
    "default_run_dir",
    "describe_task",
    "evaluate",
    "forecast",
    "get_task",
    "known_tasks",
    "music",
    "ner",
    "read_config_file",
    "register_task",
    "resume",
    "split_config",
    "train",
    "translate",
]


def __getattr__(name: str) -> Any:
    """`rnnkit.tasks.charlm` and the other task modules, imported on first access (PEP 562)."""
    if name not in _SUBMODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(f"{__name__}.{name}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

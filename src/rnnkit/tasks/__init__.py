"""Tasks: the applications built on the library, one package per task, registered by name.

    tasks/<task>/config.py   the task's config dataclass and `TASK_INFO`: help, trainer
                             defaults, the module that builds it and the function that loads a
                             run of it (torch-free, read here at import)
    tasks/<task>/train.py    build, report and (mostly) the loader; the task's helpers beside it
    tasks/<task>/cli.py      the task's own commands (`rnnkit tag`, …) and its handlers of the
                             shared ones (`rnnkit generate RUN` of a music run), named in
                             TASK_INFO and added to the parser by `rnnkit.cli`

Importing this package finds every task package (a sub-folder with an `__init__.py`) and
registers the tasks its `config.py` declares, so adding a task touches one folder. A task's
`train.py` (which imports torch) is imported when the task is first built (`get_task`) or
loaded (`loader_of`). `rnnkit.tasks.charlm` and the other task packages are attributes of this
package on first access (PEP 562); each forwards its modules' names (`task_package`).
`rnnkit.tasks.registry` holds the registry and train / resume / evaluate by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from rnnkit.tasks.registry import (
    NOTHING_TO_TRAIN,
    RESERVED_FIELDS,
    TaskBuilder,
    TaskInfo,
    TaskSpec,
    Trained,
    configs_from_flags,
    data_from_flags,
    default_run_dir,
    describe_task,
    evaluate,
    get_task,
    known_tasks,
    loader_of,
    loaders,
    read_config_file,
    register_loader,
    register_task,
    register_verbs,
    resume,
    split_config,
    train,
)

# every sub-package of rnnkit.tasks is a task package (tasks/data holds files, no __init__.py)
TASK_PACKAGES = tuple(sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg))


def _register_task_packages() -> None:
    """Register what each task package's config.py declares: `TASK_INFO` (the tasks `rnnkit
    train` makes, with their loaders, commands and handlers of shared commands) and, for runs
    made by another command (word2vec), `LOADERS`, `VERBS` and `HANDLERS` (task -> …)."""
    for package in TASK_PACKAGES:
        config = importlib.import_module(f"{__name__}.{package}.config")
        for name, info in getattr(config, "TASK_INFO", {}).items():
            register_task(
                name,
                info.builder,
                config_cls=info.config_cls,
                help=info.help,
                trainer_defaults=info.trainer_defaults,
                loader=info.loader,
                verbs=info.verbs,
                handlers=info.handlers,
            )
        for name, loader in getattr(config, "LOADERS", {}).items():
            register_loader(name, loader)
        verbs, handlers = getattr(config, "VERBS", {}), getattr(config, "HANDLERS", {})
        for name in {**verbs, **handlers}:
            register_verbs(name, verbs.get(name, ()), handlers.get(name))


_register_task_packages()

__all__ = [
    "NOTHING_TO_TRAIN",
    "RESERVED_FIELDS",
    "TASK_PACKAGES",
    "TaskBuilder",
    "TaskInfo",
    "TaskSpec",
    "Trained",
    "configs_from_flags",
    "data_from_flags",
    "default_run_dir",
    "describe_task",
    "evaluate",
    "get_task",
    "known_tasks",
    "loader_of",
    "loaders",
    "read_config_file",
    "register_loader",
    "register_task",
    "register_verbs",
    "resume",
    "split_config",
    "train",
    *TASK_PACKAGES,
]


def __getattr__(name: str) -> Any:
    """`rnnkit.tasks.charlm` and the other task packages, imported on first access (PEP 562)."""
    if name not in TASK_PACKAGES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(f"{__name__}.{name}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

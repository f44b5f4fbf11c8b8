"""Tasks: the applications built on the library, each registered by name for the CLI.

`rnnkit.tasks.registry` holds the registry and train / resume / evaluate by name; importing
this package registers every task module listed below.
"""

from rnnkit.tasks import caption, charlm, classify, condlm, forecast, ner, translate  # + chat
from rnnkit.tasks.registry import (
    RESERVED_FIELDS,
    TaskBuilder,
    TaskSpec,
    configs_from_flags,
    default_run_dir,
    evaluate,
    get_task,
    known_tasks,
    read_config_file,
    register_task,
    resume,
    split_config,
    train,
)

__all__ = [
    "RESERVED_FIELDS",
    "TaskBuilder",
    "TaskSpec",
    "caption",
    "charlm",
    "classify",
    "condlm",
    "configs_from_flags",
    "default_run_dir",
    "evaluate",
    "forecast",
    "get_task",
    "known_tasks",
    "ner",
    "read_config_file",
    "register_task",
    "resume",
    "split_config",
    "train",
    "translate",
]

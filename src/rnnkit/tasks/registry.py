"""Tasks: a registry of named training tasks, and train / resume / evaluate a task by name.

A task is registered with `register_task(name, builder, config_cls=…)`; the builder turns the
task's config (model and data fields) into a `TrainingSetup` (model, objective, batches). The
command line then offers `rnnkit train NAME` with one flag per field of the task config and of
`TrainerConfig`, so the two must not share field names.

The builder may be given as the name of the module that defines `build` (and `report`): the
built-in tasks are registered that way in `rnnkit.tasks`, from the torch-free `config.py` of
each task package (`tasks/<task>/config.py`, its `TASK_INFO`), so that listing the tasks and
their flags (`describe_task`) imports no torch; `get_task` imports the module when the task is
about to run. The same declaration names the task's loader ("module:function", read by
`rnnkit.load`); `register_loader` adds a loader for a run that `rnnkit train` does not make
(word2vec). This module imports torch only inside the functions that train.

A task's command-line verbs are declared with it too (`TaskInfo.verbs`: "module:function" names
of `add_<verb>(verbs)` functions, `rnnkit tag` of the ner task), and so is what a shared verb
runs for a run of the task (`TaskInfo.handlers`: {"generate": "module:function"} of the music
task); `rnnkit.cli` builds its parser from `task_verbs` and dispatches with `run_handler`, so
adding a task with verbs of its own touches only the task's folder.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from rnnkit.config import (
    config_from_dict,
    config_to_dict,
    flat_aliases,
    given_flags,
    merge_dicts,
    nest_keys,
    nested_fields,
    read_config_file,
)
from rnnkit.errors import CheckpointError, ConfigError
from rnnkit.training.config import TrainerConfig

if TYPE_CHECKING:
    from rnnkit.training import FitResult, History, Trainer, TrainingSetup

RESERVED_FIELDS = frozenset({"config", "data", "run_dir", "task", "checkpoint"})
# The one rule for which checkpoint of a run is used (rnnkit.load, every loader, every command
# that uses a trained model, rnnkit serve): "best" is the checkpoint best on validation where
# the run has one (a `best` pointer), else the latest (`training.runs.run_checkpoint`).
DEFAULT_CHECKPOINT = "best"
CHECKPOINT_HELP = (
    "best (default: the best on validation where the run evaluated, else the latest), "
    "latest, or a checkpoint path"
)
RUN_SECTIONS = ("task_config", "trainer")  # a run's config.json holds the two configs so
NOTHING_TO_TRAIN = "nothing_to_train"  # FitResult.reason of a resume at or past max_steps


class TaskInfo(NamedTuple):
    """What a task package's torch-free `config.py` says of each task it registers.

    `builder` is the module defining `build` (and `report`); `loader` is "module:function", the
    function `rnnkit.load` calls as `loader(run_dir, checkpoint=…)`, or None: nothing to load.
    `verbs` are the task's own commands, "module:function" names of `add_<verb>(verbs)`
    functions that each add one parser to `rnnkit`'s sub-commands (torch-free at import: the
    handler imports what it runs); `handlers` maps a shared verb (`generate`, `resume`) to the
    "module:function" that runs it, given the parsed arguments, for a run of this task.
    """

    config_cls: type
    help: str
    trainer_defaults: Mapping[str, Any]
    builder: str
    loader: str | None = None
    verbs: tuple[str, ...] = ()
    handlers: Mapping[str, str] = MappingProxyType({})


class Trained(NamedTuple):
    """What `train` returns: the trained run as `rnnkit.load` gives it back, and how it went.

    `model` is the task's loaded object (a charlm run's `LoadedModel`, …; None for a task with
    no loader, or a run that wrote no checkpoint); `history` every logged metric (Keras's
    `History`: `history.history["val_loss"]`); `result` the `Trainer.fit` result.
    """

    model: Any
    history: History | None
    result: FitResult


class TaskBuilder(Protocol):
    """Builds everything a task trains: `builder(config, data=PATH|None, seed=S)`."""

    def __call__(self, config: Any, *, data: Path | None, seed: int) -> TrainingSetup: ...


@dataclass(frozen=True)
class TaskSpec:
    """A registered task: its name, config dataclass, builder and one-line help."""

    name: str
    config_cls: type
    builder: TaskBuilder | str  # or the module defining `build` (and `report`), not yet imported
    help: str = ""
    trainer_defaults: Mapping[str, Any] = dataclass_field(default_factory=dict)  # under flags
    report: Callable[[Path, FitResult], None] | None = None  # printed by the CLI after training
    loader: str | None = None  # "module:function" that loads a run of the task (rnnkit.load)
    verbs: tuple[str, ...] = ()  # "module:add_<verb>" of the task's own commands
    handlers: Mapping[str, str] = dataclass_field(default_factory=dict)  # shared verb -> function


_TASKS: dict[str, TaskSpec] = {}
_RESTORING: ContextVar[bool] = ContextVar("rnnkit_restoring", default=False)
_LOADERS: dict[str, str] = {}  # task -> "module:function"; register_task and register_loader
_VERBS: dict[str, tuple[str, ...]] = {}  # task -> its "module:add_<verb>"; register_verbs
_HANDLERS: dict[str, dict[str, str]] = {}  # task -> {shared verb: "module:function"}


def restoring() -> bool:
    """Whether the task being built will have its weights replaced by a checkpoint's (`resume`,
    `evaluate`): a builder may then skip work that only sets initial weights, such as the
    caption task's pretraining of its CNN. The model it returns must have the same shapes."""
    return _RESTORING.get()


@contextlib.contextmanager
def _restoring() -> Iterator[None]:
    """`restoring()` is True inside: the builds of `resume` and `evaluate`."""
    token = _RESTORING.set(True)
    try:
        yield
    finally:
        _RESTORING.reset(token)


def _check_loader(name: str, loader: str) -> None:
    module, _, function = loader.partition(":")
    if not module or not function.isidentifier():
        raise ConfigError(f"loader of task {name!r} must be 'module:function', got {loader!r}")


def _check_verbs(name: str, verbs: Sequence[str], handlers: Mapping[str, str]) -> None:
    """Each verb "module:add_<verb>", each handler "module:function" keyed by a verb's name."""
    if isinstance(verbs, str):
        raise ConfigError(f"verbs of task {name!r} must be a tuple of 'module:add_<verb>' names")
    for verb in verbs:
        module, _, function = verb.partition(":")
        if not module or not function.isidentifier() or not function.startswith("add_"):
            raise ConfigError(f"verb of task {name!r} must be 'module:add_<verb>', got {verb!r}")
    for verb, handler in handlers.items():
        module, _, function = handler.partition(":")
        if not verb.isidentifier() or not module or not function.isidentifier():
            raise ConfigError(
                f"handler of task {name!r} must map a verb to 'module:function', got "
                f"{verb!r}: {handler!r}"
            )


def _import_function(reference: str) -> Callable[..., Any]:
    """The function a "module:function" name gives, its module imported now."""
    module, _, function = reference.partition(":")
    return getattr(importlib.import_module(module), function)


def register_verbs(
    name: str,
    verbs: Sequence[str] = (),
    handlers: Mapping[str, str] | None = None,
    *,
    replace: bool = False,
) -> None:
    """Name task `name`'s own commands and its handlers of shared verbs (`TaskInfo.verbs`,
    `TaskInfo.handlers`); `register_task(…, verbs=…)` calls this, and a task that `rnnkit train`
    does not make (word2vec) calls it alone. Nothing is imported until the parser is built.
    """
    handlers = dict(handlers or {})
    _check_verbs(name, verbs, handlers)
    old = (_VERBS.get(name, ()), _HANDLERS.get(name, {}))
    if (name in _VERBS or name in _HANDLERS) and old != (tuple(verbs), handlers) and not replace:
        raise ConfigError(f"task {name!r} already has verbs {list(old[0])} and handlers {old[1]}")
    _VERBS[name], _HANDLERS[name] = tuple(verbs), handlers


def task_verbs() -> list[str]:
    """Every registered task's own verbs ("module:add_<verb>"), in registration order, each
    once (the sentiment and spam tasks share `rnnkit predict`); `rnnkit.cli` adds them."""
    found: dict[str, None] = {}
    for verbs in _VERBS.values():
        found.update(dict.fromkeys(verbs))
    return list(found)


def verb_adder(reference: str) -> Callable[[argparse._SubParsersAction], None]:
    """The `add_<verb>(verbs)` function a "module:add_<verb>" name of `task_verbs` gives."""
    return _import_function(reference)


def run_handler(name: str | None, verb: str) -> Callable[[argparse.Namespace], int] | None:
    """What the shared `verb` runs for a run of task `name` (its `handlers` entry), imported
    now; None where the task has none (the verb's own behaviour applies)."""
    reference = _HANDLERS.get(name or "", {}).get(verb)
    return None if reference is None else _import_function(reference)


def tasks_handling(verb: str) -> list[str]:
    """The tasks whose runs the shared `verb` has a handler for, sorted: for error messages."""
    return sorted(name for name, handlers in _HANDLERS.items() if verb in handlers)


def register_loader(name: str, loader: str, *, replace: bool = False) -> None:
    """Name the function that loads a run of task `name`: "module:function", imported on use.

    The function is called as `function(run_dir, checkpoint=…)` by `rnnkit.load`; tasks that
    `rnnkit train` makes register theirs with `register_task(…, loader=…)`.
    """
    _check_loader(name, loader)
    if name in _LOADERS and _LOADERS[name] != loader and not replace:
        raise ConfigError(f"task {name!r} already has loader {_LOADERS[name]!r}")
    _LOADERS[name] = loader


def loaders() -> dict[str, str]:
    """Every registered loader: task name -> "module:function", sorted by task."""
    return dict(sorted(_LOADERS.items()))


def loader_of(name: str) -> Callable[..., Any]:
    """The loader function of task `name`, its module imported now.

    Raises:
        ConfigError: no loader is registered for `name`.
    """
    if name not in _LOADERS:
        raise ConfigError(
            f"a run of task {name!r} cannot be loaded; rnnkit.load reads runs of {sorted(_LOADERS)}"
        )
    module, _, function = _LOADERS[name].partition(":")
    return getattr(importlib.import_module(module), function)


def register_task(
    name: str,
    builder: TaskBuilder | str,
    *,
    config_cls: type,
    help: str = "",
    trainer_defaults: Mapping[str, Any] | None = None,
    report: Callable[[Path, FitResult], None] | None = None,
    loader: str | None = None,
    verbs: Sequence[str] = (),
    handlers: Mapping[str, str] | None = None,
    replace: bool = False,
) -> TaskSpec:
    """Register a task under `name`; its config fields must not clash with TrainerConfig's.

    `trainer_defaults` are the task's own TrainerConfig defaults (a config file and flags
    override them); `report(run_dir, result)` prints the task's summary after `rnnkit train`.
    `builder` may be a module name, imported by `get_task`: its `build` is the builder and its
    `report`, if any, the report. `loader` ("module:function") loads a run of the task back
    (`register_loader`); `verbs` and `handlers` are its commands (`register_verbs`).
    """
    if not name or not name.replace("-", "").replace("_", "").isalnum() or name != name.lower():
        raise ConfigError(f"task name must be lower-case letters, digits, - or _; got {name!r}")
    if name in _TASKS and not replace:
        raise ConfigError(f"task {name!r} is already registered; pass replace=True to replace it")
    if not dataclasses.is_dataclass(config_cls):
        raise ConfigError(f"config_cls of task {name!r} must be a dataclass, got {config_cls!r}")
    trainer_fields = {f.name for f in dataclasses.fields(TrainerConfig)}
    clashes = sorted(
        {f.name for f in dataclasses.fields(config_cls)} & (trainer_fields | RESERVED_FIELDS)
    )  # a nested config's fields that share a trainer name keep only their dotted flags
    if clashes:
        raise ConfigError(
            f"{config_cls.__name__} of task {name!r} reuses field names {clashes} of "
            "TrainerConfig or the shared flags; rename them (seed, device, … belong to the trainer)"
        )
    config_from_dict(TrainerConfig, dict(trainer_defaults or {}))  # refuse unknown keys now
    if loader is not None:
        _check_loader(name, loader)
    _check_verbs(name, verbs, dict(handlers or {}))
    spec = TaskSpec(name, config_cls, builder, help, dict(trainer_defaults or {}), report, loader,
                    tuple(verbs), dict(handlers or {}))  # fmt: skip
    _TASKS[name] = spec
    if loader is not None:
        _LOADERS[name] = loader
    if verbs or handlers or name in _VERBS or name in _HANDLERS:
        register_verbs(name, verbs, handlers, replace=True)  # `replace` checked above
    return spec


def known_tasks() -> list[str]:
    """Names of the registered tasks, sorted."""
    return sorted(_TASKS)


def describe_task(name: str) -> TaskSpec:
    """The task as registered (its builder maybe a module name not yet imported): for help."""
    if name not in _TASKS:
        known = ", ".join(known_tasks()) or "none are registered"
        raise ConfigError(f"unknown task {name!r}; known tasks: {known}")
    return _TASKS[name]


def get_task(name: str) -> TaskSpec:
    """The task registered as `name`, its builder imported; an unknown name is a ConfigError."""
    spec = describe_task(name)
    if isinstance(spec.builder, str):
        module = importlib.import_module(spec.builder)
        report = getattr(module, "report", None) if spec.report is None else spec.report
        spec = dataclasses.replace(spec, builder=module.build, report=report)
        _TASKS[name] = spec
    return spec


def shared_names() -> frozenset[str]:
    """Names a task config's nested fields cannot take as flat flags: the trainer's, the shared
    flags' (`--data`, `--run-dir`, …)."""
    return frozenset({f.name for f in dataclasses.fields(TrainerConfig)} | RESERVED_FIELDS)


def split_config(spec: TaskSpec, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a flat dict (or one with "task_config"/"trainer" sections) into task, trainer keys.

    A run's own config.json (it has "task", "task_config" and "trainer") gives its two
    sections; its other keys (data, vocab, model, versions, argv, …) are a record of the run.
    A nested config's field may be given as an object, a dotted key ("model.hidden_size") or
    its flat alias ("hidden_size", where no trainer field has that name); the task part comes
    back with them nested (`rnnkit.config.nest_keys`).
    """
    if "task" in data and all(isinstance(data.get(key), dict) for key in RUN_SECTIONS):
        if data["task"] != spec.name:
            raise ConfigError(
                f"the config file is a run of task {data['task']!r}, not {spec.name!r}; train "
                f"it with `rnnkit train {data['task']} --config …`"
            )
        data = {key: data[key] for key in RUN_SECTIONS}
    trainer_keys = {f.name for f in dataclasses.fields(TrainerConfig)}
    nested = nested_fields(spec.config_cls)
    task_keys = {f.name for f in dataclasses.fields(spec.config_cls)}
    task_keys |= set(flat_aliases(spec.config_cls, shared_names()))
    task_part = dict(data.get("task_config") or {})
    trainer_part = dict(data.get("trainer") or {})
    for key, value in data.items():
        if key in ("task_config", "trainer"):
            continue
        if key in task_keys or key.partition(".")[0] in nested:
            task_part[key] = value
        elif key in trainer_keys:
            trainer_part[key] = value
        else:
            raise ConfigError(
                f"unknown config key {key!r} for task {spec.name!r}; valid keys: "
                f"{sorted(task_keys | trainer_keys)}"
            )
    return nest_keys(spec.config_cls, task_part, shared_names()), trainer_part


def configs_from_flags(spec: TaskSpec, args: argparse.Namespace) -> tuple[Any, TrainerConfig]:
    """Task and trainer configs from `--config FILE` overridden by the flags that were given.

    FILE may be a run's config.json: the new run then trains with that run's settings.
    """
    data = read_config_file(args.config) if getattr(args, "config", None) else {}
    task_part, trainer_part = split_config(spec, data)
    trainer_part = {**spec.trainer_defaults, **trainer_part}
    task_part = merge_dicts(task_part, given_flags(spec.config_cls, args))
    trainer_part.update(given_flags(TrainerConfig, args))
    return config_from_dict(spec.config_cls, task_part), config_from_dict(
        TrainerConfig, trainer_part
    )


def default_run_dir(name: str) -> Path:
    """runs/<task>-<date>-<time> under the current directory."""
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def data_from_flags(args: argparse.Namespace) -> Path | None:
    """`--data`, else the data of the run whose config.json `--config` names (None: default)."""
    if getattr(args, "data", None) is not None:
        return Path(args.data)
    data = read_config_file(args.config) if getattr(args, "config", None) else {}
    if "task" in data and isinstance(data.get("data"), str):
        return Path(data["data"])
    return None


def _make_trainer(
    spec: TaskSpec,
    task_config: Any,
    trainer_config: TrainerConfig,
    *,
    data: Path | None,
    run_dir: Path | None,
    **kwargs: Any,
) -> Trainer:
    from rnnkit.seeding import seed_everything
    from rnnkit.training import Trainer

    seed_everything(trainer_config.seed)  # the model's initial weights come from the seed
    setup = spec.builder(task_config, data=data, seed=trainer_config.seed)
    run_config = {
        "task": spec.name,
        "task_config": config_to_dict(task_config),
        "data": None if data is None else str(Path(data).resolve()),
        **setup.artifacts,
    }
    if data is not None and run_dir is not None:  # checked on resume (`check_same_data`)
        from rnnkit.training.run_guard import data_digest

        run_config["data_digest"] = data_digest(data, skip=run_dir)
    kwargs["callbacks"] = (*setup.callbacks, *kwargs.get("callbacks", ()))
    return Trainer(
        setup.model,
        setup.objective,
        setup.train_data,
        config=trainer_config,
        eval_data=setup.eval_data,
        run_dir=run_dir,
        run_config=run_config,
        **kwargs,
    )


def train(
    name: str,
    task_config: Any = None,
    trainer_config: TrainerConfig | None = None,
    *,
    data: str | Path | None = None,
    run_dir: str | Path | None = None,
    callbacks: Sequence[Callable[..., None]] = (),
    report: bool = True,
) -> Trained:
    """Train task `name` from scratch into `run_dir` (default runs/<task>-<time>).

    Returns the trained run as `rnnkit.load` would give it back, with the History of every
    logged metric and the fit result (`Trained`). With `report` the task's report runs, its
    printing silenced, as `rnnkit train` runs it after training: the same plots are written
    (a charlm run's `plots/*.png`, a classifier's confusion matrix, a forecast's plot).
    """
    from rnnkit.training.run_guard import check_new_run_dir, start_afresh

    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(name)
    check_new_run_dir(run_dir)  # a folder of the user's own files is never written into
    with _writer_lock(run_dir):  # before the task's module (and torch) loads: refused at once
        from rnnkit.training.checkpoint_manager import CheckpointManager

        spec = get_task(name)
        task_config = task_config if task_config is not None else spec.config_cls()
        trainer_config = trainer_config or config_from_dict(
            TrainerConfig, dict(spec.trainer_defaults)
        )
        if CheckpointManager(run_dir / "checkpoints").checkpoints():
            raise ConfigError(
                f"{run_dir} already holds a run; continue it with `rnnkit resume {run_dir}` "
                "or choose another --run-dir"
            )
        if os.environ.get("RANK", "0") == "0":
            start_afresh(run_dir)  # a run killed before its first checkpoint is replaced
        result = _train_new(spec, task_config, trainer_config, data, run_dir, callbacks)
    return trained(spec, run_dir, result, report=report)


def trained(spec: TaskSpec, run_dir: Path, result: FitResult, *, report: bool = True) -> Trained:
    """The `Trained` of a finished fit: the run loaded back (process 0, where the task has a
    loader and the run a checkpoint), its history; the task's report, silenced, if `report`."""
    from rnnkit.console import console

    main = os.environ.get("RANK", "0") == "0"
    if report and main and spec.report is not None and result.checkpoint is not None:
        quiet, console.quiet = console.quiet, True  # the library prints nothing (console.py)
        try:
            spec.report(run_dir, result)  # writes the same plots as `rnnkit train`
        finally:
            console.quiet = quiet
    model = None
    if main and spec.name in _LOADERS and result.checkpoint is not None:
        model = loader_of(spec.name)(run_dir, checkpoint=DEFAULT_CHECKPOINT)
    return Trained(model, result.history, result)


def _train_new(
    spec: TaskSpec,
    task_config: Any,
    trainer_config: TrainerConfig,
    data: str | Path | None,
    run_dir: Path,
    callbacks: Sequence[Callable[..., None]],
) -> FitResult:
    from rnnkit.training.distributed import process_group

    with process_group(trainer_config.device) as context:
        trainer = _make_trainer(
            spec,
            task_config,
            trainer_config,
            data=None if data is None else Path(data),
            run_dir=run_dir,
            context=context,
            callbacks=callbacks,
        )
        return trainer.fit()


def _writer_lock(run_dir: Path) -> contextlib.AbstractContextManager[None]:
    """The run's one-writer lock (`rnnkit.training.run_guard.run_lock`), taken by process 0 only."""
    from rnnkit.training.run_guard import run_lock

    return run_lock(run_dir) if os.environ.get("RANK", "0") == "0" else contextlib.nullcontext()


def _rebuild(
    run_dir: Path, overrides: dict[str, Any]
) -> tuple[TaskSpec, Any, TrainerConfig, Path | None]:
    from rnnkit.training.runs import read_run_config

    config = read_run_config(run_dir)
    if "task" not in config or "task_config" not in config or "trainer" not in config:
        raise ConfigError(f"{run_dir / 'config.json'} lacks 'task', 'task_config' or 'trainer'")
    spec = get_task(config["task"])
    task_config = config_from_dict(spec.config_cls, config["task_config"])
    trainer_config = config_from_dict(TrainerConfig, {**config["trainer"], **overrides})
    data = config.get("data")
    return spec, task_config, trainer_config, None if data is None else Path(data)


def resume(
    run_dir: str | Path,
    *,
    checkpoint: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    callbacks: Sequence[Callable[..., None]] = (),
) -> FitResult:
    """Continue the run in `run_dir` exactly from its latest checkpoint (or `checkpoint`).

    `overrides` changes trainer fields, e.g. {"max_steps": 20000} to train longer. With
    max_steps at or below the checkpoint's step nothing is trained or changed (the result's
    reason is NOTHING_TO_TRAIN). Data that no longer matches config.json's digest is refused.
    """
    run_dir = Path(run_dir)
    with _writer_lock(run_dir):
        spec, task_config, trainer_config, data = _rebuild(run_dir, overrides or {})
        return _resume(spec, task_config, trainer_config, data, run_dir, checkpoint, callbacks)


def _resume(
    spec: TaskSpec,
    task_config: Any,
    trainer_config: TrainerConfig,
    data: Path | None,
    run_dir: Path,
    checkpoint: str | Path | None,
    callbacks: Sequence[Callable[..., None]],
) -> FitResult:
    from rnnkit.training import FitResult
    from rnnkit.training.distributed import process_group
    from rnnkit.training.run_guard import check_same_data

    with process_group(trainer_config.device) as context, _restoring():
        trainer = _make_trainer(
            spec, task_config, trainer_config, data=data, run_dir=run_dir, context=context,
            callbacks=callbacks,
        )  # fmt: skip
        check_same_data(run_dir, trainer.run_config.get("data_digest"))
        path = trainer.load_checkpoint(checkpoint)
        if trainer.loop.step >= trainer.config.max_steps:  # nothing trained, nothing deleted
            return FitResult(trainer.loop.step, NOTHING_TO_TRAIN, trainer.loop.best_metric, path,
                             history=trainer.history)  # fmt: skip
        return trainer.fit()


def evaluate(
    run_dir: str | Path, *, checkpoint: str | Path = "latest", device: str | None = None
) -> tuple[Path, dict[str, float]]:
    """Evaluate a checkpoint of a run ("latest", "best" or a path); returns it and the metrics."""
    from rnnkit.training.checkpoint_manager import CheckpointManager

    run_dir = Path(run_dir)
    overrides = {"device": device} if device else {}
    spec, task_config, trainer_config, data = _rebuild(run_dir, overrides)
    manager = CheckpointManager(run_dir / "checkpoints")
    path = {"latest": manager.latest, "best": manager.best}.get(
        str(checkpoint), lambda: Path(checkpoint)
    )()
    if path is None:
        raise CheckpointError(f"{run_dir / 'checkpoints'} has no {checkpoint!r} checkpoint")
    with _restoring():
        trainer = _make_trainer(
            spec, task_config, trainer_config, data=data, run_dir=None, handle_signals=False
        )
    trainer.load_checkpoint(path)
    if trainer.eval_data is None:
        raise ConfigError(f"task {spec.name!r} builds no evaluation data")
    return path, trainer.evaluate()

"""`rnnkit train | generate | resume | eval | plot`: runs of registered tasks.

Building these parsers imports no torch: the task list, help lines and config classes come from
the tasks' torch-free config modules (`rnnkit.tasks.describe_task`); each handler imports the
task code it runs. `generate` runs the `generate` handler a run's task registers
(`TaskInfo.handlers`: charlm, condlm, music), and `resume` a task's own `resume` handler where it
has one (word2vec), so no task is named here.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from rnnkit import tasks
from rnnkit.config import add_config_flags
from rnnkit.console import console, setup_logging
from rnnkit.datasets.probe import from_shared
from rnnkit.errors import ConfigError
from rnnkit.tasks.registry import TaskSpec
from rnnkit.training.config import TrainerConfig

RUN_DIR_HELP = "a run directory made by `rnnkit train` (it holds config.json, checkpoints/)"
OUT_HELP = "music runs: the MIDI file to write, a piano-roll PNG beside it (default: chorale.mid)"
FRAMES_HELP = "music runs: frames to sample (64 quarter-note frames = 16 bars of 4/4)"
CONFIG_HELP = "a JSON or TOML file of settings, or a run's config.json to train as that run did"

if TYPE_CHECKING:
    from rnnkit.training import FitResult


def read_run_config(run_dir: Path) -> dict:
    """RUN_DIR/config.json (`rnnkit.training.runs.read_run_config`, imported when needed)."""
    from rnnkit.training.runs import read_run_config as read

    return read(run_dir)


def _finish(spec: TaskSpec, run_dir: Path, result: FitResult) -> int:
    """Print how training ended and the task's report (process 0); the exit status."""
    if result.reason == tasks.NOTHING_TO_TRAIN:  # `resume --max-steps N` at or below its step
        console.print(
            f"nothing to train: {result.checkpoint} is at step {result.step}, at "
            "or past --max-steps; nothing was changed (give a higher --max-steps)"
        )
        return 0
    if os.environ.get("RANK", "0") == "0":
        console.print(f"{result.reason} at step {result.step}; checkpoint {result.checkpoint}")
        if spec.report is not None and result.checkpoint is not None:
            spec.report(run_dir, result)
    return 128 + result.signal if result.signal else 0


def _package_hints() -> dict[str, str]:
    """For a task package whose tasks have other names (classify: sentiment, spam), the
    "did you mean" of `rnnkit train PACKAGE`: "'sentiment' or 'spam' (the tasks of …)"."""
    by_package: dict[str, list[str]] = {}
    for name in tasks.known_tasks():
        builder = tasks.describe_task(name).builder  # "rnnkit.tasks.<package>.train", or its
        module = builder if isinstance(builder, str) else getattr(builder, "__module__", "")
        if module.startswith(f"{tasks.__name__}."):  # `build` once the task has been built
            by_package.setdefault(module.split(".")[2], []).append(name)
    return {
        package: f"{' or '.join(map(repr, names))} (the tasks of rnnkit/tasks/{package})"
        for package, names in by_package.items()
        if package not in names
    }


def add_train(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit train TASK [--config FILE.json|toml] [--FIELD VALUE ...]`: train a task."""

    parser = verbs.add_parser(
        "train",
        help="train a registered task into a run directory",
        description="Train TASK; flags come from the task's config and TrainerConfig. The run"
        " directory gets config.json, metrics.jsonl and checkpoints/.",
    )
    names = parser.add_subparsers(dest="task", required=True, metavar="TASK")
    names.choice_hints = _package_hints()  # type: ignore[attr-defined]  # RnnkitParser reads it
    for name in tasks.known_tasks():
        spec = tasks.describe_task(name)  # its config module only: no torch
        task_parser = names.add_parser(
            name, help=spec.help, description=f"Train {name}: {spec.help}.",
            usage="%(prog)s [--config FILE] [--data PATH] [--run-dir DIR] [--FLAG VALUE ...]",
        )  # fmt: skip
        add_config_flags(task_parser, spec.config_cls, config_help=CONFIG_HELP,
                         reserved=tasks.registry.shared_names())  # fmt: skip
        add_config_flags(task_parser, TrainerConfig, dict(spec.trainer_defaults), config_file=False)
        data_group = next(g for g in task_parser._action_groups if g.title == "data")
        data_group.add_argument("--data", type=Path, default=None, metavar="PATH",
                                help="training data: a file, a folder or a shared/data set's name "
                                "(default: the task's own, or the --config run's)")  # fmt: skip
        output_group = next(g for g in task_parser._action_groups if g.title == "output")
        output_group.add_argument("--run-dir", type=Path, default=None, metavar="DIR",
                                  help="where config.json, metrics.jsonl and checkpoints/ go "
                                  "(default: runs/TASK-DATE-TIME)")  # fmt: skip

    def handle(args: argparse.Namespace) -> int:
        spec = tasks.describe_task(args.task)  # no torch yet: a locked run is refused at once
        task_config, trainer_config = tasks.configs_from_flags(spec, args)
        setup_logging(quiet=trainer_config.quiet)
        run_dir = args.run_dir or tasks.default_run_dir(spec.name)
        data = tasks.data_from_flags(args)  # --data, else the data of a --config run
        data = None if data is None else from_shared(data)  # `--data ner_wnut17` too
        trained = tasks.train(spec.name, task_config, trainer_config, data=data,
                              run_dir=run_dir, report=False)  # _finish reports  # fmt: skip
        return _finish(tasks.get_task(spec.name), run_dir, trained.result)

    parser.set_defaults(handler=handle)


def add_generate(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit generate RUN_DIR --prime TEXT`: stream text from a trained language model."""
    parser = verbs.add_parser(
        "generate",
        help="generate text from a trained language model (charlm run), or music (music run)",
        description="Sample text from RUN_DIR's model, streaming it as it is sampled.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help=RUN_DIR_HELP)
    parser.add_argument("--prime", default="", help="text to start from (default: a newline at "
                        "char level, the most frequent sentence end at word level)")  # fmt: skip
    parser.add_argument("--length", type=int, default=500, help="tokens to generate")
    parser.add_argument("--temperature", type=float, default=1.0, help="τ; 0 is greedy")
    parser.add_argument("--top-k", type=int, default=None,
                        help="sample among the k best (default: among all)")  # fmt: skip
    parser.add_argument("--top-p", type=float, default=None,
                        help="nucleus sampling mass (default: off)")  # fmt: skip
    parser.add_argument("--greedy", action="store_true", help="always take the argmax")
    parser.add_argument("--beam", type=int, default=None, metavar="K",
                        help="beam search width (default: off, sample)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the sampler (default: none: new text each time)")  # fmt: skip
    parser.add_argument("--checkpoint", default=tasks.registry.DEFAULT_CHECKPOINT,
                        help=tasks.registry.CHECKPOINT_HELP)  # fmt: skip
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where the model runs")  # fmt: skip
    parser.add_argument("--condition", default=None, metavar="CLASS",
                        help="condlm runs: the class to write (no default)")  # fmt: skip
    parser.add_argument("--count", type=int, default=5, help="condlm runs: texts to write")
    parser.add_argument("--out", type=Path, default=None, help=OUT_HELP)
    parser.add_argument("--frames", type=int, default=64, help=FRAMES_HELP)

    def handle(args: argparse.Namespace) -> int:
        task = read_run_config(args.run_dir).get("task")
        generate = tasks.registry.run_handler(task, "generate")  # the task's own, imported now
        if generate is None:
            readers = ", ".join(tasks.registry.tasks_handling("generate"))
            raise ConfigError(f"{args.run_dir} is a run of task {task!r}, not a language-model "
                              f"run: `rnnkit generate` reads runs of {readers}")  # fmt: skip
        return int(generate(args) or 0)

    parser.set_defaults(handler=handle)


def add_resume(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit resume RUN_DIR`: continue a run exactly from its latest checkpoint."""

    parser = verbs.add_parser(
        "resume",
        help="continue a run from its latest checkpoint",
        description="Continue RUN_DIR exactly where its last checkpoint left it.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help=RUN_DIR_HELP)
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="the checkpoint to continue from (default: latest); an older one "
                        "branches the run there: its later checkpoints and metrics rows are "
                        "replaced once the new training writes its first checkpoint, not "
                        "before")  # fmt: skip
    parser.add_argument("--max-steps", type=int, default=None,
                        help="train to this step (default: the run's max_steps); at or below "
                        "the checkpoint's step nothing is trained or changed")  # fmt: skip
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                        help="where to train (default: the run's device)")  # fmt: skip
    parser.add_argument("--log-every", type=int, default=None,
                        help="steps between metrics rows (default: the run's)")  # fmt: skip
    parser.add_argument("--checkpoint-every", type=int, default=None,
                        help="steps between checkpoints (default: the run's)")  # fmt: skip
    parser.add_argument("--quiet", action=argparse.BooleanOptionalAction, default=None,
                        help="no progress bar or log lines (default: the run's quiet)")  # fmt: skip

    def handle(args: argparse.Namespace) -> int:
        own = tasks.registry.run_handler(read_run_config(args.run_dir).get("task"), "resume")
        if own is not None:  # a run not made by a Trainer (word2vec) resumes its own way
            return int(own(args) or 0)
        names = ("max_steps", "device", "log_every", "checkpoint_every", "quiet")
        overrides = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
        setup_logging(quiet=bool(args.quiet))
        result = tasks.resume(args.run_dir, checkpoint=args.checkpoint, overrides=overrides)
        task_name = read_run_config(args.run_dir)["task"]
        return _finish(tasks.get_task(task_name), args.run_dir, result)

    parser.set_defaults(handler=handle)


def add_eval(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit eval RUN_DIR`: the validation metrics of a checkpoint, as one JSON line."""
    parser = verbs.add_parser(
        "eval",
        help="evaluate a run's checkpoint on its validation data",
        description="Print the validation metrics of a checkpoint of RUN_DIR as JSON.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help=RUN_DIR_HELP)
    parser.add_argument("--checkpoint", default="latest", help="latest, best or a path")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                        help="where to evaluate (default: the run's device)")  # fmt: skip

    def handle(args: argparse.Namespace) -> int:
        path, metrics = tasks.evaluate(args.run_dir, checkpoint=args.checkpoint, device=args.device)
        console.print(
            json.dumps({"checkpoint": str(path), **metrics}), markup=False, soft_wrap=True
        )
        return 0

    parser.set_defaults(handler=handle)


def add_plot(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit plot RUN_DIR`: PNG plots of loss, learning rate and gradient norm."""
    parser = verbs.add_parser(
        "plot",
        help="plot a run's training curves to PNG files",
        description="Write loss.png, lr.png and grad_norm.png from RUN_DIR/metrics.jsonl.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help=RUN_DIR_HELP)
    parser.add_argument("--out", type=Path, default=None,
                        help="folder of the PNG files (default: RUN_DIR/plots)")  # fmt: skip

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.training.plots import plot_run  # matplotlib loads only for this verb

        for path in plot_run(args.run_dir, args.out):
            console.print(str(path), markup=False, soft_wrap=True)
        return 0

    parser.set_defaults(handler=handle)

"""The `rnnkit` command line: `rnnkit <verb> [task] [--flags]`, flags generated from configs.

Each verb adds its parser in its own `_add_<verb>` function. A RnnkitError is printed as
one red line and the exit status is 2; other errors keep their traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from rich.markup import escape

from rnnkit import __version__
from rnnkit.config import add_config_flags, config_from_args
from rnnkit.console import console
from rnnkit.errors import RnnkitError
from rnnkit.tasks import explore


def _add_demo(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit demo`: vocabularies, OOV rate, word hashing and tf-idf of Tiny Shakespeare."""
    parser = verbs.add_parser(
        "demo",
        help="explore the embedded Tiny Shakespeare: vocabularies, OOV, hashing, tf-idf",
        description="The foundation demo: text -> tokens -> representations, real figures.",
    )
    add_config_flags(parser, explore.ExploreConfig)

    def handle(args: argparse.Namespace) -> int:
        explore.run_demo(config_from_args(explore.ExploreConfig, args))
        return 0

    parser.set_defaults(handler=handle)


def _add_represent(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit represent "a sentence"`: its one-hot, word-hashing and bag-of-words vectors."""
    parser = verbs.add_parser(
        "represent",
        help="print the one-hot / word-hashing / bag-of-words vectors of a sentence",
        description="Vectors of a sentence over a lexicon (default: words of the embedded"
        " Tiny Shakespeare seen at least --min-freq times; others become <unk>).",
    )
    parser.add_argument("sentence", help="the text to represent, quoted")
    parser.add_argument("--kind", choices=("onehot", "hashing", "bow", "all"), default="all")
    parser.add_argument("--n", type=int, default=3, help="letter n-gram size (default: 3)")
    parser.add_argument("--vocab", type=Path, default=None, help="a vocab JSON (Vocab.save)")
    parser.add_argument("--min-freq", type=int, default=2, help="corpus lexicon cut-off")

    def handle(args: argparse.Namespace) -> int:
        explore.represent_command(
            args.sentence, kind=args.kind, n=args.n, vocab_path=args.vocab, min_freq=args.min_freq
        )
        return 0

    parser.set_defaults(handler=handle)


def _add_train(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit train TASK [--config FILE.json|toml] [--FIELD VALUE ...]`: train a task."""
    import os

    from rnnkit import tasks
    from rnnkit.console import setup_logging
    from rnnkit.training import TrainerConfig

    parser = verbs.add_parser(
        "train",
        help="train a registered task into a run directory",
        description="Train TASK; flags come from the task's config and TrainerConfig. The run"
        " directory gets config.json, metrics.jsonl and checkpoints/.",
    )
    names = parser.add_subparsers(dest="task", required=True, metavar="TASK")
    for name in tasks.known_tasks():
        spec = tasks.get_task(name)
        task_parser = names.add_parser(name, help=spec.help, conflict_handler="resolve")
        add_config_flags(task_parser, spec.config_cls)
        add_config_flags(task_parser, TrainerConfig)
        task_parser.add_argument("--data", type=Path, default=None, help="training data")
        task_parser.add_argument(
            "--run-dir", type=Path, default=None, help="(default: runs/TASK-DATE-TIME)"
        )

    def handle(args: argparse.Namespace) -> int:
        spec = tasks.get_task(args.task)
        task_config, trainer_config = tasks.configs_from_flags(spec, args)
        setup_logging(quiet=trainer_config.quiet)
        result = tasks.train(
            spec.name, task_config, trainer_config, data=args.data, run_dir=args.run_dir
        )
        if os.environ.get("RANK", "0") == "0":
            console.print(f"{result.reason} at step {result.step}; checkpoint {result.checkpoint}")
        return 128 + result.signal if result.signal else 0

    parser.set_defaults(handler=handle)


def _add_resume(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit resume RUN_DIR`: continue a run exactly from its latest checkpoint."""
    import os

    from rnnkit import tasks
    from rnnkit.console import setup_logging

    parser = verbs.add_parser(
        "resume",
        help="continue a run from its latest checkpoint",
        description="Continue RUN_DIR exactly where its last checkpoint left it.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--checkpoint", type=Path, default=None, help="(default: latest)")
    parser.add_argument("--max-steps", type=int, default=None, help="train to this step")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)
    parser.add_argument("--log-every", type=int, default=None)
    parser.add_argument("--checkpoint-every", type=int, default=None)
    parser.add_argument("--quiet", action=argparse.BooleanOptionalAction, default=None)

    def handle(args: argparse.Namespace) -> int:
        names = ("max_steps", "device", "log_every", "checkpoint_every", "quiet")
        overrides = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
        setup_logging(quiet=bool(args.quiet))
        result = tasks.resume(args.run_dir, checkpoint=args.checkpoint, overrides=overrides)
        if os.environ.get("RANK", "0") == "0":
            console.print(f"{result.reason} at step {result.step}; checkpoint {result.checkpoint}")
        return 128 + result.signal if result.signal else 0

    parser.set_defaults(handler=handle)


def _add_eval(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit eval RUN_DIR`: the validation metrics of a checkpoint, as one JSON line."""
    import json

    from rnnkit import tasks

    parser = verbs.add_parser(
        "eval",
        help="evaluate a run's checkpoint on its validation data",
        description="Print the validation metrics of a checkpoint of RUN_DIR as JSON.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--checkpoint", default="latest", help="latest, best or a path")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)

    def handle(args: argparse.Namespace) -> int:
        path, metrics = tasks.evaluate(args.run_dir, checkpoint=args.checkpoint, device=args.device)
        console.print(
            json.dumps({"checkpoint": str(path), **metrics}), markup=False, soft_wrap=True
        )
        return 0

    parser.set_defaults(handler=handle)


def _add_plot(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit plot RUN_DIR`: PNG plots of loss, learning rate and gradient norm."""
    parser = verbs.add_parser(
        "plot",
        help="plot a run's training curves to PNG files",
        description="Write loss.png, lr.png and grad_norm.png from RUN_DIR/metrics.jsonl.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--out", type=Path, default=None, help="(default: RUN_DIR/plots)")

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.training.plots import plot_run  # matplotlib loads only for this verb

        for path in plot_run(args.run_dir, args.out):
            console.print(str(path), markup=False, soft_wrap=True)
        return 0

    parser.set_defaults(handler=handle)


# Each entry adds one verb's parser; the parser stores its handler as `handler`.
VERBS: tuple = (_add_demo, _add_represent, _add_train, _add_resume, _add_eval, _add_plot)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser; each verb stores its handler in `args.handler`."""
    parser = argparse.ArgumentParser(
        prog="rnnkit", description="Recurrent sequence models written from their equations."
    )
    parser.add_argument("--version", action="version", version=f"rnnkit {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    for add_verb in VERBS:
        add_verb(verbs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rnnkit` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except RnnkitError as err:  # bad config, data or checkpoint: one clear line, exit 2
        console.print("[red]error:[/]", escape(str(err)), soft_wrap=True)
        return 2

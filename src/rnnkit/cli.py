"""The `rnnkit` command line: `rnnkit <verb> [task] [--flags]`, flags generated from configs.

Each verb adds its parser in its own `_add_<verb>` function. A RnnkitError is printed as
one red line and the exit status is 2; other errors keep their traceback.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from rich.markup import escape

from rnnkit import __version__, tasks
from rnnkit.config import add_config_flags, config_from_args
from rnnkit.console import console, setup_logging
from rnnkit.errors import RnnkitError
from rnnkit.models.decoding import SamplingConfig
from rnnkit.tasks import charlm, explore
from rnnkit.tasks.registry import TaskSpec
from rnnkit.tasks.textgen import generate_text
from rnnkit.training import FitResult, TrainerConfig, read_run_config


def _add_explore(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit explore`: vocabularies, OOV rate, word hashing and tf-idf of Tiny Shakespeare."""
    parser = verbs.add_parser(
        "explore",
        help="explore the embedded Tiny Shakespeare: vocabularies, OOV, hashing, tf-idf",
        description="Explore the data path: text -> tokens -> representations, real figures.",
    )
    add_config_flags(parser, explore.ExploreConfig)

    def handle(args: argparse.Namespace) -> int:
        explore.run_explore(config_from_args(explore.ExploreConfig, args))
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


def _finish(spec: TaskSpec, run_dir: Path, result: FitResult) -> int:
    """Print how training ended and the task's report (process 0); the exit status."""
    if os.environ.get("RANK", "0") == "0":
        console.print(f"{result.reason} at step {result.step}; checkpoint {result.checkpoint}")
        if spec.report is not None and result.checkpoint is not None:
            spec.report(run_dir, result)
    return 128 + result.signal if result.signal else 0


def _add_train(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit train TASK [--config FILE.json|toml] [--FIELD VALUE ...]`: train a task."""

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
        add_config_flags(task_parser, TrainerConfig, dict(spec.trainer_defaults))
        task_parser.add_argument("--data", type=Path, default=None, help="training data")
        task_parser.add_argument(
            "--run-dir", type=Path, default=None, help="(default: runs/TASK-DATE-TIME)"
        )

    def handle(args: argparse.Namespace) -> int:
        spec = tasks.get_task(args.task)
        task_config, trainer_config = tasks.configs_from_flags(spec, args)
        setup_logging(quiet=trainer_config.quiet)
        run_dir = args.run_dir or tasks.default_run_dir(spec.name)
        result = tasks.train(
            spec.name, task_config, trainer_config, data=args.data, run_dir=run_dir
        )
        return _finish(spec, run_dir, result)

    parser.set_defaults(handler=handle)


def _add_generate(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit generate RUN_DIR --prime TEXT`: stream text from a trained language model."""
    parser = verbs.add_parser(
        "generate",
        help="generate text from a trained language model (charlm run)",
        description="Sample text from RUN_DIR's model, streaming it as it is sampled.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--prime", default="", help="text to start from (default: a newline)")
    parser.add_argument("--length", type=int, default=500, help="tokens to generate")
    parser.add_argument("--temperature", type=float, default=1.0, help="τ; 0 is greedy")
    parser.add_argument("--top-k", type=int, default=None, help="sample among the k best")
    parser.add_argument("--top-p", type=float, default=None, help="nucleus sampling mass")
    parser.add_argument("--greedy", action="store_true", help="always take the argmax")
    parser.add_argument("--beam", type=int, default=None, metavar="K", help="beam search width")
    parser.add_argument("--seed", type=int, default=None, help="seed of the sampler")
    parser.add_argument("--checkpoint", default="best", help="best, latest or a path")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")

    def handle(args: argparse.Namespace) -> int:
        loaded = charlm.load_language_model(
            args.run_dir, checkpoint=args.checkpoint, device=args.device
        )
        sampling = SamplingConfig(
            temperature=0.0 if args.greedy else args.temperature,
            top_k=args.top_k,
            top_p=args.top_p,
        )
        pieces = generate_text(
            loaded.model, loaded.vocab, args.prime, args.length, sampling,
            seed=args.seed, beam_size=args.beam,
        )  # fmt: skip
        console.print(args.prime, end="", markup=False, highlight=False)
        for piece in pieces:
            console.print(piece, end="", markup=False, highlight=False, soft_wrap=True)
            console.file.flush()
        console.print()
        return 0

    parser.set_defaults(handler=handle)


def _add_resume(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit resume RUN_DIR`: continue a run exactly from its latest checkpoint."""

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
        task_name = read_run_config(args.run_dir)["task"]
        return _finish(tasks.get_task(task_name), args.run_dir, result)

    parser.set_defaults(handler=handle)


def _add_eval(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit eval RUN_DIR`: the validation metrics of a checkpoint, as one JSON line."""
    import json

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


def _add_analyze(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit analyze scalar|spectrum --out DIR [--quick]`: vanishing/exploding experiments."""
    from rnnkit.tasks import gradient_experiments as experiments

    parser = verbs.add_parser(
        "analyze",
        help="gradient experiments: repeated scalar products, ‖∂L/∂h_t‖ per spectral radius",
        description="Run an experiment; it writes its PNG, report.md and config.json to --out.",
    )
    names = parser.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    choices = {
        "scalar": (experiments.ScalarConfig, experiments.run_scalar, "0.9^n, 1.01^n, ..."),
        "spectrum": (experiments.SpectrumConfig, experiments.run_spectrum, "‖∂L/∂h_t‖ vs rho"),
    }
    for name, (config_cls, _, help_text) in choices.items():
        experiment_parser = names.add_parser(name, help=help_text)
        add_config_flags(experiment_parser, config_cls)
        experiment_parser.add_argument("--out", type=Path, required=True, help="output folder")

    def handle(args: argparse.Namespace) -> int:
        config_cls, run, _ = choices[args.experiment]
        result = run(config_from_args(config_cls, args), args.out)
        for path in result.files:
            console.print(str(path), markup=False, soft_wrap=True)
        return 0

    parser.set_defaults(handler=handle)


# Each entry adds one verb's parser; the parser stores its handler as `handler`.
VERBS: tuple = (
    _add_explore,
    _add_represent,
    _add_train,
    _add_generate,
    _add_resume,
    _add_eval,
    _add_plot,
    _add_analyze,
)


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

"""`rnnkit word2vec train | resume | similar | analogy | eval | plot | export`: word vectors.

Each handler imports `rnnkit.tasks.word2vec.train` (and with it torch) when it runs, so that
the help of these commands stays quick.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from rnnkit.config import add_config_flags, config_from_args
from rnnkit.console import console, setup_logging
from rnnkit.errors import ConfigError
from rnnkit.tasks.word2vec.config import CHECKPOINT_EVERY, Word2VecConfig

if TYPE_CHECKING:
    from rnnkit.represent.word2vec.vectors import WordVectors


RUN_DIR_HELP = "a run directory made by `rnnkit word2vec train`"


def _neighbour_table(title: str, rows: list[tuple[str, float]]) -> Table:
    table = Table(title=title)
    table.add_column("rank", justify="right")
    table.add_column("word")
    table.add_column("score", justify="right")
    for rank, (word, score) in enumerate(rows, start=1):
        table.add_row(str(rank), word, f"{score:.4f}")
    return table


def _train(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "train",
        help="train skip-gram or CBOW vectors on a corpus",
        description="Train on CORPUS (a text file, a .gz, or a folder of them) into --run-dir.",
    )
    parser.add_argument("corpus", type=Path, metavar="CORPUS",
                        help="a text file, a .gz, or a folder of them")  # fmt: skip
    parser.add_argument("--run-dir", type=Path, required=True,
                        help="output run directory (required)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        default=CHECKPOINT_EVERY,
        metavar="N",
        help="checkpoint after every N chunks of 65,536 words, and at each epoch's end"
        " (0: at epoch ends only; default %(default)s)",
    )
    add_config_flags(parser, Word2VecConfig)

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.tasks.word2vec import train as task  # torch loads for this command only

        setup_logging(quiet=args.quiet)
        config = config_from_args(Word2VecConfig, args)
        vectors = task.train_run(
            args.corpus, config, args.run_dir, quiet=args.quiet,
            checkpoint_every=args.checkpoint_every,
        )  # fmt: skip
        _print_done(vectors, args.run_dir)
        return 0

    parser.set_defaults(handler=handle)


def _print_done(vectors: WordVectors, run_dir: Path) -> None:
    from rnnkit.tasks.word2vec import train as task

    console.print(f"{len(vectors):,} words × {vectors.embed_dim}; report", end=" ")
    console.print(str(run_dir / task.REPORT_FILE), markup=False, soft_wrap=True)


def resume_word2vec(
    run_dir: Path,
    *,
    checkpoint: Path | None = None,
    quiet: bool = False,
    refused: Sequence[str] = (),
) -> int:
    """Continue a word2vec run from its latest checkpoint; `rnnkit resume` on one comes here.

    `refused` names the `rnnkit resume` options given (max_steps, …), which a word2vec run
    has no use for; any but quiet is a ConfigError.
    """
    unused = [name for name in refused if name != "quiet"]
    if unused:
        flags = " ".join("--" + name.replace("_", "-") for name in unused)
        raise ConfigError(
            f"rnnkit resume {flags} has no meaning for a word2vec run ({run_dir}): it trains to "
            "the end of its epochs and checkpoints as its config.json says; resume it without"
        )
    from rnnkit.tasks.word2vec import train as task

    setup_logging(quiet=quiet)
    vectors = task.resume_run(run_dir, checkpoint=checkpoint, quiet=quiet)
    _print_done(vectors, run_dir)
    return 0


# `rnnkit resume`'s options that retune a Trainer run; a word2vec run refuses them (--quiet aside)
TRAINER_RESUME_OPTIONS = ("max_steps", "device", "log_every", "checkpoint_every")


def resume_from_args(args: argparse.Namespace) -> int:
    """`rnnkit resume RUN_DIR` of a word2vec run: the `resume` handler that the task's
    config.py registers (`HANDLERS`), given `rnnkit resume`'s parsed arguments."""
    given = [name for name in TRAINER_RESUME_OPTIONS if getattr(args, name, None) is not None]
    return resume_word2vec(args.run_dir, checkpoint=args.checkpoint, quiet=bool(args.quiet),
                           refused=given)  # fmt: skip


def _resume(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "resume",
        help="continue a killed or stopped training run from its latest checkpoint",
        description="Continue RUN_DIR from its latest checkpoint on the corpus and settings in"
        " its config.json; with --threads 1 the vectors equal an unbroken run's, bit for bit.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help=RUN_DIR_HELP)
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="the checkpoint to continue from (default: latest)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress lines")

    def handle(args: argparse.Namespace) -> int:
        return resume_word2vec(args.run_dir, checkpoint=args.checkpoint, quiet=args.quiet)

    parser.set_defaults(handler=handle)


def _similar(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser("similar", help="nearest neighbours of a word (cosine)")
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help=RUN_DIR_HELP)
    parser.add_argument("word", help="the word whose neighbours are listed")
    parser.add_argument("--topn", type=int, default=10, help="neighbours listed")

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.tasks.word2vec import train as task  # torch loads for this command only

        rows = task.load_run(args.run_dir).nearest(args.word, topn=args.topn)
        console.print(_neighbour_table(f"nearest to {args.word}", rows))
        return 0

    parser.set_defaults(handler=handle)


def _analogy(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "analogy",
        help="a is to b as c is to ? (b − a + c)",
        description="`analogy RUN_DIR man king woman`: man is to king as woman is to ?",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help=RUN_DIR_HELP)
    # three positionals: argparse (3.11) crashes on a tuple metavar in help and usage errors
    parser.add_argument("a", metavar="A", help="a in a : b :: c : ?, e.g. man")
    parser.add_argument("b", metavar="B", help="b, e.g. king")
    parser.add_argument("c", metavar="C", help="c, e.g. woman")
    parser.add_argument("--topn", type=int, default=10, help="answers listed")
    parser.add_argument("--method", choices=("3cosadd", "3cosmul"), default="3cosadd",
                        help="3CosAdd (b − a + c) or 3CosMul (Levy & Goldberg 2014)")  # fmt: skip

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.tasks.word2vec import train as task  # torch loads for this command only

        a, b, c = args.a, args.b, args.c
        rows = task.load_run(args.run_dir).most_similar(
            positive=[b, c], negative=[a], topn=args.topn, method=args.method
        )
        console.print(_neighbour_table(f"{a} : {b} :: {c} : ?  ({args.method})", rows))
        return 0

    parser.set_defaults(handler=handle)


def _print_evaluation(evaluation: dict[str, Any]) -> None:
    if "analogies" in evaluation:
        table = Table(title=f"analogies ({evaluation['analogies']['method']})")
        for column in ("section", "accuracy", "correct", "answered", "skipped"):
            table.add_column(column, justify="left" if column == "section" else "right")
        for name, row in evaluation["analogies"]["scores"].items():
            style = "bold" if name in ("semantic", "syntactic", "total") else None
            cells = (f"{row['accuracy']:.4f}", str(row["correct"]), str(row["answered"]))
            table.add_row(name, *cells, str(row["skipped"]), style=style)
        console.print(table)
    if evaluation.get("pairs"):
        table = Table(title="word pairs")
        for column in ("file", "Spearman ρ", "Pearson r", "pairs", "OOV"):
            table.add_column(column, justify="left" if column == "file" else "right")
        for name, row in evaluation["pairs"].items():
            table.add_row(
                name,
                f"{row['spearman']:.4f}",
                f"{row['pearson']:.4f}",
                str(row["pairs"]),
                f"{row['oov_ratio']:.1%}",
            )
        console.print(table)


def _eval(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "eval",
        help="analogy accuracy and word-pair correlation",
        description="Evaluate RUN_DIR's vectors; without --analogies/--pairs the standard sets"
        " in shared/data/word_embeddings beside the project are used.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help=RUN_DIR_HELP)
    parser.add_argument("--analogies", type=Path, default=None,
                        help="questions-words file (default: the standard set)")  # fmt: skip
    parser.add_argument("--pairs", type=Path, action="append", default=None,
                        help="a word-pair file, repeatable (default: standard sets)")  # fmt: skip
    parser.add_argument("--restrict-vocab", type=int, default=300_000,
                        help="answer analogies among the N most frequent words only")  # fmt: skip
    parser.add_argument("--method", choices=("3cosadd", "3cosmul"), default="3cosadd",
                        help="3CosAdd (b − a + c) or 3CosMul (Levy & Goldberg 2014)")  # fmt: skip

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.tasks.word2vec import train as task  # torch loads for this command only

        vectors = task.load_run(args.run_dir)
        analogies, pairs = args.analogies, args.pairs or []
        if analogies is None and not pairs:
            analogies, pairs = task.default_eval_files()
        evaluation = task.evaluate_vectors(
            vectors,
            analogies=analogies,
            pairs=pairs,
            restrict_vocab=args.restrict_vocab,
            method=args.method,
        )
        _print_evaluation(evaluation)
        return 0

    parser.set_defaults(handler=handle)


def _plot(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser("plot", help="2-D PCA / t-SNE picture of chosen words")
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help=RUN_DIR_HELP)
    parser.add_argument("words", nargs="+", metavar="WORD", help="the words to place")
    parser.add_argument("--out", type=Path, required=True,
                        help="image file, .png or .svg (required)")  # fmt: skip
    parser.add_argument("--method", choices=("pca", "tsne"), default="pca",
                        help="projection to 2-D: PCA or t-SNE")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of t-SNE")

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.represent.word2vec.plot import plot_words  # matplotlib only for this verb
        from rnnkit.tasks.word2vec import train as task

        vectors = task.load_run(args.run_dir)
        path = plot_words(vectors, args.words, args.out, method=args.method, seed=args.seed)
        console.print(str(path), markup=False, soft_wrap=True)
        return 0

    parser.set_defaults(handler=handle)


def _export(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser(
        "export", help="write the vectors in the word2vec text or binary format"
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help=RUN_DIR_HELP)
    parser.add_argument("out", type=Path, metavar="OUT", help="the file to write")
    parser.add_argument("--format", choices=("text", "binary"), default="text",
                        help="word2vec's text or binary format")  # fmt: skip

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.represent.word2vec.formats import save_vectors
        from rnnkit.tasks.word2vec import train as task  # torch loads for this command only

        vectors = task.load_run(args.run_dir)
        path = save_vectors(vectors, args.out, format=args.format)
        console.print(f"{len(vectors):,} vectors ->", end=" ")
        console.print(str(path), markup=False, soft_wrap=True)
        return 0

    parser.set_defaults(handler=handle)


def add_word2vec(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit word2vec COMMAND`: train, query, evaluate, plot and export word vectors."""
    parser = verbs.add_parser(
        "word2vec",
        help="word vectors: skip-gram / CBOW training, queries, evaluation, plots",
        description="Train word2vec vectors into a run directory and work with them.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_train, _resume, _similar, _analogy, _eval, _plot, _export):
        add(commands)

"""The `rnnkit` command line: `rnnkit <verb> [task] [--flags]`, flags generated from configs.

Each verb adds its parser in an `add_<verb>` function of a module of this package, listed in
`VERBS`. A RnnkitError is printed as one red line and the exit status is 2; other errors keep
their traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from rich.markup import escape

from rnnkit import __version__
from rnnkit.cli import (
    analyze,
    caption,
    data,
    forecast,
    predict,
    runs,
    serve,
    tag,
    translate,
    word2vec,
)
from rnnkit.console import console
from rnnkit.errors import RnnkitError

# Each entry adds one verb's parser; the parser stores its handler as `handler`.
VERBS: tuple = (
    data.add_explore,
    data.add_represent,
    runs.add_train,
    runs.add_generate,
    runs.add_resume,
    runs.add_eval,
    runs.add_plot,
    analyze.add_analyze,
    predict.add_predict,
    word2vec.add_word2vec,
    forecast.add_forecast,
    tag.add_tag,
    translate.add_translate,
    translate.add_chat,
    caption.add_caption,
    serve.add_serve,
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

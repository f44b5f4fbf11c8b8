"""The `rnnkit` command line: `rnnkit <verb> [task] [--flags]`, flags generated from configs.

Each verb adds its parser in an `add_<verb>` function. The verbs shared by every task (train,
generate, serve, …) live in this package, listed in `VERBS` and `TOOL_VERBS`; a task's own verbs
(`rnnkit tag` of the ner task, `rnnkit word2vec …`) live in its package, `rnnkit/tasks/<task>/
cli.py`, and come from the task's registration (`rnnkit.tasks.registry.task_verbs`), so adding a
task touches only its folder. The verb modules import torch, matplotlib and the task modules
inside their handlers only, so that building the parser (`rnnkit --help`, `rnnkit train charlm
--help`) stays quick;
`parsing.RnnkitParser` shows defaults and suggests the nearest flag or choice for a typo. A
RnnkitError is printed as one red line and the exit status is 2; so is an OSError
(a full or read-only disk, a missing or unreadable file), which never becomes a traceback. A
closed output pipe (`rnnkit generate RUN | head`) ends quietly with status 141 and Ctrl-C with
130, as Unix tools do. Other errors keep their traceback.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.markup import escape

from rnnkit import __version__
from rnnkit.cli import analyze, data, export, runs, serve, summary, tour
from rnnkit.cli.parsing import RnnkitParser
from rnnkit.console import console
from rnnkit.errors import RnnkitError
from rnnkit.tasks.registry import task_verbs, verb_adder

AddVerb = Callable[[argparse._SubParsersAction], None]

# Each entry adds one verb's parser; the parser stores its handler as `handler`. `rnnkit --help`
# lists the data and run verbs, then every task's own verbs, then the tools.
VERBS: tuple[AddVerb, ...] = (
    data.add_explore,
    data.add_represent,
    runs.add_train,
    runs.add_generate,
    runs.add_resume,
    runs.add_eval,
    runs.add_plot,
    analyze.add_analyze,
    summary.add_summary,
)
TOOL_VERBS: tuple[AddVerb, ...] = (export.add_export, serve.add_serve, tour.add_tour)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser; each verb stores its handler in `args.handler`."""
    parser = RnnkitParser(
        prog="rnnkit", description="Recurrent sequence models written from their equations."
    )
    parser.add_argument("--version", action="version", version=f"rnnkit {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    task_adders = [verb_adder(name) for name in task_verbs()]  # torch-free modules
    for add_verb in (*VERBS, *task_adders, *TOOL_VERBS):
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
    except BrokenPipeError:  # the reader left (`rnnkit generate RUN | head`): end quietly
        _silence_stdout()
        return 128 + signal.SIGPIPE  # 141, the status of a Unix tool killed by SIGPIPE
    except KeyboardInterrupt:  # Ctrl-C (training catches the first one itself and saves)
        return 128 + signal.SIGINT  # 130, as a shell reports a tool stopped by Ctrl-C
    except OSError as err:  # a disk or file error that no rnnkit code turned into a message
        paths = [str(value) for value in vars(args).values() if isinstance(value, Path)]
        message = os_error_message(args.verb, err, paths)
        console.print("[red]error:[/]", escape(message), soft_wrap=True)
        return 2


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit does not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a file (a test's capture)
        pass


def os_error_message(verb: str, err: OSError, paths: Sequence[str] = ()) -> str:
    """One line for an OSError: the file, the cause and, for a full or read-only disk, the fix.

    Without a file name in the error, the command's path arguments are named instead.

    >>> os_error_message("plot", OSError(28, "No space left on device", "run/loss.png"))
    'rnnkit plot: could not use run/loss.png: No space left on device; free some space'
    >>> os_error_message("plot", OSError(28, "No space left on device"), ["run", "out"])
    'rnnkit plot: could not use a file under run, out: No space left on device; free some space'
    >>> os_error_message("serve", OSError(98, "Address already in use"))
    'rnnkit serve: Address already in use'
    """
    hints = {
        errno.ENOSPC: "free some space",
        errno.EDQUOT: "free some space (disk quota exceeded)",
        errno.EROFS: "the file system is read-only; write elsewhere",
        errno.EACCES: "check the permissions",
        errno.EFBIG: "the file size limit (ulimit -f) was reached",
    }
    where = str(err.filename or "")
    if not where and paths and err.errno in hints:
        where = f"a file under {', '.join(paths)}"
    hint = hints.get(err.errno or 0)
    return (
        f"rnnkit {verb}: "
        + (f"could not use {where}: " if where else "")
        + (err.strerror or str(err))
        + (f"; {hint}" if hint else "")
    )

"""The one rich Console of rnnkit, logging set-up and progress bars for the CLI and web.

The library itself logs through `logging.getLogger(__name__)` and never prints; only the CLI
and tasks write to this console. With `quiet=True` or a non-TTY (CI) output is plain lines.

Printed to a non-terminal (a log file, a pipe) a line is never wrapped: a hint such as
`rnnkit predict runs/sentiment-… "a text"` must stay one line that can be copied and run.
On a terminal rich wraps long text at the width of the window as usual.
"""

from __future__ import annotations

import logging
from typing import Any

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class RnnkitConsole(Console):
    """A rich Console whose `print` soft-wraps (never inserts line breaks) off a terminal."""

    def print(self, *objects: Any, soft_wrap: bool | None = None, **options: Any) -> None:
        """Print as rich does; `soft_wrap` defaults to True when the output is not a terminal."""
        if soft_wrap is None and not self.is_terminal:
            soft_wrap = True
        super().print(*objects, soft_wrap=soft_wrap, **options)

    def on_broken_pipe(self) -> None:
        """The reader of our output went away (`rnnkit generate … | head`): stop printing.

        rich's default exits with status 1 from inside `print`; the BrokenPipeError goes up
        instead, so that `rnnkit.cli.main` ends the command as Unix tools do (status 141).
        """
        self.quiet = True
        raise BrokenPipeError(32, "Broken pipe")


console = RnnkitConsole(highlight=False)


def setup_logging(level: int = logging.INFO, *, quiet: bool = False) -> None:
    """Route rnnkit's log records to the console: a RichHandler on a terminal, else plain lines.

    Off a terminal (a log file, a pipe) each record is one line, "[12:00:01] WARNING  …",
    never wrapped, so the flags a message suggests can be copied whole.
    """
    handler: logging.Handler
    if console.is_terminal:
        handler = RichHandler(console=console, show_path=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(console.file)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-8s %(message)s", datefmt="[%H:%M:%S]")
        )
    logging.basicConfig(level=logging.WARNING if quiet else level, handlers=[handler], force=True)


def make_progress(*, quiet: bool = False) -> Progress:
    """A progress bar with step, extra fields (loss, throughput) and ETA; disabled when quiet."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet or not console.is_terminal,
    )

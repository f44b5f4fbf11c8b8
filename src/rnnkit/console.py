"""The one rich Console of rnnkit, logging set-up and progress bars for the CLI and web.

The library itself logs through `logging.getLogger(__name__)` and never prints; only the CLI
and tasks write to this console. With `quiet=True` or a non-TTY (CI) output is plain lines.
"""

from __future__ import annotations

import logging

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

console = Console(highlight=False)


def setup_logging(level: int = logging.INFO, *, quiet: bool = False) -> None:
    """Route rnnkit's log records to the console through a RichHandler."""
    handler = RichHandler(console=console, show_path=False, markup=False)
    logging.basicConfig(
        level=logging.WARNING if quiet else level,
        format="%(message)s",
        handlers=[handler],
        force=True,
    )


def make_progress(*, quiet: bool = False) -> Progress:
    """A progress bar with step, extra fields (loss, tokens/s) and ETA; disabled when quiet."""
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

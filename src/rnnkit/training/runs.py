"""A run directory: config.json, metrics.jsonl and checkpoints/ of one training run.

    RUN_DIR/config.json        task, task config, data, model, trainer config, versions, argv
    RUN_DIR/metrics.jsonl      one JSON object per logged step ("kind": "train") and per
                               evaluation ("kind": "eval"); in memory, `Trainer.history`
    RUN_DIR/checkpoints/       step-NNNNNNNN/ directories and the `latest`/`best` pointers
    RUN_DIR/.rnnkit-run.lock   marks an rnnkit run; its writer's lock (`run_guard.py`)

On resume, rows past the resumed step (logged by the interrupted run after its last checkpoint)
are dropped, so that the resumed run logs each step exactly once. A file that cannot be written
(a full or read-only disk, a deleted run directory) is a CheckpointError naming it and the cause;
a file of the wrong shape (config.json sections, metrics rows that are not objects) is a
ConfigError or DataError naming it.

References:
    https://jsonlines.org/
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import Any

import torch

from rnnkit import __version__
from rnnkit.errors import CheckpointError, ConfigError, DataError
from rnnkit.training.checkpoint import atomic_write_text, disk_error
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.history import History, json_line

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
OBJECT_SECTIONS = ("task_config", "trainer", "vocab", "config")  # JSON objects when present


def versions() -> dict[str, str]:
    """Versions of rnnkit, torch and Python, recorded in config.json and checkpoints."""
    return {
        "rnnkit": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def write_run_config(run_dir: Path, run_config: dict[str, Any]) -> None:
    """Write config.json (atomically), adding versions and the command line."""
    full = {**run_config, "versions": versions(), "argv": sys.argv}
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / CONFIG_FILE, json.dumps(full, indent=2) + "\n")
    except OSError as err:
        raise disk_error(f"could not write {run_dir / CONFIG_FILE}", err) from err


def read_run_config(run_dir: str | Path) -> dict[str, Any]:
    """The contents of RUN_DIR/config.json; a missing or broken file is a ConfigError."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(f"{path} not found: {run_dir} is not an rnnkit run directory")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ConfigError(f"{path} is not valid JSON: {str(err)[:200]}") from err
    except OSError as err:
        raise ConfigError(f"could not read {path}: {err.strerror or err}") from err
    if not isinstance(config, dict):
        raise ConfigError(f"{path} must hold a JSON object, got {type(config).__name__}")
    for key in OBJECT_SECTIONS:
        if key in config and not isinstance(config[key], dict):
            raise ConfigError(
                f"{path}: {key!r} must be a JSON object, got {type(config[key]).__name__}; "
                "the file was edited or damaged"
            )
    return config


class MetricsLog:
    """Appends rows to RUN_DIR/metrics.jsonl; a no-op without a run directory."""

    def __init__(self, run_dir: Path | None) -> None:
        self.path = None if run_dir is None else run_dir / METRICS_FILE
        self._held: tuple[int, list[str]] | None = None  # (step, lines) while branching
        self._kinds: tuple[str, ...] | None = None  # the kinds of rows the commit keeps

    def write(self, row: dict[str, Any]) -> None:
        """Append one JSON object as a line and flush it (or hold it, see `hold_after`)."""
        if self.path is None:
            return
        line = json_line(row)
        if self._held is not None:
            self._held[1].append(line)
            return
        try:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as err:
            raise disk_error(f"could not write {self.path}", err) from err

    def hold_after(self, step: int, *, kinds: tuple[str, ...] | None = None) -> None:
        """Keep new rows in memory until `commit`; the file's rows past `step` stay until then.

        A run resumed from an older checkpoint replaces the later rows only once it has written
        a checkpoint of its own: killed before, it leaves the file as it found it. `kinds`
        limits the rows kept at the commit to those kinds (None: all).
        """
        self._held, self._kinds = (step, []), kinds

    def commit(self) -> None:
        """Replace the rows past the held step by the rows written since (no-op unless held)."""
        if self._held is None:
            return
        step, lines = self._held
        self._held = None
        if self.path is None:
            return
        rows = read_metrics(self.path.parent) if self.path.is_file() else []
        kept = [json.dumps(row) for row in rows if row.get("step", 0) <= step and (
            self._kinds is None or row.get("kind") in self._kinds)]  # fmt: skip
        try:
            atomic_write_text(self.path, "".join(line + "\n" for line in [*kept, *lines]))
        except OSError as err:
            raise disk_error(f"could not rewrite {self.path} for the resumed run", err) from err

    def truncate_after(self, step: int) -> None:
        """Drop rows with a step past `step` and a torn last line, replacing the file atomically."""
        if self.path is None or not self.path.is_file():
            return
        kept = [row for row in read_metrics(self.path.parent) if row.get("step", 0) <= step]
        try:
            atomic_write_text(self.path, "".join(json.dumps(row) + "\n" for row in kept))
        except OSError as err:
            raise disk_error(f"could not rewrite {self.path} for the resumed run", err) from err


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of RUN_DIR/metrics.jsonl; a torn last line (a killed run) is ignored."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        raise DataError(f"{path} not found: no metrics have been logged in {run_dir}")
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"could not read {path}: {err}") from err
    for number, line in enumerate(lines, start=1):
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as err:
            if number == len(lines):  # written while the process was killed
                break
            raise DataError(f"{path}:{number} is not a JSON object: {str(err)[:200]}") from err
        if not isinstance(row, dict) or not isinstance(row.get("step", 0), int | float):
            raise DataError(
                f"{path}:{number} must be a JSON object with a numeric 'step', got {line[:80]!r}"
            )
        rows.append(row)
    return rows


def read_history(run_dir: Path | None, step: int) -> History:
    """The rows of RUN_DIR/metrics.jsonl logged up to update `step`, as a History.

    A resumed run starts its history from these: the rows past `step` belong to the
    continuation it replaces. Empty without a run directory or before any row was logged.
    """
    if run_dir is None or not (run_dir / METRICS_FILE).is_file():
        return History()
    return History(row for row in read_metrics(run_dir) if row.get("step", 0) <= step)


def run_checkpoint(run_dir: str | Path, checkpoint: str = "best") -> Path:
    """A run's "best" checkpoint (the latest when none is marked best), its "latest", or a path.

    Raises:
        CheckpointError: the run holds no checkpoint yet.
    """
    manager = CheckpointManager(Path(run_dir) / "checkpoints")
    if checkpoint == "best":  # a damaged `latest` pointer does not matter here
        path = manager.best() or manager.latest()
    else:
        path = manager.latest() if checkpoint == "latest" else Path(checkpoint)
    if path is None:
        raise CheckpointError(f"{Path(run_dir) / 'checkpoints'} holds no checkpoint yet")
    return path

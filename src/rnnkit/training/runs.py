"""A run directory: config.json, metrics.jsonl and checkpoints/ of one training run.

    RUN_DIR/config.json        task, task config, data, model, trainer config, versions, argv
    RUN_DIR/metrics.jsonl      one JSON object per logged step ("kind": "train") and per
                               evaluation ("kind": "eval")
    RUN_DIR/checkpoints/       step-NNNNNNNN/ directories and the `latest`/`best` pointers

On resume, rows past the resumed step (logged by the interrupted run after its last checkpoint)
are dropped, so that the resumed run logs each step exactly once.

References:
    https://jsonlines.org/
"""

from __future__ import annotations

import json
import math
import platform
import sys
from pathlib import Path
from typing import Any

import torch

from rnnkit import __version__
from rnnkit.errors import CheckpointError, ConfigError, DataError
from rnnkit.training.checkpoint import CheckpointManager, atomic_write_text

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"


def versions() -> dict[str, str]:
    """Versions of rnnkit, torch and Python, recorded in config.json and checkpoints."""
    return {
        "rnnkit": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def write_run_config(run_dir: Path, run_config: dict[str, Any]) -> None:
    """Write config.json (atomically), adding versions and the command line."""
    run_dir.mkdir(parents=True, exist_ok=True)
    full = {**run_config, "versions": versions(), "argv": sys.argv}
    atomic_write_text(run_dir / CONFIG_FILE, json.dumps(full, indent=2) + "\n")


def read_run_config(run_dir: str | Path) -> dict[str, Any]:
    """The contents of RUN_DIR/config.json; a missing or broken file is a ConfigError."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(f"{path} not found: {run_dir} is not an rnnkit run directory")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(config, dict):
        raise ConfigError(f"{path} must hold a JSON object, got {type(config).__name__}")
    return config


def _json_number(value: Any) -> Any:
    """Floats as JSON allows them: nan and inf become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


class MetricsLog:
    """Appends rows to RUN_DIR/metrics.jsonl; a no-op without a run directory."""

    def __init__(self, run_dir: Path | None) -> None:
        self.path = None if run_dir is None else run_dir / METRICS_FILE

    def write(self, row: dict[str, Any]) -> None:
        """Append one JSON object as a line and flush it."""
        if self.path is None:
            return
        line = json.dumps({key: _json_number(value) for key, value in row.items()})
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def truncate_after(self, step: int) -> None:
        """Drop rows with a step past `step` and a torn last line, replacing the file atomically."""
        if self.path is None or not self.path.is_file():
            return
        kept = [row for row in read_metrics(self.path.parent) if row.get("step", 0) <= step]
        atomic_write_text(self.path, "".join(json.dumps(row) + "\n" for row in kept))


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of RUN_DIR/metrics.jsonl; a torn last line (a killed run) is ignored."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        raise DataError(f"{path} not found: no metrics have been logged in {run_dir}")
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            if number == len(lines):  # written while the process was killed
                break
            raise DataError(f"{path}:{number} is not a JSON object: {err}") from err
    return rows


def run_checkpoint(run_dir: str | Path, checkpoint: str = "best") -> Path:
    """A run's "best" checkpoint (the latest when none is marked best), its "latest", or a path.

    Raises:
        CheckpointError: the run holds no checkpoint yet.
    """
    manager = CheckpointManager(Path(run_dir) / "checkpoints")
    named = {"best": manager.best() or manager.latest(), "latest": manager.latest()}
    path = named[checkpoint] if checkpoint in named else Path(checkpoint)
    if path is None:
        raise CheckpointError(f"{Path(run_dir) / 'checkpoints'} holds no checkpoint yet")
    return path

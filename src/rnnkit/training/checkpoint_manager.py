"""A run's checkpoints directory: save, the `latest` and `best` pointers, keep-last-N, keep-best.

    RUN_DIR/checkpoints/step-NNNNNNNN/   one checkpoint each (`rnnkit.training.checkpoint`)
    RUN_DIR/checkpoints/latest           the name of the newest complete checkpoint
    RUN_DIR/checkpoints/best             the name of the one with the best monitored metric

A pointer is replaced atomically after its checkpoint is complete, so it always names a whole
checkpoint; a pointer that cannot be replaced (a full or read-only disk) keeps naming its
previous one. Pruning never deletes what a pointer names.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from torch import Tensor

from rnnkit.errors import CheckpointError
from rnnkit.training.checkpoint import (
    atomic_write_text,
    disk_error,
    remove_checkpoint,
    step_of,
    write_checkpoint,
)

logger = logging.getLogger(__name__)


class CheckpointManager:
    """Checkpoints under one directory: save, `latest`/`best` pointers, keep-last-N, keep-best."""

    def __init__(self, root: str | Path, *, keep_last: int = 3, keep_best: bool = True) -> None:
        self.root = Path(root)
        self.keep_last = keep_last
        self.keep_best = keep_best
        self.superseded: list[Path] = []  # a replaced continuation's, removed at the next save
        self._best_after: Path | None = None  # what `best` names once they are removed

    def save(
        self,
        step: int,
        tensors: dict[str, dict[str, Tensor]],
        state: dict[str, Any],
        *,
        is_best: bool = False,
    ) -> Path:
        """Write the checkpoint of `step`, move `latest` (and `best`) to it, prune old ones.

        A pointer that cannot be replaced keeps naming its previous, intact checkpoint. When
        `checkpoints/` is deleted during the save (its run directory still there), the save is
        done once more, into a new `checkpoints/`.
        """
        try:
            return self._save(step, tensors, state, is_best=is_best)
        except CheckpointError as err:
            if not isinstance(err.__cause__, FileNotFoundError) or not self.root.parent.is_dir():
                raise
            logger.warning("%s vanished during a save; saving again", self.root)
            return self._save(step, tensors, state, is_best=is_best)

    def _save(
        self, step: int, tensors: dict[str, dict[str, Tensor]], state: dict[str, Any], *,
        is_best: bool,
    ) -> Path:  # fmt: skip
        path = self.root / f"step-{step:08d}"
        path = write_checkpoint(path, tensors, state, replace=path in self.superseded)
        try:
            atomic_write_text(self.root / "latest", path.name + "\n")
            if self.superseded:
                self._drop_superseded(path)
            if is_best and self.keep_best:
                atomic_write_text(self.root / "best", path.name + "\n")
            self.prune()
        except OSError as err:
            raise disk_error(f"wrote {path} but could not update its pointers", err) from err
        return path

    def supersede(self, later: list[Path], best: Path | None) -> None:
        """Remove `later` (checkpoints of a continuation that a resume from an older checkpoint
        replaces) once the next checkpoint is written, not before: a run killed in between
        loses nothing. `best` is what the `best` pointer names then, if it named one of them.
        """
        self.superseded, self._best_after = list(later), best

    def _drop_superseded(self, written: Path) -> None:
        with contextlib.suppress(CheckpointError):
            if self._pointer("best") in self.superseded:
                if self._best_after is not None:
                    atomic_write_text(self.root / "best", self._best_after.name + "\n")
                else:
                    (self.root / "best").unlink()
        dropped = [path for path in self.superseded if path != written]
        for path in dropped:
            if path.exists() or path.is_symlink():
                remove_checkpoint(path)
        self.superseded = []
        if dropped:
            logger.warning(
                "%s written: removed %s of the continuation it replaces", written.name,
                ", ".join(path.name for path in dropped),
            )  # fmt: skip

    def _pointer(self, name: str) -> Path | None:
        pointer = self.root / name
        if not pointer.exists():
            return None
        try:
            target = self.root / pointer.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
            raise CheckpointError(
                f"{pointer} cannot be read ({reason}); it should hold a checkpoint's name. "
                f"{self._choices()}"
            ) from err
        if step_of(target) is None or not target.is_dir():
            raise CheckpointError(
                f"{pointer} points to {target.name[:80]!r}, which is not a checkpoint here. "
                f"{self._choices()}"
            )
        return target

    def _choices(self) -> str:
        names = [path.name for path in self.checkpoints()]
        if not names:
            return "There is no checkpoint here."
        return f"Checkpoints here: {', '.join(names)}; pass one with --checkpoint PATH."

    def latest(self) -> Path | None:
        """The checkpoint the `latest` pointer names, None before the first.

        Without the pointer (deleted by hand, or a run killed before writing it) the newest
        complete checkpoint is returned, with a warning.
        """
        pointer = self._pointer("latest")
        if pointer is not None:
            return pointer
        found = self.checkpoints()
        if found:
            logger.warning("%s is missing; using the newest checkpoint %s", self.root / "latest",
                           found[-1])  # fmt: skip
        return found[-1] if found else None

    def best(self) -> Path | None:
        """The checkpoint with the best monitored metric, None when there is none."""
        return self._pointer("best")

    def checkpoints(self) -> list[Path]:
        """All complete checkpoints, oldest first."""
        if not self.root.is_dir():
            return []
        found = [p for p in self.root.iterdir() if p.is_dir() and step_of(p) is not None]
        return sorted(found, key=lambda p: step_of(p) or 0)

    def prune(self) -> None:
        """Delete all but the newest `keep_last` checkpoints and the best; drop stale temp files.

        The checkpoints that `latest` and `best` name are always kept; a pointer that names
        nothing (its checkpoint deleted by hand) is ignored here rather than stopping the run.
        """
        keep = set(self.checkpoints()[-self.keep_last :])
        for pointer in ("latest", "best"):
            with contextlib.suppress(CheckpointError):
                keep.add(self._pointer(pointer))
        for path in self.checkpoints():
            if path not in keep:
                remove_checkpoint(path)
        for stale in [*self.root.glob(".tmp-step-*"), *self.root.glob(".*.tmp-*")]:
            if not stale.name.endswith(f"-{os.getpid()}"):  # a killed run's; ours is in use
                with contextlib.suppress(OSError):
                    shutil.rmtree(stale) if stale.is_dir() else stale.unlink()

"""Guards of a run directory: one writer, never a user's own folder, the same data on resume.

    RUN_DIR/.rnnkit-run.lock   marks the folder as an rnnkit run; the one process writing the
                               run holds an flock(2) on it and writes its PID into it
    config.json "data_digest"  sha256, bytes and file count of the training data

A run directory has one writer: `train` and `resume` hold the lock for as long as they run, and
the kernel drops it when the process dies, so a killed run leaves no stale lock. A non-empty
folder that is not an rnnkit run (no lock file, and no config.json of rnnkit's) is refused as a
new run's directory, so that a user's own files are never overwritten. A run stopped before its
first checkpoint holds nothing to resume, so a new `train` replaces it (`start_afresh`).
`resume` refuses data that no longer matches the digest recorded at train time.

References:
    flock(2), https://man7.org/linux/man-pages/man2/flock.2.html
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rnnkit.errors import CheckpointError, ConfigError, DataError

try:
    import fcntl
except ImportError:  # not POSIX: no lock (rnnkit runs on Linux and macOS)
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

LOCK_FILE = ".rnnkit-run.lock"
CONFIG_FILE = "config.json"  # as training/runs.py, which imports torch: the lock is taken first
METRICS_FILE = "metrics.jsonl"
_held: dict[Path, tuple[int, int]] = {}  # run dirs this process holds: (fd, nesting depth)


def is_run_dir(run_dir: str | Path) -> bool:
    """Whether `run_dir` is an rnnkit run: it holds LOCK_FILE, or (a run made before the lock
    file existed) a config.json object with "task" and the rnnkit version under "versions"."""
    run_dir = Path(run_dir)
    if (run_dir / LOCK_FILE).is_file():
        return True
    try:
        config = json.loads((run_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    found = isinstance(config, dict) and isinstance(config.get("versions"), dict)
    found = found and "export" not in config  # an `rnnkit export` folder: never trained into
    return found and "task" in config and "rnnkit" in config["versions"]


def check_new_run_dir(run_dir: str | Path) -> None:
    """ConfigError unless `run_dir` is missing, empty or an rnnkit run: never write into a
    folder of the user's own files (its config.json or plots would be overwritten)."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"--run-dir {run_dir} is a file, not a folder; give a new folder")
    if not run_dir.is_dir() or is_run_dir(run_dir):
        return
    found = sorted(path.name for _, path in zip(range(6), run_dir.iterdir(), strict=False))
    if found:
        shown = ", ".join(found[:5]) + (", …" if len(found) > 5 else "")
        raise ConfigError(
            f"{run_dir} is not empty ({shown}) and is not an rnnkit run (no {LOCK_FILE} or "
            "rnnkit config.json), so training would overwrite those files; give a new or "
            "empty --run-dir"
        )


def disk_error(action: str, err: OSError) -> CheckpointError:
    """`rnnkit.training.checkpoint.disk_error`, imported when needed (it loads torch)."""
    from rnnkit.training.checkpoint import disk_error as make

    return make(action, err)


def _holder(path: Path) -> str:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        pid = path.read_text(encoding="utf-8").strip()
        if pid.isdigit():
            return f" (PID {pid})"
    return ""


def _open_lock(path: Path) -> int | None:
    """A descriptor of the lock file; None on a read-only or unwritable run without one."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        if err.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise disk_error(f"could not create {path}", err) from err
    try:  # a read-only run: whatever fails to be written fails later, with its own message
        return os.open(path, os.O_RDONLY)
    except OSError:
        return None


@contextlib.contextmanager
def run_lock(run_dir: str | Path) -> Iterator[None]:
    """Be the one writer of `run_dir` during the block (it is created when missing).

    An exclusive flock(2) on RUN_DIR/.rnnkit-run.lock, taken without waiting; the kernel
    releases it when the process exits or is killed, so a stale lock file never blocks.
    Nested calls of one process on the same run are allowed.

    Raises:
        ConfigError: another process holds the lock; the message names it and its PID.
    """
    run_dir = Path(run_dir)
    key = run_dir.resolve()
    if key in _held:
        fd, depth = _held[key]
        _held[key] = (fd, depth + 1)
        try:
            yield
        finally:
            _held[key] = (fd, depth)
        return
    created = not run_dir.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise disk_error(f"could not create {run_dir}", err) from err
    fd = _open_lock(run_dir / LOCK_FILE) if fcntl is not None else None
    if fd is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise disk_error(f"could not lock {run_dir / LOCK_FILE}", err) from err
            raise ConfigError(
                f"{run_dir} is being written by another rnnkit process"
                f"{_holder(run_dir / LOCK_FILE)}; a run directory takes one writer: wait for "
                "it to end (or stop it), or give another --run-dir"
            ) from None
        with contextlib.suppress(OSError):  # the PID is for the message above only
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
    _held[key] = (fd if fd is not None else -1, 1)
    try:
        yield
    finally:
        del _held[key]
        if created:  # nothing written (bad data, say): leave no folder behind
            with contextlib.suppress(OSError):
                if [path.name for path in run_dir.iterdir()] == [LOCK_FILE]:
                    (run_dir / LOCK_FILE).unlink()
                    run_dir.rmdir()
        if fd is not None:
            os.close(fd)  # releases the flock


def start_afresh(run_dir: str | Path) -> None:
    """Remove config.json and metrics.jsonl of a run stopped before its first checkpoint.

    Such a run holds nothing to resume from, so a new `train` into its folder replaces it: its
    config.json (another model, perhaps) would otherwise stay, and its rows mix with the new.
    """
    run_dir = Path(run_dir)
    old = [run_dir / name for name in (CONFIG_FILE, METRICS_FILE) if (run_dir / name).exists()]
    if not old:
        return
    logger.warning(
        "%s holds a run stopped before its first checkpoint; replacing its %s",
        run_dir, " and ".join(path.name for path in old),
    )  # fmt: skip
    for path in old:
        try:
            path.unlink()
        except OSError as err:
            raise disk_error(f"could not replace {path}", err) from err


def data_digest(data: str | Path, *, skip: str | Path | None = None) -> dict[str, Any] | None:
    """sha256, bytes and file count of a run's data (a file, or a folder's regular files).

    A folder is hashed by each file's relative name and content, in sorted order, leaving out
    `skip` (the run directory, when it lies inside the data folder). None for anything else
    (a device, a FIFO: nothing to compare on resume).
    """
    root = Path(data)
    if root.is_file():
        files = [(root.name, root)]
    elif root.is_dir():
        skipped = None if skip is None else Path(skip).resolve()
        files = []
        for folder, names, file_names in os.walk(root):
            names[:] = sorted(n for n in names if (Path(folder) / n).resolve() != skipped)
            for name in sorted(file_names):
                path = Path(folder) / name
                if path.is_file():
                    files.append((path.relative_to(root).as_posix(), path))
    else:
        return None
    digest, size = hashlib.sha256(), 0
    for name, path in files:
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    return {"sha256": digest.hexdigest(), "bytes": size, "files": len(files)}


def check_same_data(run_dir: str | Path, now: dict[str, Any] | None) -> None:
    """DataError when the run's data differs from the digest its config.json recorded.

    Runs written before the digest was recorded (no "data_digest") are not checked.
    """
    from rnnkit.training.runs import read_run_config

    saved = read_run_config(run_dir).get("data_digest")
    if not isinstance(saved, dict) or saved.get("sha256") == (now or {}).get("sha256"):
        return
    data = read_run_config(run_dir).get("data")
    found = (
        "cannot be read"
        if now is None
        else (f"has sha256 {now['sha256'][:12]}… ({now['bytes']:,} bytes in {now['files']} files)")
    )
    raise DataError(
        f"the data of {run_dir} changed since it was trained: {data} {found}, config.json "
        f"recorded {str(saved.get('sha256'))[:12]}… ({saved.get('bytes')} bytes in "
        f"{saved.get('files')} files); the checkpoint's vocabulary and data position belong to "
        "that data. Restore it, or train a new run"
    )

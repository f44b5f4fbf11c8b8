"""Checkpoints as directories of safetensors + JSON, written atomically and verified on load.

A checkpoint `step-00001200/` holds `model.safetensors` (the weights), `optimizer.safetensors`
(optimizer state tensors under flattened names), `loop.safetensors` (the carried recurrent
state, often empty) and `state.json` (format version, versions, config, step, epoch, RNG
states, data position, best metric, the non-tensor optimizer state and the sha256 and size of
every tensor file). Since format version 2, state.json also holds `state_sha256`, the sha256 of
its own content in canonical JSON (keys sorted, no spaces, ASCII), so a flipped bit or a
truncation anywhere in a checkpoint is a CheckpointError rather than a wrong number or a
failure deep inside resuming; version 1 checkpoints, which lack it, still load. Nothing is
pickled; loading never calls `torch.load`.

Writing goes to a hidden temporary directory; every file is fsynced, the directory is renamed
into place with `os.replace` and the parent is fsynced. A run killed mid-write leaves only the
temporary directory, which the next save removes; an existing checkpoint is never overwritten.
The `latest` and `best` pointers (`checkpoint_manager.py`) are replaced the same way. A disk
error (full, read-only, a directory deleted mid-run) is a CheckpointError saying what could not
be written and why; the previous checkpoints and pointers are then untouched, and no temporary
file is left behind.

References:
    https://huggingface.co/docs/safetensors (format)
    https://lwn.net/Articles/457667/ (fsync the file, then its directory, for a durable rename)
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any, NamedTuple

from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import Tensor

from rnnkit.errors import CheckpointError

logger = logging.getLogger(__name__)

FORMAT = "rnnkit-checkpoint"
FORMAT_VERSION = 2  # 2 adds state_sha256
READABLE_VERSIONS = (1, 2)
DIGEST_KEY = "state_sha256"
TENSOR_FILES = ("model.safetensors", "optimizer.safetensors", "loop.safetensors")
STATE_FILE = "state.json"
_STEP_DIR = re.compile(r"^step-(\d{8,})$")
_OBJECTS = ("config", "optimizer", "loop", "rng", "data_position", "carry", "schedule")


class Checkpoint(NamedTuple):
    """A verified checkpoint: its directory, tensors per file, and state.json's contents."""

    path: Path
    tensors: dict[str, dict[str, Tensor]]
    state: dict[str, Any]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durable(path: Path, data: bytes) -> None:
    """Write bytes, flush them to the OS and fsync them to disk."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` by `text` so that a reader sees the old or the new file, never a mix.

    Raises:
        OSError: the file could not be written; `path` is unchanged and no temporary is left.
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        _write_durable(tmp, text.encode("utf-8"))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def disk_error(action: str, err: OSError) -> CheckpointError:
    """A CheckpointError for an OSError while writing: what failed, why, and what to do.

    >>> str(disk_error("could not write run/metrics.jsonl", OSError(28, "No space left")))[:51]
    'could not write run/metrics.jsonl: No space left; e'
    """
    where = f" ({err.filename})" if err.filename and str(err.filename) not in action else ""
    if err.errno == errno.ENOENT:
        advice = "a directory of the run was deleted while it ran; restore it or start anew"
    else:
        advice = (
            "earlier checkpoints are intact. Free space or make the run directory writable, "
            "then `rnnkit resume` the run"
        )
    return CheckpointError(f"{action}{where}: {err.strerror or err}; {advice}")


def _dumps(value: Any, indent: str = "") -> str:
    """Indented JSON, with each list of plain numbers (RNG states) kept on one line."""
    inner = indent + " "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(str(k))}: {_dumps(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list | tuple) and value:
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return json.dumps(list(value), separators=(",", ":"))
        return "[\n" + ",\n".join(inner + _dumps(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value)


def remove_checkpoint(path: Path) -> None:
    """Delete a checkpoint directory; one that is a symlink (moved to another disk by hand)
    loses its link only, its target is left where the user put it."""
    if path.is_symlink():
        path.unlink()
        logger.warning("removed the link %s; its target %s is left", path, os.path.realpath(path))
    else:
        shutil.rmtree(path)


def _swap_in(tmp: Path, directory: Path) -> None:
    """Put complete `tmp` in place of an existing checkpoint `directory`, removing the old."""
    aside = directory.with_name(f".tmp-{directory.name}-old-{os.getpid()}")
    os.rename(directory, aside)
    os.replace(tmp, directory)
    remove_checkpoint(aside)


def write_checkpoint(
    directory: Path,
    tensors: dict[str, dict[str, Tensor]],
    state: dict[str, Any],
    *,
    replace: bool = False,
) -> Path:
    """Write a checkpoint to `directory` atomically; an existing `directory` is left untouched.

    Args:
        directory: final path, e.g. RUN_DIR/checkpoints/step-00001200.
        tensors: one dict of CPU tensors per file name in TENSOR_FILES.
        state: JSON-ready contents of state.json; "format", "format_version" and "files" are
            added here.
        replace: replace an existing `directory` (a continuation a resume replaces), once the
            new checkpoint is complete beside it.
    """
    if directory.exists() and not replace:
        return directory
    tmp = directory.with_name(f".tmp-{directory.name}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        directory.parent.mkdir(exist_ok=True)  # not its parents: a deleted run stays deleted
        tmp.mkdir()
        files = {}
        for name in TENSOR_FILES:
            data = save_tensors(
                tensors.get(name, {}), metadata={"format": "pt", "writer": "rnnkit"}
            )
            _write_durable(tmp / name, data)
            files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        full_state = {"format": FORMAT, "format_version": FORMAT_VERSION, **state, "files": files}
        full_state[DIGEST_KEY] = state_digest(json.loads(_dumps(full_state)))  # as read back
        _write_durable(tmp / STATE_FILE, (_dumps(full_state) + "\n").encode())
        _fsync_dir(tmp)
        if directory.exists() or directory.is_symlink():
            _swap_in(tmp, directory)
        else:
            os.replace(tmp, directory)
        _fsync_dir(directory.parent)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise disk_error(f"could not write checkpoint {directory}", err) from err
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def state_digest(state: dict[str, Any]) -> str:
    """sha256 of `state` without its DIGEST_KEY, as canonical JSON (sorted keys, ASCII)."""
    content = {key: value for key, value in state.items() if key != DIGEST_KEY}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _check_digest(state_path: Path, state: dict[str, Any]) -> None:
    """CheckpointError unless state.json matches its state_sha256 (required from version 2)."""
    if DIGEST_KEY not in state and state.get("format_version") == 1:
        return  # written before the digest existed
    try:
        intact = state.get(DIGEST_KEY) == state_digest(state)
    except (RecursionError, TypeError, ValueError) as err:
        raise CheckpointError(f"{state_path} is corrupt: {err}") from err
    if not intact:
        raise CheckpointError(
            f"{state_path} is corrupt or was edited: its content does not match its "
            f"{DIGEST_KEY!r}; resume from another checkpoint"
        )


def _read_state(path: Path) -> dict[str, Any]:
    state_path = path / STATE_FILE
    if not path.is_dir():
        raise CheckpointError(
            f"{path} is not an rnnkit checkpoint directory (expected a directory holding "
            f"{STATE_FILE} and {', '.join(TENSOR_FILES)})"
        )
    if not state_path.is_file():
        raise CheckpointError(
            f"{state_path} is missing: {path} is not a complete rnnkit checkpoint"
        )
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as err:  # not UTF-8 or JSON, too deep, a huge int
        raise CheckpointError(
            f"{state_path} is corrupt or truncated (not valid JSON: {str(err)[:200]})"
        ) from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(
            f"{state_path} is not an rnnkit checkpoint (format {found!r}, expected {FORMAT!r})"
        )
    version = state.get("format_version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise CheckpointError(
            f"{state_path} has checkpoint format version {version!r} (written by rnnkit "
            f"{state.get('rnnkit_version')}); this rnnkit reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}. Use the rnnkit version that wrote it."
        )
    return state


def _read_tensor_file(path: Path, expected: object) -> dict[str, Tensor]:
    if not isinstance(expected, dict):
        raise CheckpointError(
            f"{path.parent / STATE_FILE} does not list {path.name} with its sha256 and bytes"
        )
    if not path.is_file():
        raise CheckpointError(f"{path} is missing")
    size = expected.get("bytes")
    if type(size) is not int or size < 0:
        raise CheckpointError(f"{path.parent / STATE_FILE} gives {path.name} no size in bytes")
    try:  # the size is compared before reading: a huge (or sparse) file is never read whole
        with open(path, "rb") as handle:
            found = os.fstat(handle.fileno()).st_size
            data = handle.read(size + 1) if found == size else b""
    except OSError as err:
        raise CheckpointError(f"could not read {path}: {err.strerror or err}") from err
    if found != size or len(data) != size:
        raise CheckpointError(
            f"{path} is truncated or was changed: {found if found != size else len(data)} "
            f"bytes, state.json says {size}"
        )
    if hashlib.sha256(data).hexdigest() != expected.get("sha256"):
        raise CheckpointError(f"{path} is corrupt: its sha256 does not match the one in state.json")
    try:
        return load_tensors(data)
    except (SafetensorError, ValueError) as err:
        raise CheckpointError(f"{path} is not a valid safetensors file: {err}") from err


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read and verify a checkpoint directory; any problem is a CheckpointError naming the file."""
    path = Path(path)
    state = _read_state(path)
    files = state.get("files")
    if not isinstance(files, dict):
        raise CheckpointError(f"{path / STATE_FILE} lacks the 'files' table of tensor files")
    tensors = {name: _read_tensor_file(path / name, files.get(name)) for name in TENSOR_FILES}
    _check_digest(path / STATE_FILE, state)  # so the messages above stay specific
    _check_types(path / STATE_FILE, state)  # a faulty writer: intact, but of the wrong types
    return Checkpoint(path, tensors, state)


def _check_types(state_path: Path, state: dict[str, Any]) -> None:
    """CheckpointError unless "step"/"epoch" are integers and the sections present are objects."""
    for key, value in state.items():
        if key in ("step", "epoch") and type(value) is not int:
            expected = "an integer"
        elif key in _OBJECTS and not isinstance(value, dict):
            expected = "a JSON object"
        else:
            continue
        raise CheckpointError(
            f"{state_path}: {key!r} must be {expected}, got {type(value).__name__} "
            f"{json.dumps(value)[:40]}; the checkpoint was written by a faulty tool or edited"
        )


def step_of(path: Path) -> int | None:
    """The step of a `step-NNNNNNNN` checkpoint directory name, None for other names."""
    match = _STEP_DIR.match(path.name)
    return int(match.group(1)) if match else None

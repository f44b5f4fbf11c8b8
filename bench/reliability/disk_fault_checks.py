"""Shared checks of the disk-faults campaign: run `rnnkit` in a subprocess, judge its output,
fingerprint checkpoints, and mount the small tmpfs file systems (or their non-root fallbacks).

References: bench/reliability/disk_faults.py (the campaign and what each check means).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from rnnkit.errors import RnnkitError
from rnnkit.training import read_checkpoint

TINY = ["--max-chars", "20000", "--batch-size", "4", "--seq-len", "16", "--embed-dim", "8",
        "--hidden-size", "16", "--num-layers", "1", "--samples", "0", "--eval-every", "6",
        "--checkpoint-every", "3", "--keep-last", "20", "--log-every", "1", "--quiet",
        "--device", "cpu", "--seed", "3"]  # fmt: skip
ENV = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
GENERATE = ["--checkpoint", "latest", "--length", "20", "--seed", "1"]
COMMANDS = {  # `serve` loads the run's "best" checkpoint as `rnnkit serve` does, then stops
    "resume": lambda run: ["resume", str(run), "--max-steps", "15"],
    "generate": lambda run: ["generate", str(run), *GENERATE],
    "eval": lambda run: ["eval", str(run)],
    "serve": lambda run: ["serve", str(run), "--port", "0"],
}
# `python -c` runs the CLI; for `serve`, run_server returns at once (the models are loaded).
RUNNER = (
    "import sys\n"
    "if sys.argv[1:2] == ['serve']:\n"
    "    import rnnkit.cli.serve as serve; serve.run_server = lambda app, sock, host: None\n"
    "from rnnkit.cli import main\nraise SystemExit(main(sys.argv[1:]))"
)
# Defects this campaign found, by case group; each has a regression test (see the report).


def cli(*args: str) -> list[str]:
    """The argv of `rnnkit ARGS` (`python -c RUNNER ARGS`)."""
    return [sys.executable, "-c", RUNNER, *args]


def run_cli(args: list[str], preexec: Callable[[], None] | None = None) -> tuple[int, str]:
    """Exit status and stdout+stderr of `rnnkit ARGS` in a subprocess."""
    proc = subprocess.run(
        cli(*args), env=ENV, capture_output=True, text=True, timeout=300, preexec_fn=preexec
    )
    return proc.returncode, proc.stdout + proc.stderr


def clear_error(status: int, output: str, *needles: str) -> str:
    """'' when the output is one `error:` line holding each of `needles`, exit 2, no traceback."""
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    if "Traceback" in output:
        return f"traceback: {output.strip().splitlines()[-1][:160]}"
    if status != 2 or len(lines) != 1:
        return f"exit {status}, {len(lines)} error lines: {output.strip()[-200:]!r}"
    lacking = [needle for needle in needles if needle not in lines[0]]
    return f"error line lacks {lacking}: {lines[0][:300]}" if lacking else ""


def succeeded(status: int, output: str) -> str:
    """'' when the command exited 0 without a traceback."""
    if status != 0 or "Traceback" in output:
        return f"expected success, got exit {status}: {output.strip()[-200:]!r}"
    return ""


def fingerprint(run: Path) -> dict[str, str]:
    """sha256 of every file inside the checkpoint directories of `run`."""
    return {
        str(path.relative_to(run)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(run.glob("checkpoints/step-*/*"))
        if path.is_file()
    }


def intact(before: dict[str, str], run: Path, damaged: str = "", *, debris: bool = False) -> str:
    """'' when every file of `before` is unchanged, its checkpoint (bar `damaged`) loads and
    no `.tmp-*` file is left (allowed with `debris`: a read-only disk cannot be cleaned)."""
    after = fingerprint(run)
    changed = [name for name, digest in before.items() if after.get(name) != digest]
    if changed:
        return f"changed or lost: {changed[:3]}"
    for directory in sorted({Path(name).parent for name in before}):
        if damaged and directory.name == damaged:
            continue
        try:
            read_checkpoint(run / directory)
        except RnnkitError as err:
            return f"{directory} no longer loads: {err}"
    left = [str(p.relative_to(run)) for p in run.rglob("*") if ".tmp-" in p.name]
    return f"debris left: {left[:3]}" if left and not debris else ""


# ----------------------------------------------------------------- mounts and their fallbacks


def can_mount(base: Path) -> bool:
    """True when this process may mount a tmpfs (root with CAP_SYS_ADMIN, `mount` installed)."""
    probe = base / "probe"
    probe.mkdir(parents=True, exist_ok=True)
    command = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)]
    try:
        if subprocess.run(command, capture_output=True, timeout=30).returncode != 0:
            return False
    except (OSError, subprocess.TimeoutExpired):  # no `mount` program
        return False
    subprocess.run(["umount", str(probe)], check=True)
    return True


@contextlib.contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at `path` with `options`, unmounted (lazily if busy) on exit."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=False)


def remount(path: Path, options: str) -> None:
    """`mount -o remount,OPTIONS PATH`."""
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


def file_size_limit(limit: int) -> Callable[[], None]:
    """A preexec_fn: files may not grow past `limit` bytes (EFBIG), SIGXFSZ ignored."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def pages(run: Path, pattern: str) -> int:
    """Bytes that the files matching `pattern` take on a tmpfs (whole 4 KiB pages)."""
    return sum(-(-p.stat().st_size // 4096) * 4096 for p in run.glob(pattern) if p.is_file())


def train_argv(run: Path, steps: int) -> list[str]:
    """`rnnkit train charlm` on the tiny config into `run` for `steps` steps."""
    return ["train", "charlm", *TINY, "--max-steps", str(steps), "--run-dir", str(run)]


class Watched:
    """`rnnkit ARGS` in the background, fingerprinting each checkpoint as it appears."""

    def __init__(self, args: list[str], run: Path, preexec: Callable[[], None] | None = None):
        self.run, self.seen = run, {}
        self.process = subprocess.Popen(
            cli(*args), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            preexec_fn=preexec,
        )  # fmt: skip

    def _look(self) -> None:
        for step_dir in self.run.glob("checkpoints/step-*"):
            name = f"checkpoints/{step_dir.name}/"
            if not any(key.startswith(name) for key in self.seen):
                with contextlib.suppress(OSError):
                    self.seen.update(fingerprint_dir(self.run, step_dir))

    def until(self, path: Path, timeout: float = 120) -> bool:
        """Fingerprint checkpoints until `path` exists; False when the run ended first."""
        deadline = time.monotonic() + timeout
        while not path.exists():
            self._look()
            if self.process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        self._look()
        return True

    def finish(self) -> tuple[int, str]:
        """Wait for the end; the exit status and output."""
        while self.process.poll() is None:
            self._look()
            time.sleep(0.005)
        output = self.process.stdout.read() if self.process.stdout else ""
        return self.process.returncode, output


def fingerprint_dir(run: Path, step_dir: Path) -> dict[str, str]:
    """sha256 of the files of one checkpoint directory, keyed by path relative to `run`."""
    return {
        str(path.relative_to(run)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(step_dir.iterdir())
    }


def remove(path: Path) -> None:
    """Delete a file or a directory tree that a running process may still be writing into."""
    while path.exists():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def latest_loads(run: Path) -> str:
    """'' when `latest` names a checkpoint that loads."""
    try:
        name = (run / "checkpoints" / "latest").read_text().strip()
        read_checkpoint(run / "checkpoints" / name)
    except (OSError, RnnkitError) as err:
        return f"latest does not load: {err}"
    return ""

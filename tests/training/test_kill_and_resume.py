"""A run killed by SIGKILL, or stopped by SIGTERM, resumes to exactly the uninterrupted run.

Each run is `tests/training/driver.py` (the `rnnkit` CLI with a small registered test task) in
its own process; losses are compared bit for bit through the runs' metrics.jsonl.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from rnnkit.training import CheckpointManager, read_checkpoint, read_metrics

DRIVER = Path(__file__).with_name("driver.py")
MAX_STEPS = 30
TRAIN = [
    "train", "tiny", "--max-steps", str(MAX_STEPS), "--checkpoint-every", "5",
    "--eval-every", "10", "--log-every", "1", "--quiet", "--device", "cpu", "--lr", "0.01",
    "--dropout", "0.2", "--seed", "7",
]  # fmt: skip
SLOW = ["--step-delay", "0.03"]  # ~1 s of training: time to interrupt it

pytestmark = pytest.mark.slow


def _launch(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.Popen(
        [sys.executable, str(DRIVER), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen, expected: int = 0) -> None:
    output, _ = process.communicate(timeout=120)
    assert process.returncode == expected, output


def _rows(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    return [row for row in read_metrics(run_dir) if row["kind"] == kind]


def _wait_for_step(run_dir: Path, step: int, process: subprocess.Popen) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be interrupted"
        if (run_dir / "metrics.jsonl").is_file():
            logged = [row["step"] for row in _rows(run_dir, "train")]
            if logged and logged[-1] >= step:
                return logged[-1]
        time.sleep(0.005)
    raise AssertionError(f"step {step} was not reached within 60 s")


class Unbroken:
    """The uninterrupted run, started at once in the background and awaited when needed."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.process: subprocess.Popen | None = _launch(*TRAIN, "--run-dir", str(run_dir))

    def result(self) -> Path:
        if self.process is not None:
            _finish(self.process)
            self.process = None
        return self.run_dir


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory: pytest.TempPathFactory) -> Unbroken:
    return Unbroken(tmp_path_factory.mktemp("unbroken") / "run")


def _assert_same_run(resumed: Path, reference: Unbroken, note: str) -> None:
    unbroken = reference.result()
    ours, theirs = _rows(resumed, "train"), _rows(unbroken, "train")
    assert [r["step"] for r in ours] == list(range(1, MAX_STEPS + 1)), note
    assert [r["loss"] for r in ours] == [r["loss"] for r in theirs], note  # bit-exact
    assert [r["grad_norm"] for r in ours] == [r["grad_norm"] for r in theirs], note
    assert _rows(resumed, "eval") == _rows(unbroken, "eval"), note
    final = [
        read_checkpoint(CheckpointManager(d / "checkpoints").latest()).tensors["model.safetensors"]
        for d in (resumed, unbroken)
    ]
    for name, tensor in final[0].items():
        assert torch.equal(tensor, final[1][name]), f"{name} differs; {note}"


def test_sigkill_at_a_random_step_then_resume_is_exact(unbroken: Unbroken, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    kill_after = random.randint(6, MAX_STEPS - 6)  # after the first checkpoint (step 5)
    process = _launch(*TRAIN, *SLOW, "--run-dir", str(run_dir))
    reached = _wait_for_step(run_dir, kill_after, process)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    note = f"killed after step {reached} (aimed at {kill_after})"
    latest = CheckpointManager(run_dir / "checkpoints").latest()
    assert latest is not None, note
    assert read_checkpoint(latest).state["step"] <= reached, note
    _finish(_launch("resume", str(run_dir), "--quiet"))
    _assert_same_run(run_dir, unbroken, note)


def test_sigterm_stops_cleanly_with_a_checkpoint_then_resume_is_exact(
    unbroken: Unbroken, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    process = _launch(*TRAIN, *SLOW, "--run-dir", str(run_dir))
    _wait_for_step(run_dir, 12, process)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, output
    assert "signal at step" in output
    stopped_at = _rows(run_dir, "train")[-1]["step"]
    latest = CheckpointManager(run_dir / "checkpoints").latest()
    assert read_checkpoint(latest).state["step"] == stopped_at  # the step it stopped after
    _finish(_launch("resume", str(run_dir), "--quiet"))
    _assert_same_run(run_dir, unbroken, f"stopped by SIGTERM after step {stopped_at}")

"""Two processes over gloo on loopback (torchrun) equal one process on the combined batch."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import torch

from models import TinyTaskConfig, register_tiny_task
from rnnkit import tasks
from rnnkit.errors import ConfigError
from rnnkit.training import CheckpointManager, TrainerConfig, read_checkpoint, read_metrics
from rnnkit.training.distributed import (
    DEFAULT_TIMEOUT_S,
    TIMEOUT_ENV,
    DistributedContext,
    LostProcessError,
    collective_timeout,
    current_context,
    is_peer_failure,
    lost_process,
)

DRIVER = Path(__file__).with_name("driver.py")
OPTIONS = {
    "max_steps": 6, "optimizer": "sgd", "lr": 0.5, "momentum": 0.5, "clip_norm": 0.15,
    "checkpoint_every": 0, "log_every": 1, "quiet": True, "device": "cpu", "seed": 3,
}  # fmt: skip


def _flags() -> list[str]:
    flags = []
    for key, value in OPTIONS.items():
        flag = "--" + key.replace("_", "-")
        flags += [flag] if value is True else [flag, str(value)]
    return flags


@pytest.mark.slow
def test_two_gloo_processes_equal_one_process_on_the_combined_batch(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
        str(DRIVER), "train", "tiny", "--batch-size", "4", "--run-dir", str(tmp_path / "ddp"),
        *_flags(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr

    register_tiny_task()
    tasks.train(
        "tiny", TinyTaskConfig(batch_size=8), TrainerConfig(**OPTIONS), run_dir=tmp_path / "one"
    )
    weights = [
        read_checkpoint(CheckpointManager(tmp_path / d / "checkpoints").latest()).tensors[
            "model.safetensors"
        ]
        for d in ("ddp", "one")
    ]
    for name, tensor in weights[0].items():
        torch.testing.assert_close(tensor, weights[1][name], rtol=0, atol=1e-5)
    moved = [float((t - weights[1][n]).abs().max()) for n, t in weights[0].items()]
    assert max(moved) < 1e-5
    losses = [
        [row["loss"] for row in read_metrics(tmp_path / d) if row["kind"] == "train"]
        for d in ("ddp", "one")
    ]
    assert losses[0] == pytest.approx(losses[1], abs=1e-6)  # all-reduced, token-weighted loss
    assert len(losses[0]) == OPTIONS["max_steps"]
    config = (tmp_path / "ddp" / "config.json").read_text()
    assert '"batch_size": 4' in config  # written once, by rank 0


def test_a_single_process_context_without_torchrun() -> None:
    context = current_context("cpu")
    assert context == DistributedContext(device=torch.device("cpu"))
    assert context.is_main
    assert not context.is_distributed


# Two processes joined by `process_group` over gloo, without torchrun; process 1 then dies
# ("kill", SIGKILL: its kernel closes its sockets) or falls silent ("silent": it sleeps with its
# sockets open, as a stopped process or a lost machine), and process 0 waits on a collective.
PEER_SCRIPT = """
import os, signal, sys, time
from rnnkit.training.distributed import LostProcessError, all_reduce_sum, barrier, process_group
mode = sys.argv[1]
try:
    with process_group("cpu") as context:
        all_reduce_sum([1.0], context)  # both processes have joined
        if context.rank == 1:
            if mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(300)
        started = time.monotonic()
        barrier(context) if mode == "kill" else all_reduce_sum([2.0], context)
except LostProcessError as err:
    print(f"{time.monotonic() - started:.3f}", err, flush=True)
    sys.exit(3)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _two_processes(mode: str, timeout_s: float) -> subprocess.CompletedProcess:
    """Run PEER_SCRIPT as processes 0 and 1 with T = `timeout_s`; process 0's result."""
    env = {
        **os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()),
        "WORLD_SIZE": "2", TIMEOUT_ENV: str(timeout_s), "OMP_NUM_THREADS": "1",
    }  # fmt: skip
    command = [sys.executable, "-c", PEER_SCRIPT, mode]
    peer = subprocess.Popen(
        command, env={**env, "RANK": "1", "LOCAL_RANK": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        return subprocess.run(
            command, env={**env, "RANK": "0", "LOCAL_RANK": "0"}, capture_output=True,
            text=True, timeout=240, check=False,
        )  # fmt: skip
    finally:
        peer.kill()
        peer.wait()


@pytest.mark.slow
# A bound against a hang (torch's default is 30 minutes), loose enough for a loaded machine;
# the message proves the silent case ended by the 3 s collective timeout, not by chance.
@pytest.mark.parametrize(("mode", "bound_s"), [("kill", 60.0), ("silent", 3.0 + 60.0)])
def test_a_dead_or_silent_peer_ends_a_collective_in_one_line(mode: str, bound_s: float) -> None:
    """A dead peer fails the barrier at once; a silent one fails the all-reduce after T = 3 s.

    Before the collective timeout existed, the silent case waited torch's 30 minutes.
    """
    done = _two_processes(mode, timeout_s=3.0)
    assert done.returncode == 3, done.stdout + done.stderr
    waited, message = done.stdout.strip().split(" ", 1)
    assert float(waited) < bound_s, done.stdout
    assert "\n" not in message
    assert message.startswith("process 0 of 2 stopped: another process of the run is gone")
    expected = "by peer" if mode == "kill" else "Timed out waiting 3000ms"  # closed or reset
    assert expected in message
    assert "rnnkit resume RUN_DIR" in message
    assert "Traceback" not in done.stderr


def test_the_collective_timeout_comes_from_the_argument_the_environment_or_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    assert collective_timeout() == timedelta(seconds=DEFAULT_TIMEOUT_S)
    monkeypatch.setenv(TIMEOUT_ENV, "7.5")
    assert collective_timeout() == timedelta(seconds=7.5)
    assert collective_timeout(2) == timedelta(seconds=2)
    for bad in ("soon", "0", "-3", "nan", "inf"):
        monkeypatch.setenv(TIMEOUT_ENV, bad)
        with pytest.raises(ConfigError, match=TIMEOUT_ENV):
            collective_timeout()
    with pytest.raises(ConfigError, match="timeout_s must be a positive number"):
        collective_timeout(0.0)


def test_peer_failures_are_told_apart_from_other_errors() -> None:
    gloo = (
        "[/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:537] Read error"
        " [127.0.0.1]:17294: Connection reset by peer. This is typically caused by a remote"
        " worker hanging or bugs in the application."
    )
    assert is_peer_failure(RuntimeError(gloo))
    assert is_peer_failure(RuntimeError("Timed out waiting 3000ms for recv operation"))
    assert not is_peer_failure(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    assert not is_peer_failure(ValueError("Connection reset by peer"))
    context = DistributedContext(rank=1, world_size=2)
    err = lost_process(RuntimeError(gloo), context)
    assert isinstance(err, LostProcessError)
    assert str(err).startswith("process 1 of 2 stopped: another process of the run is gone or")
    assert "(Read error [127.0.0.1]:17294: Connection reset by peer)" in str(err)
    assert not is_peer_failure(err)  # already rnnkit's own error: never wrapped twice

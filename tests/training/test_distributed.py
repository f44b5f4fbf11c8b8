"""Two processes over gloo on loopback (torchrun) equal one process on the combined batch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from models import TinyTaskConfig, register_tiny_task
from rnnkit import tasks
from rnnkit.training import CheckpointManager, TrainerConfig, read_checkpoint, read_metrics
from rnnkit.training.distributed import DistributedContext, current_context

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

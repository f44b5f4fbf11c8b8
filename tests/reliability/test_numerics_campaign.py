"""A short numerics campaign in CI: a few cases of `bench/reliability/numerics.py`.

An absurd learning rate, an exploding ReLU RNN and an infinite value in a series must each stop
with one clear error line and leave only sound checkpoints; the campaign's own soundness check
is shown to fire on a checkpoint holding nan, so a silent check cannot pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bench.reliability import numerics as campaign
from rnnkit.training import CheckpointManager, read_checkpoint, write_checkpoint

CASES = ("charlm adam lr 1e30", "ReLU RNN, T=200, no clipping", "series with inf")

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", CASES)
def test_the_case_stops_clearly_and_writes_nothing_corrupt(name: str, tmp_path: Path) -> None:
    (case,) = [case for case in campaign._cases() if case.name == name]
    passed, what = campaign.run_case(case, tmp_path)
    assert passed, what
    assert what.startswith("error: ")


def test_the_soundness_check_fires_on_a_nan_checkpoint(tmp_path: Path) -> None:
    root = tmp_path / "run" / "checkpoints"
    root.mkdir(parents=True)
    good = {"model.safetensors": {"weight": torch.ones(2)}}
    CheckpointManager(root).save(1, good, {"step": 1})
    assert campaign._checkpoints_sound(tmp_path) == ""
    bad = {"model.safetensors": {"weight": torch.tensor([1.0, float("nan")])}}
    write_checkpoint(root / "step-00000002", bad, {"step": 2})
    assert read_checkpoint(root / "step-00000002").state["step"] == 2  # it loads, yet
    assert "weight holds nan or inf" in campaign._checkpoints_sound(tmp_path)

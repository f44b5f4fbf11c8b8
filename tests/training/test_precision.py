"""Mixed precision end to end: `rnnkit train charlm --precision bf16 --device cpu` trains.

The run goes through the trainer's autocast (training/precision.py, training/update.py) and the
recurrent layers' autocast rules (layers/autocast.py). Its losses must be finite, close to the
float32 run's, and not identical to them (which would mean autocast never took effect).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rnnkit.cli import main
from rnnkit.training import read_metrics

TINY = ["--embed-dim", "8", "--hidden-size", "16", "--num-layers", "1", "--batch-size", "4",
        "--seq-len", "8", "--max-steps", "4", "--eval-every", "4", "--checkpoint-every", "4",
        "--log-every", "1", "--samples", "0", "--max-chars", "20000", "--quiet",
        "--device", "cpu", "--seed", "3"]  # fmt: skip


def _losses(run: Path) -> list[float]:
    return [row["loss"] for row in read_metrics(run) if row.get("kind") == "train"]


@pytest.mark.parametrize(
    "cell",
    [
        "lstm",
        pytest.param("gru", marks=pytest.mark.slow),
        pytest.param("rnn", marks=pytest.mark.slow),
    ],
)
def test_charlm_trains_under_bf16_on_cpu(tmp_path: Path, cell: str) -> None:
    runs = {}
    for precision in ("bf16", "fp32"):
        run = tmp_path / precision
        argv = ["train", "charlm", *TINY, "--cell", cell, "--precision", precision]
        assert main([*argv, "--run-dir", str(run)]) == 0
        runs[precision] = _losses(run)
    assert json.loads((tmp_path / "bf16" / "config.json").read_text())["trainer"]["precision"] == (
        "bf16"
    )
    low, full = runs["bf16"], runs["fp32"]
    assert len(low) == len(full) == 4
    assert all(math.isfinite(loss) for loss in low)
    assert max(abs(a - b) for a, b in zip(low, full, strict=True)) < 0.05
    assert low != full  # bfloat16 products round differently: autocast was on

"""`rnnkit train TASK --config RUN/config.json` trains with that run's settings and data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnkit.cli import main

TINY = ["--max-chars", "4000", "--embed-dim", "4", "--hidden-size", "6", "--num-layers", "1",
        "--batch-size", "2", "--seq-len", "8", "--samples", "0", "--cell", "gru", "--lr", "0.02",
        "--betas", "0.8", "0.99", "--eval-every", "0", "--checkpoint-every", "0", "--seed", "7",
        "--quiet", "--device", "cpu"]  # fmt: skip


@pytest.fixture
def first_run(tmp_path: Path) -> Path:
    text = tmp_path / "text.txt"
    text.write_text("the quick brown fox jumps over the lazy dog.\n" * 100, encoding="utf-8")
    run = tmp_path / "first"
    args = ["train", "charlm", "--data", str(text), "--run-dir", str(run), *TINY]
    assert main([*args, "--max-steps", "2"]) == 0
    return run


def test_a_run_config_json_trains_with_the_run_settings(first_run: Path, tmp_path: Path) -> None:
    second = tmp_path / "second"
    config = first_run / "config.json"
    assert main(["train", "charlm", "--config", str(config), "--run-dir", str(second)]) == 0
    before, after = (json.loads((run / "config.json").read_text()) for run in (first_run, second))
    assert after["task_config"] == before["task_config"]
    assert after["task_config"]["model"]["cell"] == "gru"
    assert after["trainer"] == before["trainer"]  # not charlm's defaults (lr 8e-3, 1800 steps)
    assert after["trainer"]["betas"] == [0.8, 0.99]
    assert after["data"] == before["data"]  # the run's --data, as no --data was given


def test_flags_override_a_run_config_json(first_run: Path, tmp_path: Path) -> None:
    second = tmp_path / "second"
    config = str(first_run / "config.json")
    argv = ["train", "charlm", "--config", config, "--run-dir", str(second), "--max-steps", "1"]
    assert main([*argv, "--hidden-size", "5"]) == 0
    after = json.loads((second / "config.json").read_text())
    assert (after["trainer"]["max_steps"], after["task_config"]["model"]["hidden_size"]) == (1, 5)


def test_a_run_of_another_task_is_refused(
    first_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["train", "ner", "--config", str(first_run / "config.json")]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert out.startswith("error: the config file is a run of task 'charlm', not 'ner'")

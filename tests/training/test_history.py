"""History: the rows a run logs, returned by `Trainer.fit`; resumed, it equals the unbroken run."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from models import delay_copy_data, tiny_trainer
from rnnkit.errors import ConfigError
from rnnkit.training import History, TrainerConfig, read_metrics
from rnnkit.training.runs import MetricsLog, read_history

BASE = {"quiet": True, "device": "cpu", "lr": 0.01}
TIMING = {"tokens_per_s"}  # measured wall-clock rates: the only entries two runs may differ in


class CrashError(Exception):
    """Raised by a callback to interrupt a run in the middle (as a kill would)."""


def _crash_at(step: int):
    def callback(trainer: Any, row: dict[str, Any]) -> None:
        if row["step"] == step:
            raise CrashError

    return callback


def _eval_batches() -> list[Any]:
    return [delay_copy_data(8, 12, 8, seed=9)]


def _measured(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: value for key, value in row.items() if key not in TIMING} for row in rows]


def test_rows_become_metric_lists_with_their_steps() -> None:
    history = History()
    assert (len(history), history.rows, history.history, history.steps) == (0, [], {}, {})
    history.append({"kind": "train", "step": 2, "epoch": 0, "loss": 2.5, "lr": 0.1})
    history.append({"kind": "nonfinite", "step": 3, "problem": "loss is nan"})
    history.append({"kind": "train", "step": 4, "epoch": 1, "loss": 2.0, "lr": 0.1})
    history.append({"kind": "eval", "step": 4, "epoch": 1, "val_loss": math.nan})
    history.append({"kind": "eval", "step": 6, "epoch": 1, "val_loss": 2.25})
    assert history.history["loss"] == [2.5, 2.0]
    assert history.steps == {"loss": [2, 4], "lr": [2, 4], "val_loss": [4, 6]}
    assert math.isnan(history.history["val_loss"][0])
    assert set(history.history) == {"loss", "lr", "val_loss"}  # no "problem", no "epoch"
    assert history.rows[3]["val_loss"] == "nan"  # as metrics.jsonl holds it
    assert history.last("val_loss") == 2.25
    assert history.best("val_loss") == (6, 2.25)  # nan is never the best
    assert history.best("loss", "max") == (2, 2.5)
    assert History(history.rows) == history


def test_asking_for_a_metric_never_logged_names_the_logged_ones() -> None:
    with pytest.raises(ConfigError, match=r"'val_loss'.*none \(no row has been logged\)"):
        History().best("val_loss")
    history = History([{"kind": "train", "step": 1, "loss": 1.0}])
    with pytest.raises(ConfigError, match="logged metrics: loss"):
        history.last("accuracy")
    with pytest.raises(ConfigError, match="'min' or 'max'"):
        history.best("loss", "lowest")  # type: ignore[arg-type]


def test_the_history_after_fit_is_the_runs_metrics_file(tmp_path: Path) -> None:
    config = TrainerConfig(**BASE, max_steps=6, log_every=2, eval_every=3, checkpoint_every=0)
    trainer, _ = tiny_trainer(config, eval_data=_eval_batches(), run_dir=tmp_path)
    assert len(trainer.history) == 0  # nothing logged yet
    result = trainer.fit()
    assert result.history is trainer.history
    assert result.history.rows == read_metrics(tmp_path)
    assert [(row["kind"], row["step"]) for row in result.history.rows] == [
        ("train", 2), ("eval", 3), ("train", 4), ("train", 6), ("eval", 6),
    ]  # fmt: skip
    assert result.history.steps["loss"] == [2, 4, 6]
    assert result.history.steps["val_loss"] == [3, 6]
    assert result.history.best("val_loss")[1] == result.best_metric


def test_without_a_run_directory_the_rows_are_still_kept() -> None:
    trainer, step_rows = tiny_trainer(TrainerConfig(**BASE, max_steps=4, log_every=2))
    history = trainer.fit().history
    assert history.steps["loss"] == [2, 4]
    assert history.history["loss"] == [step_rows[1]["loss"], step_rows[3]["loss"]]


def test_a_resumed_runs_history_equals_the_unbroken_runs(tmp_path: Path) -> None:
    config = TrainerConfig(
        **BASE, max_steps=12, log_every=2, eval_every=4, checkpoint_every=5, keep_best=False
    )
    unbroken, _ = tiny_trainer(config, seed=3, eval_data=_eval_batches(), dropout=0.2)
    expected = unbroken.fit().history
    crashed, _ = tiny_trainer(
        config, seed=3, eval_data=_eval_batches(), dropout=0.2, run_dir=tmp_path
    )
    crashed.callbacks.append(_crash_at(8))  # rows of steps 6 and 8 logged after step 5's checkpoint
    with pytest.raises(CrashError):
        crashed.fit()
    assert [row["step"] for row in read_metrics(tmp_path)][-1] == 8
    resumed, _ = tiny_trainer(
        config, seed=99, data=delay_copy_data(64, 12, 8, seed=3), eval_data=_eval_batches(),
        dropout=0.2, run_dir=tmp_path,
    )  # fmt: skip
    resumed.load_checkpoint()
    assert resumed.loop.step == 5
    assert [(row["kind"], row["step"]) for row in resumed.history.rows] == [
        ("train", 2), ("train", 4), ("eval", 4),
    ]  # fmt: skip
    history = resumed.fit().history
    assert history.steps == expected.steps
    assert _measured(history.rows) == _measured(expected.rows)  # bit for bit
    assert history.rows == read_metrics(tmp_path)


def test_resuming_from_an_older_checkpoint_leaves_out_the_replaced_rows(tmp_path: Path) -> None:
    config = TrainerConfig(**BASE, max_steps=6, log_every=1, checkpoint_every=2, keep_last=5)
    first, _ = tiny_trainer(config, run_dir=tmp_path)
    expected = first.fit().history
    resumed, _ = tiny_trainer(config, run_dir=tmp_path)
    resumed.load_checkpoint(tmp_path / "checkpoints" / "step-00000002")
    assert resumed.history.steps["loss"] == [1, 2]  # rows 3–6 stay in the file until replaced
    history = resumed.fit().history
    assert _measured(history.rows) == _measured(expected.rows)
    assert history.rows == read_metrics(tmp_path)


def test_a_run_whose_metrics_file_is_gone_resumes_with_only_its_new_rows(tmp_path: Path) -> None:
    config = TrainerConfig(**BASE, max_steps=4, log_every=1, checkpoint_every=2)
    assert len(read_history(tmp_path, 10)) == 0  # no run here yet
    assert len(read_history(None, 10)) == 0
    first, _ = tiny_trainer(config, run_dir=tmp_path)
    first.fit()
    (tmp_path / "metrics.jsonl").unlink()
    resumed, _ = tiny_trainer(config, run_dir=tmp_path)
    resumed.load_checkpoint(tmp_path / "checkpoints" / "step-00000002")
    assert len(resumed.history) == 0
    assert resumed.fit().history.steps["loss"] == [3, 4]


def test_nonfinite_values_read_back_equal_to_the_logged_ones(tmp_path: Path) -> None:
    rows = [
        {"kind": "eval", "step": 1, "val_loss": math.inf, "val_ratio": -math.inf},
        {"kind": "nonfinite", "step": 2, "problem": "loss is nan"},
    ]
    log = MetricsLog(tmp_path)
    for row in rows:
        log.write(row)
    assert read_history(tmp_path, 2) == History(rows)
    assert read_history(tmp_path, 1).rows == [{**rows[0], "val_loss": "inf", "val_ratio": "-inf"}]
    assert History(rows).history == {"val_loss": [math.inf], "val_ratio": [-math.inf]}


def test_numpy_and_torch_scalars_are_kept_as_numbers(tmp_path: Path) -> None:
    row = {"kind": "eval", "step": 1, "val_a": np.float32(0.5), "val_b": torch.tensor(math.nan)}
    MetricsLog(tmp_path).write(row)
    assert read_metrics(tmp_path) == [{"kind": "eval", "step": 1, "val_a": 0.5, "val_b": "nan"}]
    assert History([row]) == read_history(tmp_path, 1)

"""Run directories: config.json, metrics.jsonl, and what a full, read-only or damaged disk gives."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from rnnkit.errors import CheckpointError, ConfigError, DataError
from rnnkit.training import runs as runs_module
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.runs import (
    MetricsLog,
    read_metrics,
    read_run_config,
    run_checkpoint,
    write_run_config,
)


def test_metrics_rows_round_trip_and_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path)
    log.write({"kind": "train", "step": 1, "loss": float("nan")})
    log.write({"kind": "train", "step": 2, "loss": 1.5})
    with open(tmp_path / "metrics.jsonl", "a") as handle:
        handle.write('{"kind": "tr')
    assert read_metrics(tmp_path) == [
        {"kind": "train", "step": 1, "loss": "nan"}, {"kind": "train", "step": 2, "loss": 1.5}
    ]  # fmt: skip
    log.truncate_after(1)
    assert [row["step"] for row in read_metrics(tmp_path)] == [1]


def test_a_metrics_write_into_a_deleted_run_directory_is_a_checkpoint_error(
    tmp_path: Path,
) -> None:
    log = MetricsLog(tmp_path / "gone")
    with pytest.raises(CheckpointError, match=r"could not write .*metrics.jsonl.*No such file"):
        log.write({"kind": "train", "step": 1})


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EDQUOT])
def test_config_json_that_cannot_be_written_names_the_file_and_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    def fail(path: Path, text: str) -> None:
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(runs_module, "atomic_write_text", fail)
    with pytest.raises(CheckpointError, match=rf"config.json: {os.strerror(code)}.*intact"):
        write_run_config(tmp_path / "run", {"task": "x"})
    (tmp_path / "metrics.jsonl").write_text('{"step": 1}\n')
    with pytest.raises(CheckpointError, match=rf"metrics.jsonl.*{os.strerror(code)}"):
        MetricsLog(tmp_path).truncate_after(0)


@pytest.mark.parametrize("key", ["task_config", "trainer", "vocab"])
def test_config_json_sections_of_the_wrong_type_are_a_config_error(
    tmp_path: Path, key: str
) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"task": "charlm", key: []}))
    with pytest.raises(ConfigError, match=rf"'{key}' must be a JSON object, got list"):
        read_run_config(tmp_path)


@pytest.mark.parametrize("line", ["[1, 2]", '"text"', '{"step": "3"}'])
def test_metrics_rows_that_are_not_objects_with_a_numeric_step_are_a_data_error(
    tmp_path: Path, line: str
) -> None:
    (tmp_path / "metrics.jsonl").write_text(line + '\n{"step": 1}\n')
    with pytest.raises(DataError, match=r"metrics.jsonl:1 must be a JSON object"):
        read_metrics(tmp_path)


def test_a_config_json_that_is_a_directory_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").mkdir()
    with pytest.raises(ConfigError, match=r"config\.json"):
        read_run_config(tmp_path)


def test_the_best_checkpoint_is_found_even_when_latest_is_damaged(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path / "checkpoints")
    best = manager.save(1, {}, {"step": 1}, is_best=True)
    manager.save(2, {}, {"step": 2})
    (tmp_path / "checkpoints" / "latest").write_bytes(b"\xff\xfe")
    assert run_checkpoint(tmp_path, "best") == best
    with pytest.raises(CheckpointError, match="latest cannot be read"):
        run_checkpoint(tmp_path, "latest")

"""`rnnkit serve`: the default run it finds, and what it hands to uvicorn (no server started)."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from rnnkit.cli.serve import add_serve, find_default_run
from rnnkit.errors import ConfigError, DataError
from rnnkit.training.checkpoint_manager import CheckpointManager


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rnnkit")
    add_serve(parser.add_subparsers(dest="verb", required=True))
    return parser.parse_args(argv)


def _copy(run: Path, target: Path, written_at: float) -> Path:
    """A copy of `run` whose latest checkpoint was written at time `written_at`."""
    shutil.copytree(run, target)
    latest = CheckpointManager(target / "checkpoints").latest()
    assert latest is not None
    os.utime(latest, (written_at, written_at))
    return target


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What `uvicorn.run` was called with, instead of starting a server."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: calls.append({"app": app, **options}))
    return calls


def test_the_default_run_is_the_newest_charlm_run_with_a_checkpoint(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "runs"
    _copy(runs["charlm-rnn"], folder / "charlm-20260101-000000", written_at=3_000_000)
    newest = _copy(runs["charlm-rnn"], folder / "charlm-20250101-000000", written_at=4_000_000)
    _copy(runs["sentiment"], folder / "charlm-but-sentiment", written_at=9_000_000)
    _copy(runs["ner"], folder / "ner-20270101-000000", written_at=9_000_000)  # not charlm
    unfinished = folder / "charlm-20280101-000000"
    unfinished.mkdir()
    shutil.copy(runs["charlm-rnn"] / "config.json", unfinished)  # no checkpoint yet
    assert find_default_run(tmp_path) == newest


def test_without_a_run_it_says_how_to_train_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match=r"Train one with `rnnkit train charlm`"):
        find_default_run()
    with pytest.raises(DataError, match="rnnkit serve RUN_DIR"):
        _parse(["serve"]).handler(_parse(["serve"]))


def test_serve_binds_localhost_by_default_with_the_default_run(
    runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    served: list[dict[str, Any]],
) -> None:  # fmt: skip
    _copy(runs["charlm-rnn"], tmp_path / "runs" / "charlm-20260101-000000", written_at=1e6)
    monkeypatch.chdir(tmp_path)
    args = _parse(["serve"])
    assert args.handler(args) == 0
    [call] = served
    assert (call["host"], call["port"]) == ("127.0.0.1", 8000)
    assert list(call["app"].state.models) == ["charlm-20260101-000000"]


def test_serve_named_runs_on_a_chosen_address(
    runs: dict[str, Path], served: list[dict[str, Any]]
) -> None:
    args = _parse(["serve", str(runs["charlm"]), str(runs["ner"]), "--host", "0.0.0.0",
                   "--port", "9001"])  # fmt: skip
    assert args.handler(args) == 0
    [call] = served
    assert (call["host"], call["port"]) == ("0.0.0.0", 9001)
    assert list(call["app"].state.models) == [runs["charlm"].name, runs["ner"].name]


def test_serve_refuses_a_run_of_a_task_it_cannot_serve(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    (tmp_path / "config.json").write_text('{"task": "word2vec"}')
    args = _parse(["serve", str(tmp_path)])
    with pytest.raises(ConfigError, match="is a 'word2vec' run; rnnkit serve serves"):
        args.handler(args)
    assert served == []

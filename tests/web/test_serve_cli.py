"""`rnnkit serve`: the default run it finds, what it hands to uvicorn, and the port it binds."""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rnnkit.cli import main
from rnnkit.cli.serve import add_serve, find_default_run, listen
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
    """The address `listen` was asked for and the app `run_server` got; no port, no server."""
    calls: list[dict[str, Any]] = []

    def fake_listen(host: str, port: int) -> socket.socket:
        calls.append({"host": host, "port": port})
        return socket.socket()

    def fake_run(app: Any, sock: socket.socket, host: str) -> None:
        calls[-1]["app"] = app
        sock.close()

    monkeypatch.setattr("rnnkit.cli.serve.listen", fake_listen)
    monkeypatch.setattr("rnnkit.cli.serve.run_server", fake_run)
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


def test_serve_answers_the_host_names_allowed(
    runs: dict[str, Path], served: list[dict[str, Any]]
) -> None:
    args = _parse(["serve", str(runs["charlm"]), "--host", "0.0.0.0", "--allow-host", "Box.Local",
                   "--allow-host", "box"])  # fmt: skip
    assert args.handler(args) == 0
    [call] = served
    assert call["app"].state.settings.allowed_hosts == ("box.local", "box")
    client = TestClient(call["app"])
    assert client.get("/api/models", headers={"host": "box.local:8000"}).status_code == 200
    assert client.get("/api/models", headers={"host": "evil.example"}).status_code == 400


def test_serve_refuses_a_run_of_a_task_it_cannot_serve(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    (tmp_path / "config.json").write_text('{"task": "word2vec"}')
    args = _parse(["serve", str(tmp_path)])
    with pytest.raises(ConfigError, match="is a 'word2vec' run; rnnkit serve serves"):
        args.handler(args)
    assert served == []


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port of 127.0.0.1 that another server (this socket) listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def test_a_taken_port_is_one_error_line_and_no_open_line(
    runs: dict[str, Path], held_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", str(runs["charlm"]), "--port", str(held_port)]) == 2
    [line] = capsys.readouterr().out.strip().splitlines()
    assert line.startswith(f"error: cannot listen on 127.0.0.1:{held_port}: the port is already")
    assert f"--port {held_port + 1}" in line
    assert "open" not in line


def test_listen_refuses_bad_ports_and_hosts(held_port: int) -> None:
    with pytest.raises(ConfigError, match="already in use"):
        listen("127.0.0.1", held_port)
    with pytest.raises(ConfigError, match=r"--port must be in \[0, 65535\]"):
        listen("127.0.0.1", 70000)
    with pytest.raises(ConfigError, match="not an address of this machine"):
        listen("192.0.2.1", 0)  # TEST-NET-1: never this machine's
    with pytest.raises(ConfigError, match=r"cannot listen on --host 'no-such-host\.invalid'"):
        listen("no-such-host.invalid", 0)
    with listen("127.0.0.1", 0) as sock:  # a free port: bound and listening
        socket.create_connection(sock.getsockname(), timeout=5).close()


def test_open_is_printed_once_the_server_answers(runs: dict[str, Path]) -> None:
    command = [sys.executable, "-m", "rnnkit", "serve", str(runs["charlm"]), "--port", "0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env) as server:  # fmt: skip
        try:
            lines = []
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and server.stdout is not None:
                line = server.stdout.readline()
                lines.append(line)
                if line.startswith("open ") or not line:
                    break
            assert lines[-1].startswith("open http://127.0.0.1:"), lines
            url = lines[-1].split()[1]
            assert lines[0].startswith(f"serving {runs['charlm'].name}")
            with urllib.request.urlopen(url, timeout=10) as page:  # answers right away
                assert page.status == 200
        finally:
            server.terminate()
            server.wait(timeout=30)

"""word2vec runs: checkpoints, `resume_run`, `rnnkit [word2vec] resume`, and what they refuse.

A SIGKILLed `rnnkit word2vec train` resumed by `rnnkit resume` is checked end to end in
tests/reliability/test_kill_resume_word2vec.py (the campaign's word2vec task).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnkit.cli import main
from rnnkit.errors import CheckpointError, ConfigError
from rnnkit.represent.word2vec import Word2VecConfig
from rnnkit.tasks.word2vec import checkpoints as word2vec_checkpoints
from rnnkit.tasks.word2vec import train as task
from rnnkit.training.checkpoint import read_checkpoint, write_checkpoint
from rnnkit.training.checkpoint_manager import CheckpointManager

CONFIG = Word2VecConfig(vector_size=8, window=2, negative=2, epochs=2, min_count=1, threads=1,
                        seed=7)  # fmt: skip


class SimulatedKillError(Exception):
    """Stands in for a kill: raised where the run would have died."""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """140,000 words (3 chunks of 65,536: 3 rounds an epoch) of 40 words in 4 topics."""
    lines = []
    for n in range(14_000):
        topic = (n * 7) % 4
        lines.append(" ".join(f"t{topic}w{(n * 3 + 5 * k) % 10}" for k in range(10)))
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def unbroken(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("unbroken") / "run"
    task.train_run(corpus, CONFIG, run_dir, quiet=True, checkpoint_every=1)
    return run_dir


def _rows(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in row.items() if k != "words_per_s"} for row in rows]


def _crash_at(monkeypatch: pytest.MonkeyPatch, call: int) -> None:
    """The `call`-th checkpoint (counted from 1) is never written: the run dies there instead."""
    make = word2vec_checkpoints.checkpoint_callback

    def crashing(*args: object, **kwargs: object) -> object:
        save, calls = make(*args, **kwargs), []  # type: ignore[arg-type]

        def checkpoint(*tables: object) -> None:
            calls.append(1)
            if len(calls) == call:
                raise SimulatedKillError
            save(*tables)

        return checkpoint

    monkeypatch.setattr(task, "checkpoint_callback", crashing)


def _crashed_run(corpus: Path, run_dir: Path, call: int, monkeypatch: pytest.MonkeyPatch) -> Path:
    _crash_at(monkeypatch, call)
    with pytest.raises(SimulatedKillError):
        task.train_run(corpus, CONFIG, run_dir, quiet=True, checkpoint_every=1)
    monkeypatch.undo()
    return run_dir


def test_unbroken_run_checkpoints_every_round(unbroken: Path) -> None:
    rows = _rows(unbroken)
    assert [r["step"] for r in rows if r["kind"] == "train"] == [
        65536,
        131072,
        140000,
        205536,
        271072,
        280000,
    ]
    assert [p.name for p in CheckpointManager(unbroken / "checkpoints").checkpoints()] == [
        "step-00205536", "step-00271072", "step-00280000"
    ]  # fmt: skip
    state = json.loads((unbroken / "checkpoints/step-00205536/state.json").read_text())
    assert state["word2vec"]["position"] == {"epoch": 1, "chunk": 1, "words_done": 205536}
    assert state["word2vec"]["corpus"]["words"] == 140_000


@pytest.mark.parametrize("call", [1, 4, 6], ids=["before-any", "mid-epoch", "last"])
def test_resumed_run_equals_the_unbroken_run(
    call: int, corpus: Path, unbroken: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = _crashed_run(corpus, tmp_path / "run", call, monkeypatch)
    assert len(_rows(run_dir)) == call  # the row of the round whose checkpoint was lost
    vectors = task.resume_run(run_dir, quiet=True)
    assert _rows(run_dir) == _rows(unbroken)  # the stray row is gone, each round logged once
    assert (run_dir / "vectors.safetensors").read_bytes() == (
        unbroken / "vectors.safetensors"
    ).read_bytes()
    assert vectors.words == task.load_run(unbroken).words


def test_resume_from_the_epoch_end(
    corpus: Path, unbroken: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = _crashed_run(corpus, tmp_path / "run", 6, monkeypatch)
    epoch_end = run_dir / "checkpoints/step-00140000"
    assert json.loads((epoch_end / "state.json").read_text())["word2vec"]["position"]["chunk"] == 0
    task.resume_run(run_dir, checkpoint=epoch_end, quiet=True)
    assert (run_dir / "vectors.safetensors").read_bytes() == (
        unbroken / "vectors.safetensors"
    ).read_bytes()
    assert _rows(run_dir) == _rows(unbroken)


def test_a_changed_corpus_config_or_checkpoint_is_refused(
    corpus: Path, unbroken: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = _crashed_run(corpus, tmp_path / "run", 3, monkeypatch)
    changed = tmp_path / "changed.txt"
    changed.write_text(corpus.read_text().replace("t0w1 ", "t0w2 ", 1))
    settings = json.loads((run_dir / "config.json").read_text())
    (run_dir / "config.json").write_text(json.dumps({**settings, "data": str(changed)}))
    with pytest.raises(CheckpointError, match=r"the corpus changed since .*140,000 words"):
        task.resume_run(run_dir, quiet=True)
    edited = {**settings, "config": {**settings["config"], "window": 3}}
    (run_dir / "config.json").write_text(json.dumps(edited))
    with pytest.raises(CheckpointError, match="written with another config"):
        task.resume_run(run_dir, quiet=True)
    (run_dir / "config.json").write_text(json.dumps(settings))
    tables = run_dir / "checkpoints/step-00131072/model.safetensors"
    data = bytearray(tables.read_bytes())
    data[-3] ^= 0x10
    tables.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"model\.safetensors is corrupt.*step-00065536;"):
        task.resume_run(run_dir, quiet=True)
    task.resume_run(run_dir, checkpoint=tables.parents[1] / "step-00065536", quiet=True)
    kept = CheckpointManager(run_dir / "checkpoints").checkpoints()
    assert [p.name for p in kept] == ["step-00205536", "step-00271072", "step-00280000"]
    assert all(read_checkpoint(path) for path in kept)  # every one intact
    assert _rows(run_dir) == _rows(unbroken)


def test_another_tasks_checkpoint_or_run_is_refused(corpus: Path, tmp_path: Path) -> None:
    foreign = write_checkpoint(tmp_path / "step-00000010", {}, {"config": {"task": "charlm"}})
    with pytest.raises(CheckpointError, match="not a word2vec checkpoint \\(task 'charlm'\\)"):
        task.load_start(foreign, CONFIG, task.encode_for(corpus, CONFIG))
    (tmp_path / "lm").mkdir()
    (tmp_path / "lm/config.json").write_text(json.dumps({"task": "charlm", "config": {}}))
    with pytest.raises(ConfigError, match="'charlm' run, not a word2vec run"):
        task.resume_run(tmp_path / "lm")


def test_train_refuses_a_directory_holding_a_run(unbroken: Path, corpus: Path) -> None:
    before = (unbroken / "metrics.jsonl").read_bytes()
    with pytest.raises(ConfigError, match=f"continue it with `rnnkit word2vec resume {unbroken}`"):
        task.train_run(corpus, CONFIG, unbroken, quiet=True)
    with pytest.raises(ConfigError, match="checkpoint_every must be an integer >= 0"):
        task.train_run(corpus, CONFIG, unbroken.parent / "new", checkpoint_every=-2)
    assert (unbroken / "metrics.jsonl").read_bytes() == before
    assert not (unbroken.parent / "new").exists()


def test_rnnkit_resume_dispatches_a_word2vec_run(
    corpus: Path, unbroken: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:  # fmt: skip
    run_dir = _crashed_run(corpus, tmp_path / "run", 5, monkeypatch)
    assert main(["resume", str(run_dir), "--max-steps", "9"]) == 2
    assert "rnnkit resume --max-steps has no meaning for a word2vec run" in capsys.readouterr().out
    assert main(["resume", str(run_dir)]) == 0  # `rnnkit word2vec resume RUN` underneath
    out = capsys.readouterr().out
    assert "checkpoints/step-00205536: epoch 2, chunk 1, 205,536 words done" in out
    assert "40 words × 8; report" in out
    assert _rows(run_dir) == _rows(unbroken)
    other = _crashed_run(corpus, tmp_path / "other", 2, monkeypatch)
    assert main(["word2vec", "resume", str(other), "--quiet"]) == 0
    assert (other / "vectors.safetensors").read_bytes() == (
        unbroken / "vectors.safetensors"
    ).read_bytes()


def test_keep_until_rewinds_rows_checkpoints_and_the_pointer(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = _crashed_run(corpus, tmp_path / "run", 6, monkeypatch)
    word2vec_checkpoints.keep_until(run_dir, 140_000)
    manager = CheckpointManager(run_dir / "checkpoints")
    assert [p.name for p in manager.checkpoints()] == ["step-00140000"]
    assert manager.latest() == run_dir / "checkpoints/step-00140000"
    assert [r["step"] for r in _rows(run_dir)] == [65536, 131072, 140000]
    word2vec_checkpoints.keep_until(run_dir, 0)
    assert manager.checkpoints() == []
    assert manager.latest() is None
    assert _rows(run_dir) == []

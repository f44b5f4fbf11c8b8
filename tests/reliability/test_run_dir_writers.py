"""Issue 22, data loss: one writer per run, a user's folder never written into, nothing deleted
before it is replaced, resume on the data it was trained on, symlinked checkpoints, bounded
checkpoint reads (`rnnkit.training.run_guard`, `CheckpointManager.supersede`).

Each test failed before its fix. The CLI runs in-process through `rnnkit.cli.main`, except the
first writer of the lock test, which is a real `rnnkit train` in a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from word2vec_helpers import planted_corpus  # tests/tasks, on pytest's pythonpath

from bench.reliability import disk_fault_checks as checks
from rnnkit.cli import main
from rnnkit.errors import CheckpointError
from rnnkit.tasks.charlm import load_language_model
from rnnkit.training import CheckpointManager, read_checkpoint, read_metrics
from rnnkit.training.run_guard import LOCK_FILE, is_run_dir


class SimulatedKillError(Exception):
    """Stands in for a kill: raised where the run would have died."""


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    status = main(list(args))
    captured = capsys.readouterr()
    return status, (captured.out + captured.err).strip()


def _one_error_line(output: str) -> str:
    assert output.startswith("error:"), output
    assert "\n" not in output, output
    assert "Traceback" not in output
    return output


def _train(run: Path, steps: int, *extra: str) -> list[str]:
    return [*checks.train_argv(run, steps), *extra]


def _fingerprint(root: Path) -> dict[str, str]:
    """sha256 of every file under `root` (symlinks followed), by relative path."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != LOCK_FILE
    }


def _steps(run: Path) -> list[int]:
    return [row["step"] for row in read_metrics(run) if row["kind"] == "train"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-step tiny charlm run with checkpoints at steps 3, 6, 9 and 12."""
    run = tmp_path_factory.mktemp("writers") / "reference"
    assert main(_train(run, 12)) == 0
    return run


def _copy(reference: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(reference, run, symlinks=True)
    return run


# -- one writer per run directory ------------------------------------------------------------


def test_a_second_writer_fails_fast_while_the_first_holds_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    first = subprocess.Popen(
        checks.cli(*_train(run, 1_000_000, "--checkpoint-every", "2")),
        env=checks.ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (run / "checkpoints" / "latest").exists():  # it is training
            assert first.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.2)
        for argv in (
            _train(run, 30, "--hidden-size", "8"),  # a second `train` into the same folder
            ["resume", str(run), "--max-steps", "30"],
            ["resume", str(run), "--checkpoint", str(run / "checkpoints" / "step-00000002")],
        ):
            started = time.monotonic()
            status, output = _cli(capsys, *argv)
            assert status == 2
            line = _one_error_line(output)
            assert "being written by another rnnkit process" in line
            assert f"(PID {first.pid})" in line
            assert time.monotonic() - started < 30  # refused at once, not after its training
            assert first.poll() is None
        assert (
            json.loads((run / "config.json").read_text())["task_config"]["model"]["hidden_size"]
            == 16
        )
    finally:
        first.kill()
        first.wait()
    assert first.returncode == -signal.SIGKILL
    # the lock of a killed process does not block: flock ended with it
    latest = CheckpointManager(run / "checkpoints").latest()
    target = int(latest.name.split("-")[1]) + 2
    assert main(["resume", str(run), "--max-steps", str(target)]) == 0
    assert CheckpointManager(run / "checkpoints").latest().name == f"step-{target:08d}"


def test_word2vec_train_and_resume_take_the_same_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, corpus = tmp_path / "w2v", planted_corpus(tmp_path / "corpus.txt", lines=50)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom rnnkit.training.run_guard import run_lock"
         "\nwith run_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(120)",
         str(run)],
        env=checks.ENV, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        for argv in (
            ["word2vec", "train", str(corpus), "--run-dir", str(run), "--quiet"],
            ["word2vec", "resume", str(run), "--quiet"],
        ):
            status, output = _cli(capsys, *argv)
            assert status == 2
            assert f"another rnnkit process (PID {holder.pid})" in _one_error_line(output)
    finally:
        holder.kill()
        holder.wait()
    assert sorted(path.name for path in run.iterdir()) == [LOCK_FILE]


# -- a folder that is not a run ---------------------------------------------------------------


def test_a_folder_of_the_users_own_files_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own = tmp_path / "p2"
    (own / "plots").mkdir(parents=True)
    (own / "config.json").write_text('{"title": "my project", "lr": 1}\n')
    (own / "plots" / "loss.png").write_bytes(b"\x89PNG my own plot")
    (own / "report.md").write_text("# my report\n")
    (own / "vocab.json").write_text('["mine"]\n')
    before = _fingerprint(own)
    corpus = planted_corpus(tmp_path / "corpus.txt", lines=50)
    for argv in (
        _train(own, 3),
        ["word2vec", "train", str(corpus), "--run-dir", str(own), "--quiet"],
    ):
        status, output = _cli(capsys, *argv)
        assert status == 2
        assert "is not an rnnkit run" in _one_error_line(output)
        assert _fingerprint(own) == before
        assert sorted(p.name for p in own.iterdir()) == [
            "config.json", "plots", "report.md", "vocab.json"
        ]  # fmt: skip
    (tmp_path / "fresh").mkdir()  # an empty folder is fine
    assert main(_train(tmp_path / "fresh", 3)) == 0
    assert is_run_dir(tmp_path / "fresh")
    assert not is_run_dir(own)


def test_a_run_made_before_the_lock_file_is_still_a_run(tmp_path: Path, reference: Path) -> None:
    run = _copy(reference, tmp_path)
    (run / LOCK_FILE).unlink()
    assert is_run_dir(run)
    assert main(["resume", str(run), "--max-steps", "15"]) == 0


# -- a run killed before its first checkpoint --------------------------------------------------


def test_a_new_train_replaces_a_run_killed_before_its_first_checkpoint(
    tmp_path: Path, reference: Path
) -> None:
    run = _copy(reference, tmp_path)
    shutil.rmtree(run / "checkpoints")  # what a kill before the first checkpoint leaves
    assert (
        json.loads((run / "config.json").read_text())["task_config"]["model"]["hidden_size"] == 16
    )
    assert main(_train(run, 6, "--hidden-size", "12", "--cell", "gru")) == 0
    config = json.loads((run / "config.json").read_text())
    assert (
        config["task_config"]["model"]["hidden_size"],
        config["task_config"]["model"]["cell"],
    ) == (12, "gru")
    assert _steps(run) == [1, 2, 3, 4, 5, 6]  # the killed run's rows went with its config
    loaded = load_language_model(run, checkpoint="latest")
    assert sum(p.numel() for p in loaded.model.parameters()) == config["model"]["parameters"]


# -- resume from an older checkpoint -----------------------------------------------------------


def test_resume_at_or_below_the_checkpoints_step_trains_and_deletes_nothing(
    tmp_path: Path, reference: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _copy(reference, tmp_path)
    before = _fingerprint(run)
    older = str(run / "checkpoints" / "step-00000006")
    for steps in ("6", "4"):
        status, output = _cli(capsys, "resume", str(run), "--checkpoint", older,
                              "--max-steps", steps)  # fmt: skip
        assert status == 0
        assert output.startswith("nothing to train:")
        assert "\n" not in output
        assert _fingerprint(run) == before


def test_a_branch_killed_before_its_first_checkpoint_deletes_nothing(
    tmp_path: Path, reference: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _copy(reference, tmp_path)
    before = _fingerprint(run)

    def killed(*args: object, **kwargs: object) -> None:
        raise SimulatedKillError  # as SIGKILL would, before any checkpoint of the branch

    monkeypatch.setattr(CheckpointManager, "save", killed)
    older = str(run / "checkpoints" / "step-00000003")
    with pytest.raises(SimulatedKillError):
        main(["resume", str(run), "--checkpoint", older, "--max-steps", "12"])
    assert _fingerprint(run) == before
    monkeypatch.undo()
    assert main(["resume", str(run), "--checkpoint", older, "--max-steps", "9"]) == 0
    names = [path.name for path in CheckpointManager(run / "checkpoints").checkpoints()]
    assert names == ["step-00000003", "step-00000006", "step-00000009"]  # 12 replaced
    assert CheckpointManager(run / "checkpoints").latest().name == "step-00000009"
    assert _steps(run) == list(range(1, 10))


def test_a_word2vec_branch_deletes_nothing_before_its_first_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, run = planted_corpus(tmp_path / "corpus.txt"), tmp_path / "w2v"
    settings = ["--vector-size", "8", "--epochs", "4", "--min-count", "1", "--threads", "1",
                "--seed", "3", "--quiet"]  # fmt: skip
    assert main(["word2vec", "train", str(corpus), "--run-dir", str(run), *settings]) == 0
    names = [path.name for path in CheckpointManager(run / "checkpoints").checkpoints()]
    assert len(names) == 3
    before, vectors = _fingerprint(run), (run / "vectors.safetensors").read_bytes()

    def killed(*args: object, **kwargs: object) -> None:
        raise SimulatedKillError

    monkeypatch.setattr(CheckpointManager, "save", killed)
    older = ["word2vec", "resume", str(run), "--checkpoint", str(run / "checkpoints" / names[0])]
    with pytest.raises(SimulatedKillError):
        main([*older, "--quiet"])
    assert _fingerprint(run) == before
    monkeypatch.undo()
    assert main([*older, "--quiet"]) == 0
    assert [path.name for path in CheckpointManager(run / "checkpoints").checkpoints()] == names
    steps = _steps(run)
    assert steps == sorted(set(steps))  # each round once
    assert (run / "vectors.safetensors").read_bytes() == vectors  # threads 1: bit for bit


def test_resume_help_says_an_older_checkpoint_branches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["resume", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "an older one branches the run there" in help_text
    assert "at or below the checkpoint's step nothing is trained or changed" in help_text


# -- resume on changed data --------------------------------------------------------------------


def test_resume_refuses_data_changed_since_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "corpus.txt"
    text = "".join(f"line {i}: the quick brown fox jumps over the lazy dog.\n" for i in range(200))
    data.write_text(text)
    run = tmp_path / "run"
    assert main(_train(run, 3, "--data", str(data))) == 0
    data.write_text(text.replace("quick", "QUICK"))  # the same length, another vocabulary
    status, output = _cli(capsys, "resume", str(run), "--max-steps", "6")
    assert status == 2
    assert f"the data of {run} changed since it was trained" in _one_error_line(output)
    assert _steps(run) == [1, 2, 3]
    data.write_text(text)  # restored: the run continues
    assert main(["resume", str(run), "--max-steps", "6"]) == 0


# -- a checkpoint moved to another disk and linked ------------------------------------------------


def test_a_symlinked_old_checkpoint_is_pruned_by_its_link(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(_train(run, 6, "--keep-last", "2")) == 0
    other_disk = tmp_path / "other-disk"
    other_disk.mkdir()
    old = run / "checkpoints" / "step-00000003"
    shutil.move(old, other_disk / old.name)
    old.symlink_to(other_disk / old.name)
    assert main(["resume", str(run), "--max-steps", "12"]) == 0
    names = [path.name for path in CheckpointManager(run / "checkpoints").checkpoints()]
    assert names == ["step-00000009", "step-00000012"]
    assert not old.is_symlink()  # the link went when the checkpoint was pruned
    read_checkpoint(other_disk / old.name)  # its target is left where the user put it


# -- a tensor file's size is checked before it is read -------------------------------------------


def test_an_oversized_tensor_file_is_refused_before_it_is_read(
    tmp_path: Path, reference: Path
) -> None:
    run = _copy(reference, tmp_path)
    weights = run / "checkpoints" / "step-00000012" / "model.safetensors"
    with open(weights, "r+b") as handle:
        handle.truncate(1 << 30)  # sparse: 1 GiB that takes no disk
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match=r"1073741824 bytes, state.json says \d+"):
            read_checkpoint(weights.parent)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20
    assert os.stat(weights).st_size == 1 << 30

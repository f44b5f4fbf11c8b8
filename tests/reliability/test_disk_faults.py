"""The disk-faults campaign in CI (`bench/reliability/disk_faults.py`): every case kind once.

A full disk, a read-only run, a directory deleted mid-run and each damaged-file kind must give
exit status 2 with one `error:` line naming the file and the cause (or carry on, where that is
the right behaviour), leave every earlier checkpoint byte-identical and loadable, and leave no
`.tmp-*` debris. The commands run in-process through `rnnkit.cli.main`. Where `mount` is refused
(CI is not root) the full disk and the read-only run use the fallbacks: chmod 0555 for a non-root
user, else an OSError injected in-process; nothing is skipped.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.reliability import disk_fault_checks as checks
from bench.reliability import disk_fault_damage as damages
from bench.reliability import disk_faults as campaign
from rnnkit.cli import main
from rnnkit.training import CheckpointManager, read_checkpoint
from rnnkit.training import checkpoint as checkpoint_module
from rnnkit.training import runs as runs_module


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-step tiny charlm run with checkpoints at steps 3, 6, 9 and 12."""
    run = tmp_path_factory.mktemp("disk-faults") / "reference"
    assert main(checks.train_argv(run, 12)) == 0
    return run


@pytest.fixture(scope="module")
def mount_allowed(tmp_path_factory: pytest.TempPathFactory) -> bool:
    return checks.can_mount(tmp_path_factory.mktemp("mount-probe"))


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out + captured.err


@contextlib.contextmanager
def _scratch(path: Path, mount: bool, options: str) -> Iterator[Path]:
    """A tmpfs with `options` at `path` when mounting is allowed, else a plain directory."""
    if mount:
        with checks.tmpfs(path, options):
            yield path
    else:
        path.mkdir(parents=True)
        yield path


def _record_saves(monkeypatch: pytest.MonkeyPatch, run: Path) -> dict[str, dict[str, str]]:
    """Fingerprint each checkpoint the moment its save returns, keyed by its directory."""
    real, written = CheckpointManager.save, {}

    def save(self: CheckpointManager, *args: object, **kw: object) -> Path:
        path = real(self, *args, **kw)  # type: ignore[arg-type]
        written[str(path.relative_to(run))] = checks.fingerprint_dir(run, path)
        return path

    monkeypatch.setattr(CheckpointManager, "save", save)
    return written


def _fail_nth_write(monkeypatch: pytest.MonkeyPatch, name: str, n: int, code: int) -> None:
    """The n-th _write_durable of a file called `name` fails with OSError(code)."""
    real, calls = checkpoint_module._write_durable, []

    def write(path: Path, data: bytes) -> None:
        calls.extend([path] if path.name == name else [])
        if path.name == name and len(calls) == n:
            raise OSError(code, os.strerror(code), str(path))
        real(path, data)

    monkeypatch.setattr(checkpoint_module, "_write_durable", write)


@pytest.mark.parametrize("limit", ["size", "nr_inodes"])
def test_a_checkpoint_that_does_not_fit_is_a_clear_error_and_spares_the_earlier_ones(
    limit: str, tmp_path: Path, reference: Path, mount_allowed: bool,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    size = 2 * checks.pages(reference / "checkpoints" / "step-00000003", "*") + 48 * 1024
    options = f"size={size}" if limit == "size" else "size=16m,nr_inodes=14"
    with _scratch(tmp_path / "mnt", mount_allowed, options) as mnt:
        run = mnt / "run"
        if not mount_allowed:  # fallback: the third checkpoint's state.json meets ENOSPC
            _fail_nth_write(monkeypatch, "state.json", 3, errno.ENOSPC)
        written = _record_saves(monkeypatch, run)
        status, output = _cli(capsys, *checks.train_argv(run, 12))
        assert checks.clear_error(status, output, str(run), "No space left on device") == ""
        earlier = sorted(p.name for p in run.glob("checkpoints/step-*"))
        assert earlier[:1] == ["step-00000003"]
        assert "step-00000012" not in earlier
        assert set(written) == {f"checkpoints/{name}" for name in earlier}
        for files in written.values():  # byte-identical to what was written before the fault
            assert checks.intact(files, run) == ""
        assert checks.latest_loads(run) == ""


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
@pytest.mark.parametrize("file", ["metrics.jsonl", "config.json"])
def test_a_full_disk_or_quota_while_writing_run_files_is_one_error_line(
    file: str, code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    real_open = open

    def fake_open(path: object, *args: object, **kwargs: object) -> object:
        if Path(str(path)).name == file:
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(runs_module, "open", fake_open, raising=False)
    if file == "config.json":
        _fail_nth_write(monkeypatch, ".config.json.tmp-" + str(os.getpid()), 1, code)
    run = tmp_path / "run"
    status, output = _cli(capsys, *checks.train_argv(run, 4))
    assert checks.clear_error(status, output, str(run / file), os.strerror(code)) == ""
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name]


def test_a_read_only_run_generates_and_evaluates_but_resume_is_a_clear_error(
    tmp_path: Path, reference: Path, mount_allowed: bool, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    run = tmp_path / "run"
    shutil.copytree(reference, run)
    before = checks.fingerprint(run)
    with contextlib.ExitStack() as stack:
        cause = _make_read_only(run, mount_allowed, stack, monkeypatch)
        assert _cli(capsys, *checks.COMMANDS["generate"](run))[0] == 0
        assert _cli(capsys, *checks.COMMANDS["eval"](run))[0] == 0
        status, output = _cli(capsys, *checks.COMMANDS["resume"](run))
        assert checks.clear_error(status, output, str(run / "metrics.jsonl"), cause) == ""
    assert checks.intact(before, run) == ""


def _make_read_only(
    run: Path, mount: bool, stack: contextlib.ExitStack, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Make `run` read-only: a ro bind mount, chmod 0555 (not root), or injected EROFS."""
    if mount:
        checks.subprocess.run(["mount", "--bind", "-o", "ro", str(run), str(run)], check=True)
        stack.callback(checks.subprocess.run, ["umount", str(run)], check=False)
        return "Read-only file system"
    if os.geteuid() != 0:
        for path in [run, *run.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        stack.callback(lambda: [p.chmod(0o755) for p in [run, *run.rglob("*")] if p.is_dir()])
        return "Permission denied"

    def read_only(path: Path, text: str) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(runs_module, "atomic_write_text", read_only)
    return "Read-only file system"


def _delete_before_save(
    monkeypatch: pytest.MonkeyPatch, step: int, remove: Callable[[Path], None]
) -> None:
    real = CheckpointManager.save

    def save(self: CheckpointManager, at: int, *args: object, **kw: object
             ) -> Path:  # fmt: skip
        if at == step:
            remove(self.root)
        return real(self, at, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(CheckpointManager, "save", save)


@pytest.mark.parametrize("target", ["checkpoints", "latest", "run"])
def test_a_directory_or_pointer_deleted_mid_run(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    removers = {
        "checkpoints": shutil.rmtree,
        "latest": lambda root: (root / "latest").unlink(),
        "run": lambda root: shutil.rmtree(root.parent),
    }
    _delete_before_save(monkeypatch, 9, removers[target])
    run = tmp_path / "run"
    status, output = _cli(capsys, *checks.train_argv(run, 12))
    if target == "run":  # nothing left to write into: stop rather than recreate half a run
        assert checks.clear_error(status, output, str(run), "No such file") == ""
        assert not run.exists()
    else:  # the next save recreates checkpoints/ or `latest`, and the run completes
        assert status == 0, output
        assert checks.latest_loads(run) == ""
        assert (run / "checkpoints" / "latest").read_text() == "step-00000012\n"


DAMAGES = [
    (group, name, damage)
    for group, table in damages.DAMAGES.items()
    for name, damage in table.items()
]


@pytest.mark.parametrize(("group", "name", "damage"), DAMAGES, ids=[d[1] for d in DAMAGES])
def test_resume_of_a_damaged_run_is_one_error_line_and_changes_nothing(
    group: str, name: str, damage: tuple, tmp_path: Path, reference: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _check_damage(damage, "resume", tmp_path, reference, capsys)


@pytest.mark.parametrize("command", ["generate", "eval", "serve"])
@pytest.mark.parametrize(
    "name", ["truncated model.safetensors", "directory as state.json", "latest not UTF-8"]
)
def test_generate_eval_and_serve_of_a_damaged_run(
    name: str, command: str, tmp_path: Path, reference: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """One error line, or success where the damaged part is not read (serve reads `best`)."""
    # the models are loaded and the port bound; no server is started
    monkeypatch.setattr("rnnkit.cli.serve.run_server", lambda app, sock, host: sock.close())
    table = {n: d for t in damages.DAMAGES.values() for n, d in t.items()}
    _check_damage(table[name], command, tmp_path, reference, capsys)


def _check_damage(damage: tuple, command: str, tmp_path: Path, reference: Path,
                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    run = tmp_path / "run"
    shutil.copytree(reference, run)
    apply, needle, succeeds = damage
    apply(run)
    before = checks.fingerprint(run)
    status, output = _cli(capsys, *checks.COMMANDS[command](run))
    if command in succeeds:
        assert checks.succeeded(status, output) == ""
    else:
        assert checks.clear_error(status, output, *([needle] if needle else [])) == ""
    assert checks.intact(before, run, damaged="step-00000012") == ""


def test_another_runs_checkpoint_is_refused_by_name(
    tmp_path: Path, reference: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    argv = [*checks.train_argv(other, 3), "--hidden-size", "12", "--cell", "gru"]
    assert main(argv) == 0
    foreign = other / "checkpoints" / "step-00000003"
    for command in ("resume", "eval"):
        status, output = _cli(capsys, command, str(reference), "--checkpoint", str(foreign))
        assert checks.clear_error(status, output, str(foreign), "hidden_size") == ""
    assert read_checkpoint(foreign).state["step"] == 3


def test_an_os_error_outside_rnnkit_code_is_one_line_naming_the_paths(
    tmp_path: Path, reference: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    import rnnkit.training.plots as plots_module

    def full(*args: object) -> list[Path]:
        raise OSError(errno.ENOSPC, "No space left on device")  # savefig names no file

    monkeypatch.setattr(plots_module, "plot_run", full)
    status, output = _cli(capsys, "plot", str(reference), "--out", str(tmp_path / "plots"))
    assert checks.clear_error(status, output, str(tmp_path / "plots"), "No space left") == ""


def test_the_campaign_checks_can_fail(tmp_path: Path, reference: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(reference, run)
    before = checks.fingerprint(run)
    damages.flip_bit(run / "checkpoints" / "step-00000006" / "model.safetensors")
    assert checks.intact(before, run).startswith("changed or lost")
    (run / "checkpoints" / ".tmp-step-00000015-1").mkdir()
    assert checks.intact(checks.fingerprint(run), run, damaged="step-00000006").startswith(
        "debris left"
    )
    assert checks.clear_error(1, "Traceback (most recent call last):\nOSError: x", "x") != ""
    assert checks.clear_error(2, "error: a\nerror: b", "a").startswith("exit 2, 2 error")
    assert "lacks" in checks.clear_error(2, "error: about x", "y")


def test_one_trial_in_a_subprocess_and_the_table(tmp_path: Path, reference: Path) -> None:
    damage = damages.DAMAGES["damaged-pointer"]["latest not UTF-8"]
    assert damages.damage_trial(reference, tmp_path / "run", damage, "generate") == ""
    tally = campaign.Tally(tried=2, passed=1, failures=["x: exit 1"])
    text = campaign.table({"damaged-pointer": tally}, "tmpfs")
    assert "| damaged-pointer | 2 | 1 | latest not UTF-8: traceback" in text
    assert text.endswith("FAILED damaged-pointer: x: exit 1")

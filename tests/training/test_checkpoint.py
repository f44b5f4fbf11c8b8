"""Checkpoints: atomic writes, keep-last-N / keep-best, and the corrupt-checkpoint matrix."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from models import NextTokenObjective, TinyLM, delay_copy_data, tiny_trainer
from rnnkit.errors import CheckpointError
from rnnkit.training import (
    BatchSource,
    CheckpointManager,
    Trainer,
    TrainerConfig,
    read_checkpoint,
    write_checkpoint,
)
from rnnkit.training import checkpoint as checkpoint_module
from rnnkit.training import checkpoint_manager as checkpoint_manager_module
from rnnkit.training.state_dicts import load_optimizer_tensors, tensors_to_structure


def _tensors(value: float = 1.0) -> dict[str, dict[str, torch.Tensor]]:
    return {
        "model.safetensors": {"weight": torch.full((3, 2), value), "scalar": torch.tensor(2.0)},
        "optimizer.safetensors": {"state.0.step": torch.tensor(5.0)},
        "loop.safetensors": {},
    }


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "step-00000001", _tensors(), {"step": 1, "note": [1, 2]})
    checkpoint = read_checkpoint(path)
    assert torch.equal(checkpoint.tensors["model.safetensors"]["weight"], torch.ones(3, 2))
    assert checkpoint.state["step"] == 1
    assert checkpoint.state["note"] == [1, 2]
    assert checkpoint.state["format"] == "rnnkit-checkpoint"
    assert set(checkpoint.state["files"]) == {
        "model.safetensors", "optimizer.safetensors", "loop.safetensors"
    }  # fmt: skip
    assert not list(tmp_path.glob(".tmp-*"))


def test_an_existing_checkpoint_is_never_overwritten(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "step-00000001", _tensors(1.0), {"step": 1})
    before = (path / "model.safetensors").read_bytes()
    write_checkpoint(path, _tensors(7.0), {"step": 1})
    assert (path / "model.safetensors").read_bytes() == before


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _edit_state(**changes: object) -> Callable[[Path], None]:
    def edit(checkpoint: Path) -> None:
        state = json.loads((checkpoint / "state.json").read_text())
        state.update(changes)
        (checkpoint / "state.json").write_text(json.dumps(state))

    return edit


def _not_safetensors(checkpoint: Path) -> None:
    garbage = b"\x00" * 64
    (checkpoint / "model.safetensors").write_bytes(garbage)
    state = json.loads((checkpoint / "state.json").read_text())
    state["files"]["model.safetensors"] = {
        "sha256": hashlib.sha256(garbage).hexdigest(),
        "bytes": len(garbage),
    }
    (checkpoint / "state.json").write_text(json.dumps(state))


CORRUPTIONS: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated weights": (
        lambda c: (c / "model.safetensors").write_bytes(
            (c / "model.safetensors").read_bytes()[:50]
        ),
        r"model\.safetensors is truncated",
    ),
    "flipped byte": (
        lambda c: _flip_byte(c / "optimizer.safetensors"),
        r"optimizer\.safetensors is corrupt: its sha256",
    ),
    "garbage state.json": (
        lambda c: (c / "state.json").write_text("{not json"),
        r"state\.json is corrupt or truncated",
    ),
    "truncated state.json": (
        lambda c: (c / "state.json").write_text((c / "state.json").read_text()[:40]),
        r"state\.json is corrupt or truncated",
    ),
    "missing state.json": (lambda c: (c / "state.json").unlink(), r"state\.json is missing"),
    "missing tensor file": (
        lambda c: (c / "loop.safetensors").unlink(),
        r"loop\.safetensors is missing",
    ),
    "foreign format": (_edit_state(format="someone-else"), r"not an rnnkit checkpoint"),
    "foreign json": (
        lambda c: (c / "state.json").write_text("[1, 2, 3]"),
        r"not an rnnkit checkpoint",
    ),
    "newer format version": (_edit_state(format_version=99), r"format version 99"),
    "no file table": (_edit_state(files=None), r"lacks the 'files' table"),
    "not safetensors": (_not_safetensors, r"model\.safetensors is not a valid safetensors"),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corrupt_checkpoints_are_refused_with_the_file_named(tmp_path: Path, name: str) -> None:
    path = write_checkpoint(tmp_path / "step-00000001", _tensors(), {"step": 1})
    corrupt, message = CORRUPTIONS[name]
    corrupt(path)
    with pytest.raises(CheckpointError, match=message):
        read_checkpoint(path)


def test_a_torch_save_file_is_refused_without_unpickling(tmp_path: Path) -> None:
    foreign = tmp_path / "model.pt"
    torch.save({"weight": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not an rnnkit checkpoint directory"):
        read_checkpoint(foreign)
    with pytest.raises(CheckpointError, match=r"state\.json is missing"):
        read_checkpoint(tmp_path)


def test_loading_never_calls_torch_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_checkpoint(tmp_path / "step-00000001", _tensors(), {"step": 1})

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("torch.load was called")

    monkeypatch.setattr(torch, "load", forbidden)
    assert read_checkpoint(path).state["step"] == 1


@pytest.mark.parametrize("fail_at", ["rename", "tensor file"])
def test_a_failed_write_leaves_the_previous_checkpoint_and_pointer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    manager = CheckpointManager(tmp_path, keep_last=1)
    good = manager.save(1, _tensors(1.0), {"step": 1})
    if fail_at == "rename":
        real_replace = checkpoint_module.os.replace

        def replace(src: object, dst: object) -> None:
            if Path(str(dst)).name.startswith("step-"):
                raise OSError(28, "No space left on device")
            real_replace(src, dst)

        monkeypatch.setattr(checkpoint_module.os, "replace", replace)
    else:
        calls = []

        def write(path: Path, data: bytes) -> None:
            calls.append(path)
            if len(calls) == 2:
                raise OSError(5, "Input/output error")
            path.write_bytes(data)

        monkeypatch.setattr(checkpoint_module, "_write_durable", write)
    with pytest.raises(CheckpointError, match=r"could not write checkpoint .*intact"):
        manager.save(2, _tensors(2.0), {"step": 2})
    assert manager.latest() == good
    assert read_checkpoint(good).state["step"] == 1
    assert [p.name for p in manager.checkpoints()] == ["step-00000001"]
    assert not list(tmp_path.glob(".tmp-*"))


def test_a_run_killed_mid_write_leaves_only_a_temp_dir_that_is_cleaned(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path, keep_last=3)
    good = manager.save(1, _tensors(), {"step": 1})
    stale = tmp_path / ".tmp-step-00000002-999999"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"partial")
    assert manager.latest() == good
    assert manager.checkpoints() == [good]
    manager.save(2, _tensors(), {"step": 2})
    assert not stale.exists()


def test_keep_last_n_and_keep_best(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path, keep_last=2, keep_best=True)
    for step in range(1, 6):
        manager.save(step, _tensors(float(step)), {"step": step}, is_best=step == 2)
    assert [p.name for p in manager.checkpoints()] == [
        "step-00000002", "step-00000004", "step-00000005"
    ]  # fmt: skip
    assert manager.best() == tmp_path / "step-00000002"
    assert manager.latest() == tmp_path / "step-00000005"
    assert (tmp_path / "latest").read_text().strip() == "step-00000005"


def test_a_pointer_to_a_missing_checkpoint_is_an_error(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    manager.save(1, _tensors(), {"step": 1})
    shutil.rmtree(tmp_path / "step-00000001")
    with pytest.raises(CheckpointError, match="latest points to 'step-00000001'"):
        manager.latest()


def _trained(tmp_path: Path, **config: object):
    defaults = {"max_steps": 3, "checkpoint_every": 3, "quiet": True, "device": "cpu"}
    trainer, _ = tiny_trainer(
        TrainerConfig(**{**defaults, **config}),
        run_dir=tmp_path,
        run_config={"task": "tiny", "task_config": {"hidden_size": 16}},
    )
    trainer.fit()
    return trainer


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path: Path) -> None:
    trainer = _trained(tmp_path)
    bigger = Trainer(
        TinyLM(hidden_size=32),
        NextTokenObjective(),
        BatchSource(delay_copy_data(16, 4, 8, 0), 8),
        config=TrainerConfig(quiet=True, device="cpu"),
        run_config={"task": "tiny", "task_config": {"hidden_size": 32}},
    )
    with pytest.raises(CheckpointError) as caught:
        bigger.load_checkpoint(trainer.last_checkpoint)
    message = str(caught.value)
    assert "model.safetensors does not match the model" in message
    assert "shape mismatch" in message
    assert "task_config.hidden_size: 16 vs 32" in message


def test_a_different_optimizer_is_refused(tmp_path: Path) -> None:
    trainer = _trained(tmp_path, optimizer="adam")
    other, _ = tiny_trainer(TrainerConfig(optimizer="sgd", quiet=True, device="cpu"))
    with pytest.raises(CheckpointError, match="holds Adam state but the trainer uses SGD"):
        other.load_checkpoint(trainer.last_checkpoint)


def test_resuming_an_empty_run_dir_is_an_error(tmp_path: Path) -> None:
    trainer, _ = tiny_trainer(TrainerConfig(quiet=True, device="cpu"), run_dir=tmp_path)
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        trainer.load_checkpoint()


# -- regressions found by fuzzing (tests/reliability, bench/reliability/fuzz.py) -----------------
def _rewrite_state(checkpoint: Path, text: str) -> None:
    (checkpoint / "state.json").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda text: "[" * 100_000, "corrupt or truncated"),  # was RecursionError
        (lambda text: text.replace('"step": 1', '"step": ' + "1" * 5000), "corrupt or truncated"),
        (lambda text: text.replace('"step": 1', '"step": 3'), "does not match its 'state_sha256'"),
        (lambda text: text.replace('"bytes": ', '"bytes": 1'), "truncated or was changed"),
    ],
)
def test_state_json_damage_is_a_checkpoint_error(
    tmp_path: Path, edit: Callable[[str], str], message: str
) -> None:
    path = write_checkpoint(tmp_path / "step-00000001", _tensors(), {"step": 1})
    _rewrite_state(path, edit((path / "state.json").read_text(encoding="utf-8")))
    with pytest.raises(CheckpointError, match=message):
        read_checkpoint(path)


def test_a_file_entry_that_is_not_an_object_is_a_checkpoint_error(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "step-00000001", _tensors(), {"step": 1})
    _edit_state(files={"model.safetensors": 5})(path)  # was AttributeError: int has no .get
    with pytest.raises(CheckpointError, match=r"does not list model\.safetensors with its sha256"):
        read_checkpoint(path)


def test_version_1_checkpoints_without_a_state_digest_still_load(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "step-00000001", _tensors(), {"step": 1})
    state = json.loads((path / "state.json").read_text(encoding="utf-8"))
    del state["state_sha256"]
    _rewrite_state(path, json.dumps({**state, "format_version": 1}))
    assert read_checkpoint(path).state["step"] == 1
    _rewrite_state(path, json.dumps({**state, "format_version": 2}))
    with pytest.raises(CheckpointError, match="does not match its 'state_sha256'"):
        read_checkpoint(path)


def test_resuming_from_a_bit_flipped_rng_state_is_a_checkpoint_error(tmp_path: Path) -> None:
    trainer = _trained(tmp_path)
    path = trainer.last_checkpoint
    text = (path / "state.json").read_text(encoding="utf-8")
    flipped = re.sub(r'("torch": \[)\d+', r"\g<1>300", text, count=1)  # a byte must be ≤ 255
    assert flipped != text
    _rewrite_state(path, flipped)
    with pytest.raises(CheckpointError, match=r"state\.json is corrupt or was edited"):
        trainer.load_checkpoint(path)  # was RuntimeError from torch.set_rng_state


@pytest.mark.parametrize(
    "structure",
    [
        {"items": []},  # was KeyError: 'kind'
        {"kind": "tensor", "name": "carry.9"},  # was KeyError: 'carry.9'
        {"kind": "tensor", "name": ["carry.0"]},  # was TypeError: unhashable
        {"kind": "list", "items": 3},  # was TypeError: not iterable
        {"kind": "tuple", "items": [], "namedtuple": "rnnkit.cells.base:LSTMState"},  # TypeError
        None,  # was TypeError: not subscriptable
    ],
)
def test_a_malformed_carry_description_is_a_checkpoint_error(structure: object) -> None:
    tensors = {"carry.0": torch.zeros(2)}
    with pytest.raises(CheckpointError, match="carry"):
        tensors_to_structure(tensors, structure, torch.device("cpu"))


def test_a_carry_never_makes_python_import_a_module() -> None:
    structure = {"kind": "tuple", "items": [], "namedtuple": "rnnkit.__main__:main"}
    assert tensors_to_structure({}, structure, torch.device("cpu")) == ()  # was SystemExit


@pytest.mark.parametrize(
    ("tensors", "meta"),
    [
        ({}, ["Adam"]),  # was AttributeError: list has no .get
        ({}, {"class": "Adam", "param_groups": 7}),  # was TypeError
        ({"momentum": torch.zeros(1)}, {"class": "Adam", "param_groups": []}),  # was ValueError
        ({}, {"class": "Adam", "param_groups": [], "extra": {"x": {}}}),  # was ValueError
        ({}, {"class": "Adam", "param_groups": [{"params": "ab"}]}),
    ],
)
def test_malformed_optimizer_state_is_a_checkpoint_error(
    tensors: dict[str, torch.Tensor], meta: object
) -> None:
    optimizer = torch.optim.Adam(TinyLM().parameters())
    with pytest.raises(CheckpointError):
        load_optimizer_tensors(optimizer, tensors, meta, source=Path("ckpt"))  # type: ignore[arg-type]


# Disk faults (issue 14, bench/reliability/disk_faults.py): what the campaign found.


def _fail_writes_to(
    monkeypatch: pytest.MonkeyPatch, name: str, code: int = 28, reason: str = "No space left"
) -> None:
    """Make _write_durable fail with OSError(code) for files whose name starts with `name`."""
    real = checkpoint_module._write_durable

    def write(path: Path, data: bytes) -> None:
        if path.name.startswith(name):
            path.write_bytes(data[:3])  # a partial write, as on a full disk
            raise OSError(code, reason, str(path))
        real(path, data)

    monkeypatch.setattr(checkpoint_module, "_write_durable", write)


def test_a_failed_pointer_update_keeps_the_previous_pointer_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = CheckpointManager(tmp_path, keep_last=5)
    first = manager.save(1, _tensors(1.0), {"step": 1})
    _fail_writes_to(monkeypatch, ".latest.tmp-", 30, "Read-only file system")
    with pytest.raises(CheckpointError, match=r"could not update its pointers.*Read-only.*intact"):
        manager.save(2, _tensors(2.0), {"step": 2})
    assert manager.latest() == first
    assert (tmp_path / "latest").read_text() == "step-00000001\n"
    assert not list(tmp_path.glob(".*tmp-*"))
    assert read_checkpoint(tmp_path / "step-00000002").state["step"] == 2  # complete, unnamed


def test_atomic_write_text_keeps_the_old_file_when_the_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "config.json"
    target.write_text("old\n")
    _fail_writes_to(monkeypatch, ".config.json.tmp-")
    with pytest.raises(OSError, match="No space left"):
        checkpoint_module.atomic_write_text(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_prune_ignores_a_dangling_best_pointer(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path, keep_last=1)
    manager.save(1, _tensors(), {"step": 1}, is_best=True)
    manager.save(2, _tensors(), {"step": 2})
    shutil.rmtree(tmp_path / "step-00000001")  # the best checkpoint, deleted by hand
    path = manager.save(3, _tensors(), {"step": 3})  # used to raise from prune
    assert manager.latest() == path
    assert [p.name for p in manager.checkpoints()] == ["step-00000003"]


def test_prune_never_deletes_the_checkpoint_latest_names(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path, keep_last=1, keep_best=False)
    for step in (1, 2, 3):
        write_checkpoint(tmp_path / f"step-{step:08d}", _tensors(), {"step": step})
    (tmp_path / "latest").write_text("step-00000001\n")
    manager.prune()
    assert [p.name for p in manager.checkpoints()] == ["step-00000001", "step-00000003"]


def test_prune_removes_a_killed_runs_pointer_temp_file(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    stale = tmp_path / ".latest.tmp-999999"
    stale.write_text("step-0")
    manager.save(1, _tensors(), {"step": 1})
    assert not stale.exists()


def test_a_missing_latest_pointer_falls_back_to_the_newest_checkpoint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manager = CheckpointManager(tmp_path)
    manager.save(1, _tensors(), {"step": 1})
    newest = manager.save(2, _tensors(), {"step": 2})
    (tmp_path / "latest").unlink()
    assert manager.latest() == newest
    assert "latest is missing; using the newest checkpoint" in caplog.text
    assert CheckpointManager(tmp_path / "empty").latest() is None


@pytest.mark.parametrize("content", [b"\xff\xfe\x00", None])
def test_an_unreadable_latest_pointer_is_a_checkpoint_error_listing_checkpoints(
    tmp_path: Path, content: bytes | None
) -> None:
    manager = CheckpointManager(tmp_path)
    manager.save(1, _tensors(), {"step": 1})
    (tmp_path / "latest").unlink()
    if content is None:
        (tmp_path / "latest").mkdir()  # a directory where the pointer file should be
    else:
        (tmp_path / "latest").write_bytes(content)
    with pytest.raises(CheckpointError, match=r"latest cannot be read .*step-00000001"):
        manager.latest()


def test_saving_into_a_deleted_run_directory_does_not_recreate_it(tmp_path: Path) -> None:
    run = tmp_path / "run"
    manager = CheckpointManager(run / "checkpoints")
    run.mkdir()
    manager.save(1, _tensors(), {"step": 1})
    shutil.rmtree(run)
    with pytest.raises(CheckpointError, match=r"could not write checkpoint .*No such file"):
        manager.save(2, _tensors(), {"step": 2})
    assert not run.exists()
    run.mkdir()  # a deleted checkpoints/ alone is recreated at the next save
    assert manager.save(3, _tensors(), {"step": 3}) == run / "checkpoints" / "step-00000003"


def test_checkpoints_deleted_while_a_checkpoint_is_written_are_written_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "checkpoints"
    manager = CheckpointManager(root)
    manager.save(1, _tensors(), {"step": 1})
    real, deleted = checkpoint_module._write_durable, []

    def write(path: Path, data: bytes) -> None:
        if not deleted:  # `rm -rf checkpoints` in the middle of the write
            deleted.append(path)
            shutil.rmtree(root)
        real(path, data)

    monkeypatch.setattr(checkpoint_module, "_write_durable", write)
    path = manager.save(2, _tensors(2.0), {"step": 2})
    assert manager.latest() == path
    assert read_checkpoint(path).state["step"] == 2
    assert sorted(p.name for p in root.iterdir()) == ["latest", "step-00000002"]


@pytest.mark.parametrize(
    ("key", "value"), [("step", "12"), ("epoch", 1.5), ("loop", [12]), ("optimizer", "Adam")]
)
def test_state_json_entries_of_the_wrong_type_are_a_checkpoint_error(
    tmp_path: Path, key: str, value: object
) -> None:
    state = {"step": 1, "epoch": 0, "loop": {}, "optimizer": {}, key: value}
    path = write_checkpoint(tmp_path / "step-00000001", _tensors(), state)  # digest matches
    with pytest.raises(CheckpointError, match=rf"state.json: '{key}' must be"):
        read_checkpoint(path)


def test_checkpoints_deleted_before_the_pointer_update_are_saved_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "checkpoints"
    manager = CheckpointManager(root)
    manager.save(1, _tensors(), {"step": 1})
    real, deleted = checkpoint_module.atomic_write_text, []

    def write_pointer(path: Path, text: str) -> None:
        if not deleted:  # `rm -rf checkpoints` right after the checkpoint was renamed into place
            deleted.append(path)
            shutil.rmtree(root)
        real(path, text)

    monkeypatch.setattr(checkpoint_manager_module, "atomic_write_text", write_pointer)
    path = manager.save(2, _tensors(2.0), {"step": 2})
    assert manager.latest() == path
    assert read_checkpoint(path).state["step"] == 2
    assert sorted(p.name for p in root.iterdir()) == ["latest", "step-00000002"]

"""The damages of the disk-faults campaign: checkpoint files, pointers and run files broken at rest.

Each damage is applied to a copy of a finished run; then `rnnkit resume | generate | eval | serve`
must give one clear error naming the file, or succeed where the damaged part is not read.

References: bench/reliability/disk_faults.py.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from safetensors.torch import save as save_tensors

from bench.reliability.disk_fault_checks import (
    COMMANDS,
    clear_error,
    fingerprint,
    intact,
    run_cli,
    succeeded,
)
from rnnkit.training import read_checkpoint
from rnnkit.training.checkpoint import state_digest

Trials = list[tuple[str, str]]
LATEST = "checkpoints/step-00000012"


def flip_bit(path: Path) -> None:
    """Flip the lowest bit of the middle byte of `path`."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    """Cut `path` to half its length."""
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def edit_state(run: Path, change: Callable[[dict], None]) -> None:
    """Change state.json of the latest checkpoint and recompute its digest (a faulty writer)."""
    path = run / LATEST / "state.json"
    state = json.loads(path.read_text())
    change(state)
    state["state_sha256"] = state_digest(state)
    path.write_text(json.dumps(state))


def replace_model(run: Path, tensors: dict) -> None:
    """A foreign model.safetensors, listed with its true sha256 and size in state.json."""
    data = save_tensors(tensors)
    (run / LATEST / "model.safetensors").write_bytes(data)
    entry = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    edit_state(run, lambda state: state["files"].update({"model.safetensors": entry}))


def as_directory(path: Path) -> None:
    """Replace the file `path` by an empty directory."""
    path.unlink()
    path.mkdir()


def _edit_json(path: Path, key: str, value: object) -> None:
    content = json.loads(path.read_text())
    content[key] = value
    path.write_text(json.dumps(content))


def _set(key: str, value: object) -> Callable[[dict], None]:
    return lambda state: state.__setitem__(key, value)


def _wrong_shape(run: Path) -> None:
    import torch

    tensors = read_checkpoint(run / LATEST).tensors["model.safetensors"]
    name = sorted(tensors)[0]
    replace_model(run, {**tensors, name: torch.zeros(3, 5)})


# (group, name, damage, needle of the error, commands that should succeed instead)
Damage = tuple[Callable[[Path], None], str, frozenset[str]]
NONE, ALL = frozenset(), frozenset(COMMANDS)
WEIGHTS_ONLY = frozenset({"generate", "serve"})  # they read the weights, not the train state
BEST = frozenset({"serve"})  # serve reads the `best` pointer, not `latest`
DAMAGES: dict[str, dict[str, Damage]] = {"damaged-checkpoint": {}, "damaged-pointer": {},
                                         "damaged-run-files": {}}  # fmt: skip


def _in_latest(name: str, change: Callable[[Path], None]) -> Callable[[Path], None]:
    return lambda run: change(run / LATEST / name)


def _add(group: str, name: str, damage: Callable[[Path], None], needle: str,
         succeeds: frozenset[str] = NONE) -> None:  # fmt: skip
    DAMAGES[group][name] = (damage, needle, succeeds)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


for _file in ("model.safetensors", "optimizer.safetensors", "loop.safetensors", "state.json"):
    _add("damaged-checkpoint", f"bit flip in {_file}", _in_latest(_file, flip_bit), _file)
for _file in ("model.safetensors", "state.json"):
    _add("damaged-checkpoint", f"truncated {_file}", _in_latest(_file, truncate), _file)
    _add("damaged-checkpoint", f"empty {_file}", _in_latest(_file, _empty), _file)
    _add("damaged-checkpoint", f"directory as {_file}", _in_latest(_file, as_directory), _file)
for _key, _value, _succeeds in (
    ("step", "12", NONE), ("rng", {"python": {}}, WEIGHTS_ONLY), ("loop", [12], NONE),
    ("optimizer", "Adam", NONE), ("files", [], NONE), ("data_position", None, NONE),
):  # fmt: skip
    _change = _set(_key, _value)
    _add("damaged-checkpoint", f"state.json {_key} = {json.dumps(_value)}",
         lambda run, c=_change: edit_state(run, c), "state.json", _succeeds)  # fmt: skip
_add("damaged-checkpoint", "foreign safetensors names",
     lambda run: replace_model(run, {"encoder.weight": _ones()}), "step-00000012")  # fmt: skip
_add("damaged-checkpoint", "tensor of the wrong shape", _wrong_shape, "step-00000012")
_POINTER = "checkpoints/latest"
_add("damaged-pointer", "latest pointing nowhere",
     lambda run: (run / _POINTER).write_text("step-99999999\n"), "latest", BEST)  # fmt: skip
_add("damaged-pointer", "latest not UTF-8",
     lambda run: (run / _POINTER).write_bytes(b"\xff\xfe\x00"), "latest", BEST)  # fmt: skip
_add("damaged-pointer", "latest a directory",
     lambda run: as_directory(run / _POINTER), "latest", BEST)  # fmt: skip
_add("damaged-pointer", "latest deleted", lambda run: (run / _POINTER).unlink(), "", ALL)
_add("damaged-run-files", "config.json task_config = []",
     lambda run: _edit_json(run / "config.json", "task_config", []), "config.json")  # fmt: skip
_add("damaged-run-files", "config.json vocab = \"abc\"",
     lambda run: _edit_json(run / "config.json", "vocab", "abc"), "config.json")  # fmt: skip
_add("damaged-run-files", "config.json truncated",
     lambda run: truncate(run / "config.json"), "config.json")  # fmt: skip
_add("damaged-run-files", "metrics.jsonl row a list",
     lambda run: (run / "metrics.jsonl").write_text("[1, 2]\n{}\n"), "metrics.jsonl",
     frozenset({"generate", "eval", "serve"}))  # fmt: skip


def _ones() -> object:
    import torch

    return torch.ones(4, 4)


def damage_trial(ref: Path, run: Path, damage: Damage, command: str) -> str:
    """Copy the reference run, damage it, run `command`: the problem, or '' when it passed."""
    shutil.copytree(ref, run)
    apply, needle, succeeds = damage
    apply(run)
    before = fingerprint(run)
    status, output = run_cli(COMMANDS[command](run))
    if command in succeeds:
        problem = succeeded(status, output)
    else:
        problem = clear_error(status, output, *([needle] if needle else []))
    return problem or intact(before, run, damaged=Path(LATEST).name)


def other_task(work: Path, ref: Path, quick: bool) -> Trials:
    """The latest checkpoint replaced by one of a sentiment run (another task)."""
    data, other = work / "sentiment-data", work / "sentiment-run"
    data.mkdir()
    lines = ["text,label"] + [f"good film {i},pos" if i % 2 else f"bad plot {i},neg"
                              for i in range(64)]  # fmt: skip
    (data / "reviews.csv").write_text("\n".join(lines) + "\n")
    status, output = run_cli(["train", "sentiment", "--data", str(data / "reviews.csv"),
                              "--dataset", "csv", "--folds", "4", "--embed-dim", "8",
                              "--hidden-size", "8", "--batch-size", "8", "--max-steps", "3",
                              "--quiet", "--device", "cpu", "--run-dir", str(other)])  # fmt: skip
    if status != 0:
        return [("train the other task", succeeded(status, output))]
    foreign = max(other.glob("checkpoints/step-*"))

    def swap(run: Path) -> None:
        shutil.rmtree(run / LATEST)
        shutil.copytree(foreign, run / LATEST)

    commands = ["resume"] if quick else list(COMMANDS)
    return [(f"another task's checkpoint, {c}",
             damage_trial(ref, work / f"other-{c}", (swap, "step-00000012", NONE), c))
            for c in commands]  # fmt: skip

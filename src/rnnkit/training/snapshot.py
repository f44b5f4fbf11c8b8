"""What a checkpoint of a training run holds, and how a run is put back into that state.

`capture` collects model, optimizer and carried-state tensors plus the JSON state (step, loop
counters, schedule, GradScaler, data position, RNG states, config) from the pieces of a run it
is handed; `restore` loads a verified checkpoint back into the model, optimizer, schedule and
scaler and returns the rest (`Restored`: loop counters, carried state, data position, RNG
states) for the trainer to put in place, the RNG states last (`set_all_rng_states`), so that
nothing drawn between loading and the next update can shift the random streams.

With weight averaging (averaging.py: NT-ASGD's trigger or `average_from`), `model.safetensors`
holds the averaged weights w̄ (what a loaded run uses), and `loop.safetensors` the iterate θ
under `iterate.<name>` and the count N of iterates averaged (`average.count`), so that a resume
continues both exactly.

The module stands below the trainer: the trainer calls it, never the other way round.

    trainer.py → snapshot.py → checkpoint_manager.py (the run's checkpoints/ directory)
                             → checkpoint.py (the format of one checkpoint directory)
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.errors import CheckpointError, DataError
from rnnkit.seeding import rng_state, set_rng_state
from rnnkit.training.averaging import averaged_count, set_averaged_count
from rnnkit.training.checkpoint import (
    STATE_FILE,
    Checkpoint,
    atomic_write_text,
    read_checkpoint,
    remove_checkpoint,
    step_of,
)
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.loop_state import LoopState
from rnnkit.training.runs import MetricsLog, versions
from rnnkit.training.state_dicts import (
    load_model_tensors,
    load_optimizer_tensors,
    model_tensors,
    optimizer_tensors,
    structure_to_tensors,
    tensors_to_structure,
)

if TYPE_CHECKING:
    from rnnkit.training.update import Updater

logger = logging.getLogger(__name__)


def model_summary(model: nn.Module) -> dict[str, Any]:
    """Class and parameter count of a model, for config.json."""
    return {
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def all_rng_states() -> dict[str, Any]:
    """The Python, NumPy and torch RNG states, and CUDA's once CUDA is in use."""
    state: dict[str, Any] = dict(rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [s.tolist() for s in torch.cuda.get_rng_state_all()]
    return state


def set_all_rng_states(state: dict[str, Any]) -> None:
    """Restore the states of `all_rng_states`."""
    set_rng_state(state)
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([torch.tensor(s, dtype=torch.uint8) for s in state["cuda"]])


def capture(
    *,
    model: nn.Module,
    updater: Updater,
    loop: LoopState,
    carried: Any,
    data_position: dict[str, Any],
    run_config: dict[str, Any],
    metrics: dict[str, float],
) -> tuple[dict[str, dict[str, Tensor]], dict[str, Any]]:
    """The tensors (per file) and JSON state of a checkpoint of a run now.

    Args:
        model: the bare model (not its DDP wrapper).
        updater: optimizer, learning-rate schedule and GradScaler.
        loop: the loop counters, with the position of a truncated-BPTT batch under way.
        carried: the detached recurrent state passed to the next batch (None when none).
        data_position: the training data source's `state_dict()`.
        run_config: task, task config, data, model and trainer config (as config.json).
        metrics: the metrics of the last evaluation.
    """
    optimizer_state, optimizer_meta = optimizer_tensors(updater.optimizer)
    carry_state, carry_structure = structure_to_tensors(carried)
    weights = model_tensors(model)
    if updater.average is not None:  # averaging: w̄ as the model, θ and N to resume
        carry_state |= {f"{ITERATE}{name}": value for name, value in weights.items()}
        carry_state[AVERAGE_COUNT] = torch.tensor(averaged_count(updater.average))
        weights = model_tensors(updater.average.module)
    tensors = {
        "model.safetensors": weights,
        "optimizer.safetensors": optimizer_state,
        "loop.safetensors": carry_state,
    }
    state = {
        "rnnkit_version": versions()["rnnkit"],
        "torch_version": versions()["torch"],
        "step": loop.step,
        "epoch": loop.epoch,
        "best_metric": loop.best_metric,
        "metrics": metrics,
        "config": run_config,
        "optimizer": optimizer_meta,
        "schedule": updater.schedule.state_dict(),
        "scaler": updater.scaler.state_dict() if updater.scaler is not None else None,
        "loop": loop.to_json(),
        "data_position": data_position,
        "carry": carry_structure,
        "rng": all_rng_states(),
    }
    return tensors, state


ITERATE = "iterate."  # loop.safetensors: the iterate θ of a run that averages
AVERAGE_COUNT = "average.count"  # loop.safetensors: N, the iterates averaged


def config_difference(saved: dict[str, Any], current: dict[str, Any]) -> str:
    """A sentence naming the task/model fields whose values differ, or ''."""
    differences = []
    for section in sorted(set(saved) | set(current)):
        if section in ("trainer", "versions", "argv"):
            continue
        old, new = saved.get(section), current.get(section)
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    differences.append(f"{section}.{key}: {old.get(key)!r} vs {new.get(key)!r}")
        elif old != new:
            differences.append(f"{section}: {old!r} vs {new!r}")
    if not differences:
        return ""
    return "The config differs from the checkpoint's (checkpoint vs now): " + "; ".join(differences)


class Restored(NamedTuple):
    """What `restore` hands back for the trainer to put in place, the RNG states last."""

    loop: LoopState  # counters, and where a truncated-BPTT batch under way came from
    carried: Any  # the recurrent state carried into the next batch, on the trainer's device
    data_position: dict[str, Any]  # for the training data source's `load_state_dict`
    rng: dict[str, Any]  # for `set_all_rng_states`


def find_checkpoint(path: Path | None, manager: CheckpointManager | None) -> Checkpoint:
    """Read and verify checkpoint `path` (default: the latest under `manager`).

    A damaged one is a CheckpointError naming the run's other checkpoints to resume from.
    """
    if path is None:
        if manager is None:
            raise CheckpointError("no checkpoint path given and the trainer has no run directory")
        path = manager.latest()
        if path is None:
            raise CheckpointError(f"{manager.root} holds no checkpoint to resume from")
    try:
        return read_checkpoint(path)
    except CheckpointError as err:
        older = [] if manager is None else [p.name for p in manager.checkpoints() if p != path]
        if not older:
            raise
        raise CheckpointError(
            f"{err}. Other checkpoints: {', '.join(older)}; resume from one with --checkpoint"
        ) from err


@contextlib.contextmanager
def malformed_entries(path: Path) -> Iterator[None]:
    """Turn a missing or malformed state.json entry met in the block into a CheckpointError.

    An entry of the right name but the wrong shape or range (a hand edit, a faulty writer)
    surfaces as whatever the code reading it raises; the error names the checkpoint instead.
    """
    state = path / STATE_FILE
    try:
        yield
    except DataError as err:  # a data position the data source refuses
        raise CheckpointError(f"{state}: {err}") from err
    except KeyError as err:
        raise CheckpointError(f"{state} lacks the entry {err}") from err
    except (TypeError, ValueError, IndexError, OverflowError, RuntimeError, AttributeError) as err:
        raise CheckpointError(f"{state} holds a malformed entry: {err}") from err


def restore(
    checkpoint: Checkpoint,
    *,
    model: nn.Module,
    updater: Updater,
    run_config: dict[str, Any],
    device: torch.device,
) -> Restored:
    """Load `checkpoint` into `model` and `updater`; return the loop state, carry and the rest.

    Call inside `malformed_entries(checkpoint.path)`. `run_config` is the current run's, to
    name the config fields that differ when the weights do not fit the model.
    """
    path, tensors, state = checkpoint
    hint = config_difference(state.get("config") or {}, run_config)
    load_model_tensors(
        model, tensors["model.safetensors"], source=path / "model.safetensors", hint=hint
    )
    load_optimizer_tensors(
        updater.optimizer,
        tensors["optimizer.safetensors"],
        state["optimizer"],
        source=path / "optimizer.safetensors",
    )
    updater.schedule.load_state_dict(state["schedule"])
    if updater.scaler is not None and state["scaler"]:
        updater.scaler.load_state_dict(state["scaler"])
    loop = LoopState.from_json(state["loop"], source=str(path / STATE_FILE))
    _restore_average(loop, updater, model, tensors["loop.safetensors"], path)
    return Restored(
        loop=loop,
        carried=tensors_to_structure(tensors["loop.safetensors"], state["carry"], device),
        data_position=state["data_position"],
        rng=state["rng"],
    )


def _restore_average(
    loop: LoopState, updater: Updater, model: nn.Module, tensors: dict[str, Tensor], path: Path
) -> None:
    """Weight averaging: the model holds w̄ from model.safetensors; copy it into a fresh
    average, put N back, and load the iterate θ into the model. Before its start: no average."""
    updater.average = None
    if loop.averaging_from is None:
        return
    if AVERAGE_COUNT not in tensors:
        raise CheckpointError(
            f"{path / 'loop.safetensors'} lacks the weight average's count that state.json's "
            f"averaging_from={loop.averaging_from} needs"
        )
    set_averaged_count(updater.start_averaging(), int(tensors[AVERAGE_COUNT]))
    iterate = {k[len(ITERATE) :]: v for k, v in tensors.items() if k.startswith(ITERATE)}
    load_model_tensors(model, iterate, source=path / "loop.safetensors")


def begin_continuation(
    loop: LoopState,
    manager: CheckpointManager | None,
    metrics_log: MetricsLog,
    *,
    is_main: bool,
) -> None:
    """Before a resumed run trains: set aside what the run had written after its checkpoint.

    Rows past the step go (a killed run logged them after its last checkpoint). Resumed from
    an older checkpoint, the later checkpoints belong to the continuation this run replaces:
    they and their rows are removed when this run writes its first checkpoint, the one at
    their step written over them then (`CheckpointManager.supersede`, `MetricsLog.hold_after`),
    so that a damaged one is never taken for the new run's; killed before, nothing is lost.
    """
    step = loop.step
    later = [] if manager is None or not is_main else [
        path for path in manager.checkpoints() if (step_of(path) or 0) > step]  # fmt: skip
    if not later:
        metrics_log.truncate_after(step)
        return
    best = next((p for p in manager.checkpoints() if p not in later and step_of(p) == (
        loop.best_step)), None)  # fmt: skip
    manager.supersede(later, best)
    metrics_log.hold_after(step)
    logger.warning(
        "resuming at step %d, before %s: they are replaced when this run writes its first "
        "checkpoint", step, ", ".join(path.name for path in later),
    )  # fmt: skip


def drop_later_checkpoints(manager: CheckpointManager, step: int, best_step: int | None) -> None:
    """Delete the checkpoints after `step`: a run resumed there writes its own again.

    They belong to the continuation this resume replaces (as the metrics rows after `step`,
    which `MetricsLog.truncate_after` drops); kept, a damaged one would be taken for the new
    run's checkpoint of the same step, and `latest` or `best` could name one of them. The
    pointers move to the newest kept checkpoint and to the kept `best_step`, first.
    """
    later = [path for path in manager.checkpoints() if (step_of(path) or 0) > step]
    if not later:
        return
    kept = [path for path in manager.checkpoints() if path not in later]
    for pointer, target in (
        ("latest", kept[-1] if kept else None),
        ("best", next((p for p in kept if step_of(p) == best_step), None)),
    ):
        if target is not None:
            atomic_write_text(manager.root / pointer, target.name + "\n")
        else:
            (manager.root / pointer).unlink(missing_ok=True)
    for path in later:
        remove_checkpoint(path)
    logger.warning(
        "resumed at step %d: removed the later checkpoints %s of the replaced continuation",
        step, ", ".join(path.name for path in later),
    )  # fmt: skip

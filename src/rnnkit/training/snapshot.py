"""What a checkpoint of a training run holds, and how a Trainer is put back into that state.

`capture` collects model, optimizer and carried-state tensors plus the JSON state (step, loop
counters, schedule, GradScaler, data position, RNG states, config); `restore` reads a verified
checkpoint back into a Trainer, restoring the RNG states last, so that nothing drawn between
loading and the next update can shift the random streams.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from rnnkit.errors import CheckpointError, DataError
from rnnkit.seeding import rng_state, set_rng_state
from rnnkit.training.checkpoint import (
    STATE_FILE,
    atomic_write_text,
    read_checkpoint,
    remove_checkpoint,
    step_of,
)
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.loop_state import LoopState
from rnnkit.training.runs import versions
from rnnkit.training.state_dicts import (
    load_model_tensors,
    load_optimizer_tensors,
    model_tensors,
    optimizer_tensors,
    structure_to_tensors,
    tensors_to_structure,
)

if TYPE_CHECKING:
    from rnnkit.training.trainer import Trainer

logger = logging.getLogger(__name__)


def model_summary(model: nn.Module) -> dict[str, Any]:
    """Class and parameter count of a model, for config.json."""
    return {
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def _all_rng_states() -> dict[str, Any]:
    state: dict[str, Any] = dict(rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [s.tolist() for s in torch.cuda.get_rng_state_all()]
    return state


def _set_all_rng_states(state: dict[str, Any]) -> None:
    set_rng_state(state)
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([torch.tensor(s, dtype=torch.uint8) for s in state["cuda"]])


def capture(trainer: Trainer) -> tuple[dict[str, dict[str, Tensor]], dict[str, Any]]:
    """The tensors (per file) and JSON state of a checkpoint of `trainer` now."""
    updater = trainer.updater
    optimizer_state, optimizer_meta = optimizer_tensors(updater.optimizer)
    carry_state, carry_structure = structure_to_tensors(trainer.carried)
    tensors = {
        "model.safetensors": model_tensors(trainer.model),
        "optimizer.safetensors": optimizer_state,
        "loop.safetensors": carry_state,
    }
    state = {
        "rnnkit_version": versions()["rnnkit"],
        "torch_version": versions()["torch"],
        "step": trainer.loop.step,
        "epoch": trainer.loop.epoch,
        "best_metric": trainer.loop.best_metric,
        "metrics": trainer.last_metrics,
        "config": trainer.run_config,
        "optimizer": optimizer_meta,
        "schedule": updater.schedule.state_dict(),
        "scaler": updater.scaler.state_dict() if updater.scaler is not None else None,
        "loop": trainer.loop.to_json(),
        "data_position": trainer.train_data.state_dict(),
        "carry": carry_structure,
        "rng": _all_rng_states(),
    }
    return tensors, state


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


def restore(trainer: Trainer, path: Path | None) -> Path:
    """Load checkpoint `path` (default: the latest of the run) into `trainer`."""
    if path is None:
        if trainer.checkpoints is None:
            raise CheckpointError("no checkpoint path given and the trainer has no run directory")
        path = trainer.checkpoints.latest()
        if path is None:
            raise CheckpointError(f"{trainer.checkpoints.root} holds no checkpoint to resume from")
    try:
        checkpoint = read_checkpoint(path)
    except CheckpointError as err:
        older = [p.name for p in trainer.checkpoints.checkpoints() if p != path] if (
            trainer.checkpoints is not None) else []  # fmt: skip
        if not older:
            raise
        raise CheckpointError(
            f"{err}. Other checkpoints: {', '.join(older)}; resume from one with --checkpoint"
        ) from err
    try:
        _restore(trainer, checkpoint.path, checkpoint.tensors, checkpoint.state)
    except KeyError as err:
        raise CheckpointError(f"{path / STATE_FILE} lacks the entry {err}") from err
    except (TypeError, ValueError, IndexError, OverflowError, RuntimeError, AttributeError) as err:
        # an entry of the right name but the wrong shape or range (a hand edit, a faulty writer)
        raise CheckpointError(f"{path / STATE_FILE} holds a malformed entry: {err}") from err
    trainer.last_checkpoint = path
    trainer.resumed = True  # `begin_continuation` when it trains on; nothing is deleted here
    return path


def begin_continuation(trainer: Trainer) -> None:
    """Before a resumed run trains: set aside what the run had written after its checkpoint.

    Rows past the step go (a killed run logged them after its last checkpoint). Resumed from
    an older checkpoint, the later checkpoints belong to the continuation this run replaces:
    they and their rows are removed when this run writes its first checkpoint, the one at
    their step written over them then (`CheckpointManager.supersede`, `MetricsLog.hold_after`),
    so that a damaged one is never taken for the new run's; killed before, nothing is lost.
    """
    step, manager = trainer.loop.step, trainer.checkpoints
    later = [] if manager is None or not trainer.context.is_main else [
        path for path in manager.checkpoints() if (step_of(path) or 0) > step]  # fmt: skip
    if not later:
        trainer.metrics_log.truncate_after(step)
        return
    best = next((p for p in manager.checkpoints() if p not in later and step_of(p) == (
        trainer.loop.best_step)), None)  # fmt: skip
    manager.supersede(later, best)
    trainer.metrics_log.hold_after(step)
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


def _restore(
    trainer: Trainer, path: Path, tensors: dict[str, dict[str, Tensor]], state: dict[str, Any]
) -> None:
    hint = config_difference(state.get("config") or {}, trainer.run_config)
    load_model_tensors(
        trainer.model, tensors["model.safetensors"], source=path / "model.safetensors", hint=hint
    )
    updater = trainer.updater
    load_optimizer_tensors(
        updater.optimizer,
        tensors["optimizer.safetensors"],
        state["optimizer"],
        source=path / "optimizer.safetensors",
    )
    updater.schedule.load_state_dict(state["schedule"])
    if updater.scaler is not None and state["scaler"]:
        updater.scaler.load_state_dict(state["scaler"])
    trainer.loop = LoopState.from_json(state["loop"], source=str(path / STATE_FILE))
    trainer.carried = tensors_to_structure(
        tensors["loop.safetensors"], state["carry"], trainer.device
    )
    try:
        _restore_data(trainer, state["data_position"])
    except DataError as err:
        raise CheckpointError(f"{path / STATE_FILE}: {err}") from err
    _set_all_rng_states(state["rng"])  # last: nothing may draw random numbers after this


def _restore_data(trainer: Trainer, position: dict[str, Any]) -> None:
    """Put the data source back; re-fetch a batch whose truncated-BPTT windows were under way."""
    trainer._batch, trainer._windows = None, []
    if trainer.loop.pending_position is not None:
        window, carried = trainer.loop.pending_window, trainer.carried
        trainer.train_data.load_state_dict(trainer.loop.pending_position)
        trainer._next_tbptt_batch()
        trainer.loop.pending_window, trainer.carried = window, carried
    trainer.train_data.load_state_dict(position)

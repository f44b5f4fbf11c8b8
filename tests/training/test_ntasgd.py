"""NT-ASGD (Merity et al. 2017, Algorithm 1): the trigger, the average, and an exact resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from models import NextTokenObjective, delay_copy_data, tiny_trainer
from rnnkit.errors import ConfigError
from rnnkit.training import TrainerConfig, read_checkpoint
from rnnkit.training.averaging import nonmonotone_trigger, observe_for_averaging
from rnnkit.training.loop_state import LoopState

EVERY, N = 2, 2  # evaluations every 2 steps; the trigger looks past the last 2
# val_loss at the evaluations of steps 2, 4, …: best 3.0 at step 4; 3.2 at step 10 is worse
# than the best of all but the last 2 (steps 2–6) → averaging begins after step 10
SCRIPT = [4.0, 3.0, 3.5, 3.1, 3.2, 3.3, 3.0, 2.9, 2.8, 2.7]
TRIGGER_STEP = 10
BASE = {"quiet": True, "device": "cpu", "log_every": 1, "optimizer": "ntasgd", "lr": 0.5,
        "momentum": 0.0, "nonmono": N, "eval_every": EVERY, "max_steps": 16}  # fmt: skip


class ScriptedValidation(NextTokenObjective):
    """Trains as NextTokenObjective; its val_loss is SCRIPT[k] at the k-th evaluation, and it
    notes which module each evaluation was handed."""

    def __init__(self, evaluations_done: int = 0) -> None:
        super().__init__()
        self.evaluations = evaluations_done
        self.evaluated: list[nn.Module] = []

    def evaluate(self, model: nn.Module, batches: Any) -> dict[str, float]:
        self.evaluated.append(model)
        self.evaluations += 1
        return {"loss": SCRIPT[self.evaluations - 1]}


def _trainer(objective: ScriptedValidation, **kwargs: Any) -> tuple[Any, list[dict[str, Any]]]:
    eval_batches = [delay_copy_data(8, 12, 8, seed=5)]
    config = TrainerConfig(**{**BASE, **kwargs.pop("config", {})})
    return tiny_trainer(config, seed=3, objective=objective, eval_data=eval_batches, **kwargs)


@pytest.mark.parametrize(
    ("log", "value", "expected"),
    [([], 9.0, False), ([3.0, 2.0], 9.0, False), ([3.0, 2.0, 2.5], 3.1, True),
     ([3.0, 2.0, 2.5], 2.9, False), ([3.0, 2.0, 2.5, 1.0], 2.1, True),
     ([3.0, 2.0, 2.5, 1.0], 2.0, False)],
)  # fmt: skip
def test_the_trigger_compares_with_the_best_but_the_last_n(
    log: list[float], value: float, expected: bool
) -> None:
    assert nonmonotone_trigger(log, value, nonmono=2) is expected
    flipped = [-v for v in log]
    assert nonmonotone_trigger(flipped, -value, nonmono=2, mode="max") is expected


def test_a_scripted_metric_sequence_triggers_once_at_the_first_non_monotone_value() -> None:
    config = TrainerConfig(**{**BASE, "max_steps": 100})
    loop, started = LoopState(), []
    for k, value in enumerate(SCRIPT, start=1):
        loop.step = k * EVERY
        if observe_for_averaging(loop, {"val_loss": value}, config):
            started.append(loop.step)
    assert started == [TRIGGER_STEP]
    assert loop.averaging_from == TRIGGER_STEP
    assert loop.nonmono_log == SCRIPT[:4]  # nothing is logged after the trigger
    adam = TrainerConfig(**{**BASE, "optimizer": "adam"})
    assert not observe_for_averaging(LoopState(), {"val_loss": 1.0}, adam)


def test_the_average_is_the_mean_of_the_iterates_after_the_trigger_and_is_evaluated(
    tmp_path: Path,
) -> None:
    objective = ScriptedValidation()
    trainer, _ = _trainer(objective, run_dir=tmp_path, config={"checkpoint_every": 0})
    iterates: list[list[torch.Tensor]] = []
    trainer.callbacks.append(
        lambda t, row: iterates.append([p.detach().clone() for p in t.model.parameters()])
    )
    trainer.fit()
    assert trainer.loop.averaging_from == TRIGGER_STEP
    assert trainer.optimizer.__class__ is torch.optim.SGD
    after = iterates[TRIGGER_STEP:]  # θ_11 … θ_16
    assert len(after) == 16 - TRIGGER_STEP
    average = trainer.updater.average
    assert int(average.n_averaged) == len(after)
    for k, param in enumerate(average.module.parameters()):
        mean = torch.stack([iterate[k] for iterate in after]).double().mean(0)
        torch.testing.assert_close(param.double(), mean, rtol=1e-6, atol=1e-7)
    evaluated = objective.evaluated  # before the trigger the model, after it the average
    assert all(m is trainer.model for m in evaluated[: TRIGGER_STEP // EVERY])
    assert all(m is average.module for m in evaluated[TRIGGER_STEP // EVERY :])
    saved = read_checkpoint(trainer.last_checkpoint).tensors["model.safetensors"]
    for name, value in average.module.state_dict().items():
        assert torch.equal(saved[name], value)  # the checkpoint's model is w̄
    assert not torch.equal(saved["head.weight"], trainer.model.head.weight.detach())


class CrashError(Exception):
    """Raised by a callback to interrupt a run."""


@pytest.mark.parametrize("crash_at", [9, 13])  # before the trigger (resume across it), after
def test_a_resumed_run_continues_exactly_across_the_trigger(tmp_path: Path, crash_at: int) -> None:
    config = {"checkpoint_every": 4, "keep_best": False}
    unbroken, expected = _trainer(ScriptedValidation(), config=config)
    unbroken.fit()

    def crash(_trainer: Any, row: dict[str, Any]) -> None:
        if row["step"] == crash_at:
            raise CrashError

    crashed, _ = _trainer(ScriptedValidation(), run_dir=tmp_path, config=config)
    crashed.callbacks.append(crash)
    with pytest.raises(CrashError):
        crashed.fit()
    start = crash_at // 4 * 4  # the last checkpoint: 8 (no average yet) or 12
    objective = ScriptedValidation(evaluations_done=start // EVERY)
    resumed, rows = _trainer(objective, run_dir=tmp_path, config=config)
    resumed.load_checkpoint()
    assert resumed.loop.step == start
    assert (resumed.updater.average is None) is (start < TRIGGER_STEP)
    resumed.fit()
    assert [row["loss"] for row in rows] == [row["loss"] for row in expected][start:]
    for a, b in zip(unbroken.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert resumed.loop.averaging_from == TRIGGER_STEP
    assert resumed.loop.nonmono_log == unbroken.loop.nonmono_log
    averages = (unbroken.updater.average, resumed.updater.average)
    assert int(averages[0].n_averaged) == int(averages[1].n_averaged)
    for a, b in zip(averages[0].parameters(), averages[1].parameters(), strict=True):
        assert torch.equal(a, b)


def test_ntasgd_needs_evaluations() -> None:
    with pytest.raises(ConfigError, match="eval-every"):
        TrainerConfig(optimizer="ntasgd", eval_every=0)
    with pytest.raises(ConfigError, match="evaluation data"):
        tiny_trainer(TrainerConfig(**BASE))


def test_an_older_loop_state_without_the_ntasgd_fields_loads() -> None:
    data = LoopState(step=3).to_json()
    for name in ("nonmono_log", "averaging_from", "first_loss"):
        del data[name]
    loop = LoopState.from_json(data, source="state.json")
    assert loop.step == 3
    assert loop.averaging_from is None

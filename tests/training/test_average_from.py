"""`TrainerConfig.average_from` = k₀: the Polyak/SWA average of θ_{k₀+1} … θ_k, any optimizer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from models import NextTokenObjective, delay_copy_data, register_tiny_task, tiny_trainer
from rnnkit.cli import main
from rnnkit.errors import ConfigError
from rnnkit.training import TrainerConfig, read_checkpoint
from rnnkit.training.averaging import scheduled_start
from rnnkit.training.loop_state import LoopState

START, STEPS, EVERY = 8, 16, 4  # average after update 8 of 16; evaluations every 4 updates
BASE = {"quiet": True, "device": "cpu", "log_every": 1, "lr": 0.5, "momentum": 0.0,
        "max_steps": STEPS, "eval_every": EVERY, "average_from": START}  # fmt: skip


class NotedValidation(NextTokenObjective):
    """Trains and evaluates as NextTokenObjective, noting which module each evaluation got."""

    def __init__(self) -> None:
        super().__init__()
        self.evaluated: list[nn.Module] = []

    def evaluate(self, model: nn.Module, batches: Any) -> dict[str, float]:
        self.evaluated.append(model)
        return super().evaluate(model, batches)


def _trainer(objective: NextTokenObjective | None = None, **kwargs: Any) -> Any:
    eval_batches = [delay_copy_data(8, 12, 8, seed=5)]
    config = TrainerConfig(**{**BASE, **kwargs.pop("config", {})})
    objective = objective or NextTokenObjective()
    return tiny_trainer(config, seed=3, objective=objective, eval_data=eval_batches, **kwargs)


def _record_iterates(trainer: Any) -> list[list[torch.Tensor]]:
    iterates: list[list[torch.Tensor]] = []
    trainer.callbacks.append(
        lambda t, row: iterates.append([p.detach().clone() for p in t.model.parameters()])
    )
    return iterates


@pytest.mark.parametrize("bad", [0, -1, STEPS, STEPS + 1, 10**6])
def test_average_from_must_be_within_the_run(bad: int) -> None:
    with pytest.raises(ConfigError, match="--average-from"):
        TrainerConfig(max_steps=STEPS, average_from=bad)


@pytest.mark.parametrize("good", [None, 1, 2, START, STEPS - 1])
def test_average_from_within_the_run_is_accepted(good: int | None) -> None:
    assert TrainerConfig(max_steps=STEPS, average_from=good).average_from == good


def test_scheduled_start_fires_once_at_k0() -> None:
    config = TrainerConfig(max_steps=STEPS, average_from=START)
    loop, started = LoopState(), []
    for step in range(1, STEPS + 1):
        loop.step = step
        if scheduled_start(loop, config):
            started.append(step)
    assert started == [START]
    assert loop.averaging_from == START
    assert not scheduled_start(LoopState(step=STEPS), TrainerConfig(max_steps=STEPS))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_average_is_the_mean_of_the_iterates_after_k0_and_is_evaluated(
    tmp_path: Path, optimizer: str
) -> None:
    objective = NotedValidation()
    config = {"optimizer": optimizer, "checkpoint_every": 0}
    if optimizer == "adam":
        config["lr"] = 0.01
    trainer, _ = _trainer(objective, run_dir=tmp_path, config=config)
    iterates = _record_iterates(trainer)
    trainer.fit()
    assert trainer.loop.averaging_from == START
    assert [r["step"] for r in trainer.history.rows if r["kind"] == "averaging"] == [START]
    after = iterates[START:]  # θ_9 … θ_16
    assert len(after) == STEPS - START
    average = trainer.updater.average
    assert int(average.n_averaged) == len(after)
    for k, param in enumerate(average.module.parameters()):
        mean = torch.stack([iterate[k] for iterate in after]).double().mean(0)
        torch.testing.assert_close(param.double(), mean, rtol=1e-6, atol=1e-7)
        assert not torch.equal(param, after[-1][k])  # w̄ is not the last iterate
    evaluated = objective.evaluated  # evaluations at 4 and 8 (k₀, w̄ = θ_8), 12 and 16
    assert len(evaluated) == STEPS // EVERY
    assert all(m is trainer.model for m in evaluated[: START // EVERY - 1])
    assert all(m is average.module for m in evaluated[START // EVERY - 1 :])
    saved = read_checkpoint(trainer.last_checkpoint).tensors["model.safetensors"]
    for name, value in average.module.state_dict().items():
        assert torch.equal(saved[name], value)  # the checkpoint's model is w̄


def test_without_average_from_nothing_is_averaged() -> None:
    trainer, _ = _trainer(config={"optimizer": "sgd", "average_from": None})
    trainer.fit()
    assert trainer.updater.average is None
    assert trainer.loop.averaging_from is None


class CrashError(Exception):
    """Raised by a callback to interrupt a run."""


# checkpoints every 4: resume from 4 (before k₀), from 8 (at k₀, nothing averaged yet), from 12
@pytest.mark.parametrize("crash_at", [6, 10, 13])
def test_a_resumed_run_continues_exactly_across_the_start(tmp_path: Path, crash_at: int) -> None:
    config = {"optimizer": "sgd", "checkpoint_every": 4, "keep_best": False}
    unbroken, expected = _trainer(config=config)
    unbroken.fit()

    def crash(_trainer: Any, row: dict[str, Any]) -> None:
        if row["step"] == crash_at:
            raise CrashError

    crashed, _ = _trainer(run_dir=tmp_path, config=config)
    crashed.callbacks.append(crash)
    with pytest.raises(CrashError):
        crashed.fit()
    start = crash_at // 4 * 4
    resumed, rows = _trainer(run_dir=tmp_path, config=config)
    resumed.load_checkpoint()
    assert resumed.loop.step == start
    assert (resumed.updater.average is None) is (start < START)
    resumed.fit()
    assert [row["loss"] for row in rows] == [row["loss"] for row in expected][start:]
    for a, b in zip(unbroken.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert resumed.loop.averaging_from == START
    averages = (unbroken.updater.average, resumed.updater.average)
    assert int(averages[0].n_averaged) == int(averages[1].n_averaged) == STEPS - START
    for a, b in zip(averages[0].parameters(), averages[1].parameters(), strict=True):
        assert torch.equal(a, b)


class RisingValidation(NextTokenObjective):
    """Trains as NextTokenObjective; its val_loss is 1, 2, 3, … at the 1st, 2nd, 3rd evaluation."""

    def __init__(self) -> None:
        super().__init__()
        self.evaluations = 0

    def evaluate(self, model: nn.Module, batches: Any) -> dict[str, float]:
        self.evaluations += 1
        return {"loss": float(self.evaluations)}


@pytest.mark.parametrize(("average_from", "started"), [(None, 3), (2, 2)])
def test_with_ntasgd_the_earlier_start_begins_the_average_once(
    average_from: int | None, started: int
) -> None:
    # evaluations after every update, nonmono 1: the rising val_loss fires the trigger at the
    # 3rd evaluation (3 is worse than the best but the last one, 1); a fixed start at 2 is first
    config = {"optimizer": "ntasgd", "nonmono": 1, "eval_every": 1, "average_from": average_from}
    trainer, _ = _trainer(RisingValidation(), config=config)
    iterates = _record_iterates(trainer)
    trainer.fit()
    assert trainer.loop.averaging_from == started
    assert [r["step"] for r in trainer.history.rows if r["kind"] == "averaging"] == [started]
    assert trainer.loop.nonmono_log == [float(k) for k in range(1, started)]
    assert int(trainer.updater.average.n_averaged) == STEPS - started
    for k, param in enumerate(trainer.updater.average.module.parameters()):
        mean = torch.stack([iterate[k] for iterate in iterates[started:]]).double().mean(0)
        torch.testing.assert_close(param.double(), mean, rtol=1e-6, atol=1e-7)


def test_train_help_lists_average_from(capsys: pytest.CaptureFixture[str]) -> None:
    register_tiny_task()
    with pytest.raises(SystemExit) as done:
        main(["train", "tiny", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "--average-from" in text
    assert "Polyak" in text

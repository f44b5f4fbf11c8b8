"""Learning-rate schedules (warm-up, step, cosine, plateau) and optimizer construction."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rnnkit.errors import ConfigError
from rnnkit.training import LRSchedule, TrainerConfig, build_optimizer


def test_linear_warmup_then_constant() -> None:
    schedule = LRSchedule(TrainerConfig(lr=0.5, warmup_steps=4))
    assert [schedule.factor(t) for t in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]


def test_step_decay_after_warmup() -> None:
    config = TrainerConfig(schedule="step", decay_every=3, decay_factor=0.5, warmup_steps=2)
    schedule = LRSchedule(config)
    factors = [schedule.factor(t) for t in range(10)]
    assert factors == [0.5, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_cosine_goes_from_peak_to_floor() -> None:
    config = TrainerConfig(schedule="cosine", lr=1.0, min_lr=0.1, max_steps=10)
    schedule = LRSchedule(config)
    assert schedule.factor(0) == pytest.approx(1.0)
    assert schedule.factor(5) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert schedule.factor(10) == pytest.approx(0.1)
    assert schedule.factor(50) == pytest.approx(0.1)


def test_plateau_decays_after_patience_and_round_trips() -> None:
    config = TrainerConfig(schedule="plateau", plateau_patience=2, decay_factor=0.5)
    schedule = LRSchedule(config)
    for value in (1.0, 0.9, 0.95, 0.92):  # improves, then two evaluations without improvement
        schedule.observe(value)
    assert schedule.factor(100) == 0.5
    copy = LRSchedule(config)
    copy.load_state_dict(schedule.state_dict())
    schedule.observe(0.99)
    copy.observe(0.99)
    assert copy.state_dict() == schedule.state_dict()


def test_apply_sets_every_group_relative_to_its_own_initial_lr() -> None:
    a, b = nn.Parameter(torch.zeros(1)), nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([{"params": [a], "lr": 1.0}, {"params": [b], "lr": 0.1}])
    schedule = LRSchedule(TrainerConfig(lr=1.0, warmup_steps=2))
    assert schedule.apply(optimizer, 0) == 0.5
    assert optimizer.param_groups[1]["lr"] == pytest.approx(0.05)
    schedule.apply(optimizer, 5)
    assert optimizer.param_groups[1]["lr"] == pytest.approx(0.1)


def test_sgd_with_momentum_takes_the_textbook_steps() -> None:
    weight = nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    optimizer = build_optimizer([weight], TrainerConfig(optimizer="sgd", lr=0.1, momentum=0.9))
    velocity, expected = 0.0, 1.0
    for _ in range(3):
        optimizer.zero_grad()
        (weight**2).sum().backward()  # g = 2θ
        velocity = 0.9 * velocity + 2 * expected  # v ← μ v + g
        expected -= 0.1 * velocity  # θ ← θ − η v
        optimizer.step()
    assert float(weight.detach()) == pytest.approx(expected, abs=1e-12)


def test_adam_and_adamw_get_their_hyperparameters() -> None:
    params = [nn.Parameter(torch.zeros(2))]
    adam = build_optimizer(params, TrainerConfig(optimizer="adam", lr=0.01, betas=(0.8, 0.9)))
    adamw = build_optimizer(params, TrainerConfig(optimizer="adamw", weight_decay=0.1))
    assert type(adam) is torch.optim.Adam
    assert adam.param_groups[0]["betas"] == (0.8, 0.9)
    assert type(adamw) is torch.optim.AdamW
    assert adamw.param_groups[0]["weight_decay"] == 0.1


def test_frozen_parameters_are_left_out() -> None:
    frozen = nn.Parameter(torch.zeros(2), requires_grad=False)
    optimizer = build_optimizer([frozen, nn.Parameter(torch.zeros(3))], TrainerConfig())
    assert [p.numel() for p in optimizer.param_groups[0]["params"]] == [3]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lr": 0.0}, "lr must be positive"),
        ({"tbptt_k1": 4, "tbptt_k2": 2}, "tbptt_k2 must be ≥ tbptt_k1"),
        ({"tbptt_k2": 3}, "tbptt_k2 needs tbptt_k1"),
        ({"tbptt_k1": 4, "accumulate_steps": 2}, "accumulate_steps must be 1"),
        ({"clip_norm": -1.0}, "clip_norm must be positive"),
        ({"divergence_ratio": 0.0}, "divergence_ratio must be positive"),
        ({"lr": float("nan")}, "lr must be a finite number"),
        ({"clip_norm": float("nan")}, "clip_norm must be a finite number"),
        ({"weight_decay": float("inf")}, "weight_decay must be a finite number"),
        ({"betas": (0.9, float("nan"))}, r"betas\[1\] must be a finite number"),
        ({"divergence_ratio": float("inf")}, "divergence_ratio must be a finite number"),
        ({"max_steps": 0}, "max_steps must be a positive integer"),
        ({"decay_factor": 1.5}, "decay_factor"),
        ({"momentum": 1.0}, "momentum"),
    ],
)
def test_bad_trainer_configs_are_refused(fields: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainerConfig(**fields)

"""Training one variant on a long-range problem: model, objective, success, Ω in the Trainer."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from rnnkit.analysis import PascanuObjective
from rnnkit.analysis.experiments.long_range import (
    LastStepModel,
    LastStepObjective,
    TrainSettings,
    evaluate_metric,
    train_model,
)
from rnnkit.datasets.long_range import make_batch
from rnnkit.errors import ConfigError
from rnnkit.training import BatchSource, Trainer, TrainerConfig


def test_model_shapes_and_lstm_chrono_biases() -> None:
    model = LastStepModel("lstm", "temporal_order", 8, 30)
    biases = model.recurrent.bias_ih_l0.detach()
    forget, input_gate = biases[8:16], biases[:8]
    assert float(forget.min()) >= 0.0
    assert float(forget.max()) <= math.log(29)  # b_f = log u, u ∈ [1, T − 1]
    assert torch.equal(input_gate, -forget)
    assert torch.equal(model.recurrent.bias_hh_l0.detach(), torch.zeros(32))
    batch = make_batch("temporal_order", 3, 30, torch.Generator().manual_seed(0))
    assert model(batch.inputs).shape == (3, 4)
    assert LastStepModel("gru", "adding", 8, 30)(torch.randn(3, 30, 2)).shape == (3, 1)


def test_success_stops_training_early() -> None:
    # the mean predictor scores ~0.167 on adding: a threshold of 0.5 is met within 100 updates
    settings = TrainSettings(
        problem="adding", length=20, variant="gru", hidden_size=8, batch_size=8,
        max_steps=100, eval_every=5, eval_size=100, adding_threshold=0.5,
    )  # fmt: skip
    _, outcome = train_model(settings)
    assert outcome.solved
    assert outcome.steps % 5 == 0
    assert outcome.steps < 100
    strict = dataclasses.replace(settings, adding_threshold=1e-9, max_steps=10)
    _, outcome = train_model(strict)
    assert not outcome.solved
    assert outcome.steps == 10


def test_omega_variant_trains_and_is_reproducible() -> None:
    settings = TrainSettings(
        problem="temporal_order", length=20, variant="rnn_clip_omega", hidden_size=8,
        batch_size=8, max_steps=6, eval_every=3, eval_size=50,
    )  # fmt: skip
    first_model, first = train_model(settings)
    second_model, second = train_model(settings)
    assert first.metric == second.metric
    assert 0.0 <= first.metric <= 1.0
    for a, b in zip(first_model.parameters(), second_model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_evaluate_metric_is_accuracy_for_temporal_order() -> None:
    model = LastStepModel("rnn", "temporal_order", 4, 20)
    test = make_batch("temporal_order", 40, 20, torch.Generator().manual_seed(3))
    accuracy = evaluate_metric("temporal_order", model, test)
    expected = (model(test.inputs).argmax(-1) == test.targets).float().mean()
    assert accuracy == pytest.approx(float(expected))


def test_pascanu_objective_in_the_trainer_lowers_omega() -> None:
    torch.manual_seed(0)
    model = LastStepModel("rnn", "adding", 8, 20)
    with torch.no_grad():
        model.recurrent.weight_hh_l0.mul_(0.2)  # contractive: every ratio far below 1
    data = make_batch("adding", 64, 20, torch.Generator().manual_seed(1))
    objective = PascanuObjective(LastStepObjective("adding"), weight=5.0)
    before = objective.loss(model, data, None)
    omega_before = float(objective.last_omega)
    config = TrainerConfig(max_steps=30, lr=1e-2, quiet=True, device="cpu", log_every=5)
    source = BatchSource((data.inputs, data.targets), 16, seed=0)
    Trainer(model, objective, source, config=config, handle_signals=False).fit()
    objective.loss(model, data, None)
    assert float(objective.last_omega) < 0.8 * omega_before
    assert torch.isfinite(before.loss)


def test_unknown_variant_is_an_error() -> None:
    with pytest.raises(ConfigError, match="variant must be one of"):
        TrainSettings(problem="adding", length=20, variant="transformer")


def test_objectives_name_their_unit_and_loss() -> None:
    from rnnkit.analysis.experiments.long_range import LastStepObjective
    from rnnkit.analysis.regulariser import PascanuObjective

    adding, order = LastStepObjective("adding"), LastStepObjective("temporal_order")
    assert adding.loss_label == "mean squared error per sequence (target units²)"
    assert order.loss_label == "mean cross-entropy per sequence (nats)"
    assert PascanuObjective(order, 2.0).loss_label == "mean cross-entropy + λΩ per sequence (nats)"

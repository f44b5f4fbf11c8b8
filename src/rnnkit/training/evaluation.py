"""Evaluation: the objective's metrics on held-out batches, and the best-so-far bookkeeping.

After each evaluation the monitored metric m (e.g. val_loss) is compared with the best one m*:

    improved ⇔ m* is unset, or s·(m* − m) > δ      s = +1 for "min", −1 for "max"
    early stop after P evaluations in a row without improvement   (P = early_stopping_patience)

where δ is `min_delta`. Stopping when validation loss stops improving is the classic guard
against overfitting (Prechelt 1998).

References:
    Prechelt 1998, "Early Stopping — But When?", in Neural Networks: Tricks of the Trade
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from rnnkit.errors import ConfigError
from rnnkit.training.config import TrainerConfig
from rnnkit.training.distributed import DistributedContext, broadcast_values
from rnnkit.training.loop_state import LoopState
from rnnkit.training.objective import Objective
from rnnkit.training.tensor_trees import to_device


def evaluate_model(
    model: nn.Module,
    objective: Objective,
    batches: Iterable[Any],
    *,
    context: DistributedContext,
    autocast: contextlib.AbstractContextManager,
) -> dict[str, float]:
    """`objective.evaluate` in eval mode without gradients; metrics named `val_<name>`.

    Every process evaluates all batches; process 0's numbers are broadcast so that all
    processes take the same early-stopping decision.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), autocast:
            on_device = (to_device(batch, context.device) for batch in batches)
            metrics = objective.evaluate(model, on_device)
    finally:
        model.train(was_training)
    keys = sorted(metrics)
    values = broadcast_values([float(metrics[key]) for key in keys], context)
    return {f"val_{key}": value for key, value in zip(keys, values, strict=True)}


def observe_metric(loop: LoopState, metrics: dict[str, float], config: TrainerConfig) -> bool:
    """Update the best metric and the count of evaluations without improvement; True if improved.

    Example:
        >>> loop, config = LoopState(step=10), TrainerConfig(min_delta=0.1)
        >>> observe_metric(loop, {"val_loss": 2.0}, config), loop.best_metric
        (True, 2.0)
        >>> observe_metric(loop, {"val_loss": 1.95}, config), loop.bad_evaluations
        (False, 1)
    """
    if config.monitor not in metrics:
        raise ConfigError(
            f"monitor {config.monitor!r} is not an evaluation metric; choose one of "
            f"{sorted(metrics)} with --monitor"
        )
    value = metrics[config.monitor]  # m
    sign = 1.0 if config.monitor_mode == "min" else -1.0  # s
    if loop.best_metric is None or sign * (loop.best_metric - value) > config.min_delta:
        loop.best_metric, loop.best_step, loop.bad_evaluations = value, loop.step, 0
        return True
    loop.bad_evaluations += 1
    return False


def should_stop(loop: LoopState, config: TrainerConfig) -> bool:
    """Early stopping: P > 0 evaluations in a row without improvement."""
    patience = config.early_stopping_patience
    return patience > 0 and loop.bad_evaluations >= patience

"""Weight averaging: NT-ASGD (from when validation stops improving) or from a fixed update.

Non-monotonically triggered averaged SGD (Merity, Keskar & Socher 2017, §3, Algorithm 1):

    SGD steps  w_{k+1} = w_k − η ∇f(w_k)                   (momentum as `TrainerConfig` says)
    at each evaluation v (the `monitor` metric), while not yet averaging:
        if t > n and v is worse than min_{l ≤ t−n−1} logs[l]:  T ← k (averaging begins)
        append v to logs; t ← t + 1
    from then on, after every update     w̄ = (1 / (k − T)) Σ_{i=T+1}^{k} w_i

that is, v is compared with the best value of every evaluation but the last n (n = `nonmono`,
5 in the paper): a validation metric that has not beaten that best for n evaluations switches
averaging on. Evaluations and checkpoints then use w̄ (the checkpoint's model weights are w̄;
the SGD iterate w_k, needed to resume, is kept apart in it, `rnnkit.training.snapshot`).

The average is `torch.optim.swa_utils.AveragedModel`, PyTorch's Polyak/SWA averaging: its
default update is the running mean w̄ ← w̄ + (w − w̄) / (N + 1) over the N iterates averaged so
far, the first one copied. (`torch.optim.ASGD(t0=0, lambd=0)`, the AWD-LSTM code's choice,
averages the same way inside the optimizer; a separate average keeps the optimizer SGD's.)

A fixed start (`TrainerConfig.average_from` = k₀, any optimizer) begins the same average after
update k₀: w̄ = (1 / (k − k₀)) Σ_{i=k₀+1}^{k} θ_i, Polyak & Juditsky's averaged iterates, or SWA
(Izmailov et al. 2018) with the learning rate the schedule gives. With optimizer "ntasgd",
whichever of the trigger and the fixed start comes first begins it, and it is never restarted.

References:
    Merity, Keskar & Socher. Regularizing and Optimizing LSTM Language Models. ICLR 2018,
        https://arxiv.org/abs/1708.02182 (Algorithm 1)
    Polyak & Juditsky. Acceleration of Stochastic Approximation by Averaging. SIAM J. Control
        Optim. 30(4), 1992.
    Izmailov et al. Averaging Weights Leads to Wider Optima and Better Generalization. UAI
        2018, https://arxiv.org/abs/1803.05407 (SWA)
    https://pytorch.org/docs/stable/optim.html#weight-averaging-swa-and-ema (AveragedModel)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from rnnkit.training.config import TrainerConfig
from rnnkit.training.loop_state import LoopState


def nonmonotone_trigger(
    log: Sequence[float], value: float, nonmono: int, mode: Literal["min", "max"] = "min"
) -> bool:
    """Whether `value` sets NT-ASGD's averaging off: t > n and it is worse than the best of
    `log` but its last n entries (Algorithm 1; "worse" is higher for mode "min").

    >>> nonmonotone_trigger([5.0, 4.0, 4.5, 4.2], 4.1, nonmono=2)  # best of [5, 4] is 4
    True
    >>> nonmonotone_trigger([5.0, 4.0, 4.5, 4.2], 3.9, nonmono=2)
    False
    """
    if len(log) <= nonmono:
        return False
    earlier = log[: len(log) - nonmono]
    return value > min(earlier) if mode == "min" else value < max(earlier)


def observe_for_averaging(
    loop: LoopState, metrics: dict[str, float], config: TrainerConfig
) -> bool:
    """Feed an evaluation to the trigger; True when averaging begins now (`loop` records it).

    Nothing is logged once averaging has begun, and nothing happens unless the optimizer is
    "ntasgd".
    """
    if config.optimizer != "ntasgd" or loop.averaging_from is not None:
        return False
    value, log = metrics[config.monitor], list(loop.nonmono_log or [])
    if nonmonotone_trigger(log, value, config.nonmono, config.monitor_mode):
        loop.averaging_from = loop.step  # T
        return True
    loop.nonmono_log = [*log, value]
    return False


def scheduled_start(loop: LoopState, config: TrainerConfig) -> bool:
    """True when the fixed start k₀ = `config.average_from` begins averaging now: after update
    k₀ (`loop.step` ≥ k₀) and not yet averaging; `loop.averaging_from` records k₀.
    The iterates averaged are then θ_{k₀+1}, θ_{k₀+2}, … (`Updater.finish`).
    """
    start = config.average_from
    if start is None or loop.averaging_from is not None or loop.step < start:
        return False
    loop.averaging_from = loop.step
    return True


def start_average(model: nn.Module) -> AveragedModel:
    """A fresh average of `model`'s parameters (a copy of the module, no iterate averaged yet)."""
    return AveragedModel(model)


def averaged_count(average: AveragedModel) -> int:
    """N, the iterates averaged so far."""
    return int(average.n_averaged)


def set_averaged_count(average: AveragedModel, count: int) -> None:
    """Put back N after the averaged weights were loaded into `average.module`."""
    average.n_averaged.copy_(torch.tensor(count, dtype=average.n_averaged.dtype))


__all__ = [
    "averaged_count",
    "nonmonotone_trigger",
    "observe_for_averaging",
    "scheduled_start",
    "set_averaged_count",
    "start_average",
]

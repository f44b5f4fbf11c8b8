"""Optimizers and learning-rate schedules: SGD with momentum, Adam, AdamW; step, cosine, plateau.

The schedule is a pure function of the step (plus, for "plateau", the evaluations seen), so
its whole state is a few numbers saved in the checkpoint's JSON.

References:
    Loshchilov & Hutter 2017, "SGDR: Stochastic Gradient Descent with Warm Restarts",
    https://arxiv.org/abs/1608.03983 (cosine)
    Goyal et al. 2017, "Accurate, Large Minibatch SGD", https://arxiv.org/abs/1706.02677 (warm-up)
    Kingma & Ba 2015, "Adam", https://arxiv.org/abs/1412.6980;
    Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization" (AdamW)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from rnnkit.errors import ConfigError
from rnnkit.training.config import TrainerConfig


def build_optimizer(
    parameters: Iterable[nn.Parameter], config: TrainerConfig
) -> torch.optim.Optimizer:
    """The torch optimizer named by `config.optimizer`, at the peak learning rate η.

    SGD with momentum:  v ← μ v + g,  θ ← θ − η v   (torch's form; Nesterov optional)
    NT-ASGD:            SGD as above; the average of the iterates is kept apart
                        (`training.averaging`, Merity et al. 2017)
    Adam / AdamW:       see Kingma & Ba 2015; AdamW decays θ ← θ − ηλθ apart from the gradient.
    """
    params = [p for p in parameters if p.requires_grad]
    if config.optimizer not in ("sgd", "ntasgd", "adam", "adamw"):
        raise ConfigError(f"unknown optimizer {config.optimizer!r}: sgd, ntasgd, adam or adamw")
    if config.optimizer in ("sgd", "ntasgd"):
        return torch.optim.SGD(
            params,
            lr=config.lr,
            momentum=config.momentum,
            nesterov=config.nesterov and config.momentum > 0,
            weight_decay=config.weight_decay,
        )
    optimizer_cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return optimizer_cls(
        params, lr=config.lr, betas=tuple(config.betas), weight_decay=config.weight_decay
    )


def warmup_warning(config: TrainerConfig) -> str | None:
    """One line when the run ends inside the linear warm-up (max_steps ≤ warmup_steps), else None.

    The last update t = T − 1 uses η·min(1, T/W), so with T < W the peak η is never used and
    with T = W only by the last update. A short smoke run may mean it, so this is a warning.

    >>> import textwrap
    >>> message = warmup_warning(TrainerConfig(max_steps=5, warmup_steps=20, lr=1e-3))
    >>> print(textwrap.fill(message, 80))
    max_steps=5 < warmup_steps=20: the run ends in warm-up: the learning rate never
    reaches lr=0.001 (the last update uses 0.00025); lower --warmup-steps below
    --max-steps
    >>> warmup_warning(TrainerConfig(max_steps=50, warmup_steps=20)) is None
    True
    """
    steps, warmup, lr = config.max_steps, config.warmup_steps, config.lr
    if warmup == 0 or steps > warmup:
        return None
    if steps == warmup:
        reached = f"reaches lr={lr:g} only at the last update"
        relation = "="
    else:
        reached = f"never reaches lr={lr:g} (the last update uses {lr * steps / warmup:.3g})"
        relation = "<"
    return (
        f"max_steps={steps} {relation} warmup_steps={warmup}: the run ends in warm-up: the "
        f"learning rate {reached}; lower --warmup-steps below --max-steps"
    )


class LRSchedule:
    """η_t = η · w(t) · d(t): linear warm-up w, then a decay d chosen by `config.schedule`.

    w(t) = min(1, (t + 1)/W)                                 linear warm-up  (Goyal et al. 2017)
    d(t) = 1                                                 "constant"
    d(t) = f^⌊(t − W)/S⌋                                     "step"
    d(t) = η_min/η + (1 − η_min/η)·½(1 + cos(π·p)),  p = (t − W)/(T − W)   "cosine"
    d(t) = f^k after the k-th plateau                        "plateau"

    where t is the update (from 0), W the warm-up steps, S `decay_every`, f `decay_factor`,
    T `max_steps`, and a plateau is `plateau_patience` evaluations without improvement of the
    monitored metric.

    Example:
        >>> config = TrainerConfig(lr=1.0, warmup_steps=2, schedule="step", decay_every=2,
        ...                        decay_factor=0.5)
        >>> [LRSchedule(config).factor(t) for t in range(6)]
        [0.5, 1.0, 1.0, 1.0, 0.5, 0.5]
    """

    def __init__(self, config: TrainerConfig) -> None:
        self.config = config
        self.plateau_scale = 1.0  # f^k
        self.best: float | None = None
        self.bad_evaluations = 0

    def factor(self, step: int) -> float:
        """w(t)·d(t), the multiplier of the peak learning rate at update `step`."""
        config = self.config
        warmup = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else 1.0
        after = max(0, step - config.warmup_steps)  # t − W
        if config.schedule == "step":
            decay = config.decay_factor ** (after // config.decay_every)
        elif config.schedule == "cosine":
            span = max(1, config.max_steps - config.warmup_steps)  # T − W
            progress = min(1.0, after / span)  # p
            floor = config.min_lr / config.lr
            decay = floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
        elif config.schedule == "plateau":
            decay = self.plateau_scale
        else:
            decay = 1.0
        return warmup * decay

    def apply(self, optimizer: torch.optim.Optimizer, step: int) -> float:
        """Set every parameter group's lr for update `step`; returns η_t of the first group."""
        factor = self.factor(step)
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
            group["lr"] = group["initial_lr"] * factor
        return float(optimizer.param_groups[0]["lr"])

    def observe(self, value: float) -> None:
        """Record an evaluation of the monitored metric; decay by f after a plateau."""
        if self.config.schedule != "plateau":
            return
        sign = 1.0 if self.config.monitor_mode == "min" else -1.0
        if self.best is None or sign * (self.best - value) > self.config.min_delta:
            self.best, self.bad_evaluations = value, 0
            return
        self.bad_evaluations += 1
        if self.bad_evaluations >= self.config.plateau_patience:
            self.plateau_scale *= self.config.decay_factor
            self.bad_evaluations = 0

    def state_dict(self) -> dict[str, Any]:
        """JSON-ready state (only "plateau" has any)."""
        return {
            "plateau_scale": self.plateau_scale,
            "best": self.best,
            "bad_evaluations": self.bad_evaluations,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state saved by `state_dict`."""
        self.plateau_scale = float(state["plateau_scale"])
        self.best = None if state["best"] is None else float(state["best"])
        self.bad_evaluations = int(state["bad_evaluations"])

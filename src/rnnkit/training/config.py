"""TrainerConfig: every option of the training loop in one frozen dataclass.

The CLI derives one flag per field (`clip_norm` → `--clip-norm`); a run directory stores the
whole config in `config.json` and in every checkpoint's `state.json`.

References:
    Pascanu, Mikolov & Bengio 2013, "On the difficulty of training recurrent neural networks",
    https://arxiv.org/abs/1211.5063 (gradient-norm clipping, the default θ₀ below)
    Williams & Peng 1990, "An efficient gradient-based algorithm for on-line training of
    recurrent network trajectories" (truncated BPTT(k1, k2))
    Merity, Keskar & Socher 2017, "Regularizing and Optimizing LSTM Language Models",
    https://arxiv.org/abs/1708.02182 (NT-ASGD, optimizer="ntasgd": averaging.py)
    Izmailov et al. 2018, "Averaging Weights Leads to Wider Optima and Better Generalization",
    https://arxiv.org/abs/1803.05407 (SWA; average_from, a fixed start of the average)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import ClassVar, Literal

from rnnkit.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class TrainerConfig:
    """Options of `rnnkit.training.Trainer`; task configs must not reuse these field names."""

    # The help groups of `rnnkit train TASK --help` (config.GROUP_ORDER); every field is in one.
    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {
        "training": (
            "max_steps", "max_epochs", "optimizer", "nonmono", "average_from", "lr", "momentum",
            "nesterov", "betas", "weight_decay", "schedule", "warmup_steps", "decay_every",
            "decay_factor", "min_lr", "plateau_patience", "clip_norm", "clip_value", "tbptt_k1",
            "tbptt_k2", "accumulate_steps", "eval_every", "monitor", "monitor_mode",
            "early_stopping_patience", "min_delta", "seed", "device", "precision",
            "on_nonfinite", "divergence_ratio", "max_skipped",
        ),
        "checkpoints": ("checkpoint_every", "keep_last", "keep_best"),
        "output": ("log_every", "quiet"),
    }  # fmt: skip

    max_steps: int = 1000  # optimizer updates
    max_epochs: int | None = None  # passes over the training data; None: no limit
    optimizer: Literal["sgd", "adam", "adamw", "ntasgd"] = "adam"  # ntasgd: SGD, then averaged
    nonmono: int = 5  # n of NT-ASGD: average once val is worse than the best but the last n
    # k₀: average the weights of every update after the first k₀ (Polyak & Juditsky 1992; SWA);
    # None: off
    average_from: int | None = None
    lr: float = 1e-3  # η, peak learning rate
    momentum: float = 0.9  # μ, SGD and NT-ASGD (the AWD-LSTM used 0)
    nesterov: bool = False  # SGD and NT-ASGD
    betas: tuple[float, float] = (0.9, 0.999)  # β₁, β₂ of Adam/AdamW
    weight_decay: float = 0.0  # λ; decoupled for AdamW
    schedule: Literal["constant", "step", "cosine", "plateau"] = "constant"  # η over the steps
    warmup_steps: int = 0  # W, linear warm-up from η/W to η
    decay_every: int = 1000  # S, steps between decays of the "step" schedule
    decay_factor: float = 0.1  # f, factor of the "step" and "plateau" schedules
    min_lr: float = 0.0  # η_min, floor of the cosine schedule
    plateau_patience: int = 2  # evaluations without improvement before a plateau decay
    clip_norm: float | None = 1.0  # θ₀ of global-norm clipping (Pascanu et al. 2013); None: off
    clip_value: float | None = None  # clamp every gradient entry to [−v, v]; None: off
    tbptt_k1: int | None = None  # k1, steps forward between updates; None: full BPTT
    tbptt_k2: int | None = None  # k2 ≥ k1, steps backpropagated; None: k2 = k1
    accumulate_steps: int = 1  # micro-batches summed into one update
    eval_every: int = 0  # steps between evaluations; 0: only at the end
    monitor: str = "val_loss"  # metric for early stopping, plateau and the best checkpoint
    monitor_mode: Literal["min", "max"] = "min"  # whether a lower or a higher `monitor` is better
    early_stopping_patience: int = 0  # evaluations without improvement; 0: off
    min_delta: float = 0.0  # smallest change of `monitor` that counts as improvement
    checkpoint_every: int = 500  # steps between checkpoints; 0: only at the end
    keep_last: int = 3  # newest checkpoints kept (the best one is kept besides)
    keep_best: bool = True  # also write and keep the checkpoint with the best `monitor`
    log_every: int = 10  # steps between rows of metrics.jsonl and progress updates
    quiet: bool = False  # no progress bar or log lines
    seed: int = 1337  # seeds init, dropout and data order
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto: cuda when available
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"  # auto: bf16/fp16 on CUDA
    on_nonfinite: Literal["stop", "skip"] = "stop"  # NaN/inf loss or gradient, a diverging loss
    divergence_ratio: float | None = 100.0  # L > ratio × the first update's L diverged; None: off
    max_skipped: int = 10  # with on_nonfinite="skip": give up after this many skipped updates

    def __post_init__(self) -> None:
        positive = {
            "max_steps": self.max_steps,
            "nonmono": self.nonmono,
            "accumulate_steps": self.accumulate_steps,
            "decay_every": self.decay_every,
            "keep_last": self.keep_last,
            "log_every": self.log_every,
        }
        for name, value in positive.items():
            if value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value}")
        non_negative = {
            "warmup_steps": self.warmup_steps,
            "eval_every": self.eval_every,
            "checkpoint_every": self.checkpoint_every,
            "early_stopping_patience": self.early_stopping_patience,
            "plateau_patience": self.plateau_patience,
            "max_skipped": self.max_skipped,
            "weight_decay": self.weight_decay,
            "min_lr": self.min_lr,
            "min_delta": self.min_delta,
        }
        for name, value in non_negative.items():
            if value < 0:
                raise ConfigError(f"{name} must be ≥ 0, got {value}")
        self._check_ranges()
        self._check_tbptt()
        if self.average_from is not None and not 1 <= self.average_from < self.max_steps:
            raise ConfigError(
                f"--average-from must be at least 1 and below --max-steps = {self.max_steps} "
                f"(averaging starts after that many updates), got {self.average_from}"
            )
        if self.optimizer == "ntasgd" and self.eval_every < 1:
            raise ConfigError(
                "optimizer ntasgd starts averaging when validation stops improving, so it needs "
                "evaluations: set --eval-every N (steps between them, e.g. one epoch)"
            )

    def _check_ranges(self) -> None:
        numbers = {f.name: getattr(self, f.name) for f in fields(self)}
        numbers.update({"betas[0]": self.betas[0], "betas[1]": self.betas[1]})
        for name, value in numbers.items():  # nan passes every range check below
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{name} must be a finite number (none turns a limit off), "
                                  f"got {value}")  # fmt: skip
        if self.lr <= 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        if self.max_epochs is not None and self.max_epochs < 1:
            raise ConfigError(f"max_epochs must be positive or None, got {self.max_epochs}")
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"momentum must be in [0, 1), got {self.momentum}")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ConfigError(f"betas must be two numbers in [0, 1), got {self.betas}")
        if not 0.0 < self.decay_factor <= 1.0:
            raise ConfigError(f"decay_factor must be in (0, 1], got {self.decay_factor}")
        for name in ("clip_norm", "clip_value", "divergence_ratio"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name} must be positive or None (off), got {value}")

    def _check_tbptt(self) -> None:
        if self.tbptt_k1 is None:
            if self.tbptt_k2 is not None:
                raise ConfigError("tbptt_k2 needs tbptt_k1; set --tbptt-k1 as well")
            return
        if self.tbptt_k1 < 1:
            raise ConfigError(f"tbptt_k1 must be a positive integer, got {self.tbptt_k1}")
        if self.tbptt_k2 is not None and self.tbptt_k2 < self.tbptt_k1:
            raise ConfigError(
                f"tbptt_k2 must be ≥ tbptt_k1 = {self.tbptt_k1} (backpropagate at least the "
                f"steps run since the last update), got {self.tbptt_k2}"
            )
        if self.accumulate_steps != 1:
            raise ConfigError(
                "truncated BPTT makes one update per k1-step chunk; accumulate_steps must be 1, "
                f"got {self.accumulate_steps}. Use a larger batch instead."
            )

    @property
    def k2(self) -> int | None:
        """k2 of truncated BPTT (k1 when unset), None for full BPTT."""
        if self.tbptt_k1 is None:
            return None
        return self.tbptt_k2 if self.tbptt_k2 is not None else self.tbptt_k1

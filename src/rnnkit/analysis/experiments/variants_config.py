"""The config of the LSTM variant study (`rnnkit analyze variants`) and its variant names.

This module imports no torch, so that `rnnkit analyze variants --help` lists the flags quickly;
`rnnkit.analysis.experiments.variants` trains the variants (`run_variant_study`). The check of
the long-range problem's name imports `rnnkit.datasets.long_range` when a config is made.

References:
    https://arxiv.org/abs/1503.04069 (Greff, Srivastava, Koutník, Steunebrink & Schmidhuber
    2017, "LSTM: a search space odyssey", IEEE TNNLS 28(10))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from rnnkit.errors import ConfigError

# The LSTMCell options of each variant (Greff et al. 2017, §3): V and one change to it.
LSTM_VARIANTS: dict[str, dict[str, Any]] = {
    "V": {"peephole": True},
    "NIG": {"peephole": True, "input_gate": False},
    "NFG": {"peephole": True, "forget_gate": False},
    "NOG": {"peephole": True, "output_gate": False},
    "NIAF": {"peephole": True, "input_activation": "identity"},
    "NOAF": {"peephole": True, "output_activation": "identity"},
    "NP": {},
    "CIFG": {"peephole": True, "coupled_gates": True},
    "FGR": {"peephole": True, "full_gate_recurrence": True},
    "ReLU": {"peephole": True, "recurrent_activation": "relu"},
}
VARIANTS: tuple[str, ...] = (*LSTM_VARIANTS, "GRU")
TASKS = ("charlm", "long_range")
BASELINE = "V"


@dataclass(frozen=True, kw_only=True)
class VariantStudyConfig:
    """Variants × tasks × seeds, every run with the same budget (Adam, clipped gradients)."""

    variants: tuple[str, ...] = VARIANTS  # names of VARIANTS
    tasks: tuple[str, ...] = TASKS  # charlm, long_range
    seeds: int = 3  # runs per (task, variant); run k uses seed + k
    seed: int = 0
    learning_rate: float = 3e-3  # Adam, every run
    max_grad_norm: float = 1.0  # global gradient-norm clipping, every run
    # char-LM on Tiny Shakespeare: one recurrent layer between an embedding and a softmax
    charlm_steps: int = 300  # updates
    charlm_chars: int = 300_000  # characters of the text used: 90 % train, 10 % validation
    charlm_embed: int = 32  # E
    charlm_hidden: int = 64  # H
    charlm_length: int = 32  # T of a training window (truncated BPTT from a zero state)
    charlm_batch: int = 32  # B
    charlm_eval_windows: int = 64  # validation windows of T characters each
    # long-range problem: one recurrent layer read out at its last step
    problem: str = "temporal_order"  # adding or temporal_order
    length: int = 40  # T
    task_steps: int = 600  # updates
    task_hidden: int = 32  # H
    task_batch: int = 32  # B
    eval_size: int = 500  # test sequences, drawn from their own seed
    workers: int = 1  # processes; every run uses one torch thread (the models are small)
    quick: bool = False  # a smoke-sized study: 2 seeds, tiny sizes, ~3 minutes on 2 cores

    def __post_init__(self) -> None:
        from rnnkit.datasets.long_range import PROBLEMS  # torch loads only here

        for name, allowed in (("variants", VARIANTS), ("tasks", TASKS)):
            values = getattr(self, name)
            if not values:
                raise ConfigError(f"{name} must name at least one of {allowed}; got none.")
            for value in values:
                if value not in allowed:
                    raise ConfigError(f"{name} must be among {allowed}; got {value!r}.")
        if self.problem not in PROBLEMS:
            raise ConfigError(f"problem must be one of {PROBLEMS}; got {self.problem!r}.")
        positive = (
            "seeds", "charlm_steps", "charlm_embed", "charlm_hidden", "charlm_length",
            "charlm_batch", "charlm_eval_windows", "task_steps", "task_hidden", "task_batch",
            "eval_size", "workers", "learning_rate", "max_grad_norm",
        )  # fmt: skip
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive; got {getattr(self, name)}.")
        if self.length < 20:  # datasets.long_range.MIN_LENGTH: its marker windows need T ≥ 20
            raise ConfigError(f"length must be at least 20; got {self.length}.")
        needed = 10 * (self.charlm_length + 1) * 2
        if self.charlm_chars < needed:
            raise ConfigError(
                f"charlm_chars must leave a validation tenth of at least two windows of "
                f"charlm_length + 1 characters: at least {needed}; got {self.charlm_chars}."
            )

    def sized(self) -> VariantStudyConfig:
        """This config with the quick size applied."""
        if not self.quick:
            return self
        return dataclasses.replace(
            self, seeds=2, charlm_steps=80, charlm_chars=60_000, charlm_embed=16,
            charlm_hidden=32, charlm_length=24, charlm_batch=16, charlm_eval_windows=16,
            length=20, task_steps=100, task_hidden=16, task_batch=16, eval_size=200, quick=False,
        )  # fmt: skip


__all__ = ["BASELINE", "LSTM_VARIANTS", "TASKS", "VARIANTS", "VariantStudyConfig"]

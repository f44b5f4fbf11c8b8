"""The configs of the ACT study (`rnnkit analyze act`, bench/act.py): one run and the study.

This module imports no torch, so that `rnnkit analyze act --help` lists the flags quickly;
`rnnkit.analysis.experiments.act` trains and evaluates the models.

References:
    https://arxiv.org/abs/1603.08983 (Graves 2016, "Adaptive Computation Time for Recurrent
    Neural Networks")
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from rnnkit.errors import ConfigError

PARTS = ("parity", "addition", "charlm")  # the experiments of the study


@dataclass(frozen=True, kw_only=True)
class SyntheticConfig:
    """One parity or addition run; tau None trains the cell without ACT."""

    tau: float | None = None  # τ, weight of the ponder cost
    hidden_size: int = 64  # H
    steps: int = 2000  # parameter updates
    batch_size: int = 128  # B
    lr: float = 3e-3  # Adam's learning rate
    max_ponder: int = 20  # M
    bits: int = 16  # parity vector size (the paper: 64)
    max_digits: int = 5  # addition: D_max (the paper: 5)
    eval_size: int = 1000  # held-out examples
    seed: int = 1337


@dataclass(frozen=True, kw_only=True)
class CharConfig:
    """The char-LM comparison; tau None trains the plain LSTM."""

    tau: float | None = 0.01  # τ
    hidden_size: int = 128  # H
    steps: int = 600  # updates
    batch_size: int = 32  # B
    chunk: int = 64  # characters per training sequence
    lr: float = 3e-3
    max_ponder: int = 20  # M
    eval_chars: int = 8192  # held-out characters scored (from the last 10 % of the text)
    seed: int = 1337


@dataclass(frozen=True, kw_only=True)
class ACTStudyConfig:
    """The study: per part, the cell without ACT and ACT at each τ, same updates and seed."""

    parts: tuple[str, ...] = PARTS  # parity, addition, charlm
    quick: bool = False  # the few-minutes presets (parity 6 bits, addition D_max 2, 150 LM steps)
    taus: tuple[float, ...] = (0.001, 0.01)  # τ of the ACT rows of parity and addition
    charlm_tau: float = 0.01  # τ of the ACT LSTM of the char-LM
    steps: int | None = None  # updates of every run (None: the preset's)
    bits: int | None = None  # parity vector size (None: the preset's)
    threads: int = 1  # torch threads while the study runs
    seed: int = 1337  # seeds init and training data; held-out data uses seed + 10000

    def __post_init__(self) -> None:
        if not self.parts:
            raise ConfigError(f"parts must name at least one of {PARTS}; got none.")
        for part in self.parts:
            if part not in PARTS:
                raise ConfigError(f"parts must be among {PARTS}; got {part!r}.")
        for tau in (*self.taus, self.charlm_tau):
            if not 0 <= tau < math.inf:
                raise ConfigError(f"every τ (taus, charlm_tau) must be finite and ≥ 0; got {tau}.")
        for name in ("steps", "bits", "threads"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be a positive integer; got {value}.")

    def presets(self) -> tuple[SyntheticConfig, SyntheticConfig, CharConfig]:
        """(parity, addition, char-LM) run configs: the quick or full preset, then `steps`,
        `bits` and `seed` applied; τ is set per row by the runner."""
        if self.quick:  # a few minutes on one CPU thread
            parity = SyntheticConfig(bits=6, steps=2000)
            addition = SyntheticConfig(max_digits=2, steps=1000, batch_size=32, max_ponder=10)
        else:
            parity = SyntheticConfig(bits=8, steps=8000)
            addition = SyntheticConfig(hidden_size=128, max_digits=3, steps=4000, batch_size=32)
        chars = CharConfig(steps=150 if self.quick else 1500, tau=self.charlm_tau)
        steps = {} if self.steps is None else {"steps": self.steps}
        parity = replace(parity, seed=self.seed, **steps)
        addition = replace(addition, seed=self.seed, **steps)
        chars = replace(chars, seed=self.seed, **steps)
        if self.bits is not None:
            parity = replace(parity, bits=self.bits)
        return parity, addition, chars


__all__ = ["PARTS", "ACTStudyConfig", "CharConfig", "SyntheticConfig"]

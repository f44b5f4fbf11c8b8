"""The configs of `rnnkit analyze scalar | spectrum | tasks | heatmap`, and the variants compared.

This module imports no torch, so that `rnnkit analyze … --help` lists the flags quickly;
`gradient_experiments` (scalar, spectrum) and `gradient_tasks` (tasks, heatmap) of
`rnnkit.analysis.experiments` run the experiments. The checks that need the long-range
problems' names import them when a config is made.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rnnkit.errors import ConfigError

if TYPE_CHECKING:
    from rnnkit.analysis.experiments.long_range import TrainSettings

RHO = "\u03c1"  # the spectral-radius symbol, escaped for ruff's RUF001
# The training set-ups of the long-range experiments: name -> (layer, clip, Ω).
VARIANTS: dict[str, tuple[str, bool, bool]] = {
    "rnn": ("rnn", False, False),
    "rnn_clip": ("rnn", True, False),
    "rnn_clip_omega": ("rnn", True, True),
    "lstm": ("lstm", False, False),
    "gru": ("gru", False, False),
}


def _check_positive(name: str, value: float) -> None:
    if value <= 0:
        raise ConfigError(f"{name} must be positive; got {value}.")


@dataclass(frozen=True, kw_only=True)
class ScalarConfig:
    """The repeated-multiplication demonstration."""

    steps: int = 1000  # N, the largest number of multiplications n
    factors: tuple[float, ...] = (0.9, 0.99, 1.0, 1.01, 1.1)  # tanh'·w per step
    quick: bool = False  # N = 100, for tests and CI

    def __post_init__(self) -> None:
        _check_positive("steps", self.steps)
        if not self.factors:
            raise ConfigError("factors must name at least one factor; got none.")
        for factor in self.factors:
            _check_positive("each factor", factor)

    def sized(self) -> ScalarConfig:
        """This config with the quick size applied."""
        return dataclasses.replace(self, steps=100, quick=False) if self.quick else self


@dataclass(frozen=True, kw_only=True)
class SpectrumConfig:
    """Gradient norms of an Elman RNN with W_hh scaled to each spectral radius rho."""

    radii: tuple[float, ...] = (0.5, 0.9, 1.0, 1.1, 1.5)  # rho(W_hh) values
    hidden_size: int = 64  # H (= F: the input enters through W_ih = I)
    length: int = 100  # T
    batch_size: int = 4  # B
    seeds: int = 3  # random W_hh per rho; norms are averaged over them
    input_scale: float = 0.1  # x_t ~ N(0, input_scale²), small
    nonlinearity: Literal["tanh", "relu", "identity"] = "tanh"  # φ
    seed: int = 0  # seeds W_hh and the inputs (the k-th draw uses seed + k)
    quick: bool = False  # H = 16, 2 seeds, for tests and CI

    def __post_init__(self) -> None:
        for name in ("hidden_size", "length", "batch_size", "seeds", "input_scale"):
            _check_positive(name, getattr(self, name))
        if not self.radii:
            raise ConfigError(f"radii must name at least one {RHO}; got none.")
        for rho in self.radii:
            _check_positive("each radius", rho)

    def sized(self) -> SpectrumConfig:
        """This config with the quick size applied."""
        if not self.quick:
            return self
        return dataclasses.replace(self, hidden_size=16, seeds=2, quick=False)


@dataclass(frozen=True, kw_only=True)
class TasksConfig:
    """The success-rate experiment: problems × lengths × variants × seeds."""

    problems: tuple[str, ...] = ("adding", "temporal_order")  # datasets.long_range.PROBLEMS
    lengths: tuple[int, ...] = (50, 100, 200)  # T
    variants: tuple[str, ...] = tuple(VARIANTS)  # training set-ups compared (VARIANTS)
    seeds: int = 3  # runs per (problem, T, variant)
    hidden_size: int = 50  # H
    batch_size: int = 50  # B
    max_steps: int = 4000  # update budget per run
    learning_rate: float = 3e-3  # Adam
    max_grad_norm: float = 1.0  # clipping threshold
    omega_weight: float = 2.0  # λ of Ω
    eval_every: int = 100  # updates between test evaluations
    eval_size: int = 1000  # test sequences
    adding_threshold: float = 0.01  # success: adding test MSE below
    accuracy_threshold: float = 0.99  # success: temporal-order test accuracy at least
    workers: int = 1  # processes (one thread each when > 1)
    seed: int = 0  # seed of the first run; run k of a setting uses seed + k
    quick: bool = False  # T = 25, 1 seed, 20 updates, H = 16: for tests and CI

    def __post_init__(self) -> None:
        from rnnkit.datasets.long_range import PROBLEMS

        for name in ("problems", "lengths", "variants"):
            if not getattr(self, name):
                raise ConfigError(f"{name} must name at least one value; got none.")
        for problem in self.problems:
            if problem not in PROBLEMS:
                raise ConfigError(f"problems must be among {PROBLEMS}; got {problem!r}.")
        for variant in self.variants:
            if variant not in VARIANTS:
                raise ConfigError(f"variants must be among {tuple(VARIANTS)}; got {variant!r}.")
        for name in ("seeds", "max_steps", "eval_every", "workers", "hidden_size", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive; got {getattr(self, name)}.")

    def sized(self) -> TasksConfig:
        """This config with the quick size applied."""
        if not self.quick:
            return self
        return dataclasses.replace(
            self, lengths=(25,), seeds=1, max_steps=20, eval_every=10, eval_size=200,
            hidden_size=16, batch_size=16, quick=False,
        )  # fmt: skip

    def settings(self) -> list[TrainSettings]:
        """One TrainSettings per run, in (problem, T, variant, seed) order."""
        from rnnkit.analysis.experiments.long_range import TrainSettings

        shared = {
            name: getattr(self, name)
            for name in ("hidden_size", "batch_size", "max_steps", "learning_rate",
                         "max_grad_norm", "omega_weight", "eval_every", "eval_size",
                         "adding_threshold", "accuracy_threshold")
        }  # fmt: skip
        return [
            TrainSettings(
                problem=problem, length=length, variant=variant, seed=self.seed + k, **shared
            )
            for problem in self.problems
            for length in self.lengths
            for variant in self.variants
            for k in range(self.seeds)
        ]


@dataclass(frozen=True, kw_only=True)
class HeatmapConfig:
    """log₁₀ ‖∂L/∂h_t‖ over (time step × training step) while an RNN and an LSTM train."""

    problem: str = "adding"  # adding or temporal_order
    length: int = 100  # T
    variants: tuple[str, ...] = ("rnn", "lstm")  # training set-ups compared (VARIANTS)
    hidden_size: int = 50  # H
    batch_size: int = 50  # B, also the probe batch
    steps: int = 1500  # updates
    every: int = 50  # updates between measurements
    learning_rate: float = 3e-3  # Adam
    seed: int = 0  # seeds the models, the data and the probe batch
    quick: bool = False  # T = 25, 30 updates every 10, H = 16: for tests and CI

    def __post_init__(self) -> None:
        from rnnkit.datasets.long_range import PROBLEMS

        if self.problem not in PROBLEMS:
            raise ConfigError(f"problem must be one of {PROBLEMS}; got {self.problem!r}.")
        for variant in self.variants:
            if variant not in VARIANTS:
                raise ConfigError(f"variants must be among {tuple(VARIANTS)}; got {variant!r}.")
        if not 1 <= self.every <= self.steps:
            raise ConfigError(f"every must be in 1…steps ({self.steps}); got {self.every}.")

    def sized(self) -> HeatmapConfig:
        """This config with the quick size applied."""
        if not self.quick:
            return self
        return dataclasses.replace(
            self, length=25, steps=30, every=10, hidden_size=16, batch_size=16, quick=False
        )

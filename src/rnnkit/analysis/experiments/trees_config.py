"""The config of the tree study (`rnnkit analyze trees`, bench/tree.py): Tree-LSTMs and the
recursive net against a sequential LSTM on ListOps.

This module imports no torch, so that `rnnkit analyze trees --help` lists the flags quickly;
`rnnkit.analysis.experiments.trees` trains and evaluates the models.

References:
    https://arxiv.org/abs/1503.00075 (Tai, Socher & Manning 2015, Tree-LSTM)
    https://arxiv.org/abs/1804.06028 (Nangia & Bowman 2018, ListOps)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rnnkit.errors import ConfigError

MODELS = ("child_sum", "binary", "recursive", "lstm")  # the models of the study


@dataclass(frozen=True, kw_only=True)
class TreeStudyConfig:
    """Every model: equal parameter budget, the same Adam updates on the same batches."""

    models: tuple[str, ...] = MODELS  # child_sum, binary, recursive, lstm
    steps: int = 2000  # Adam updates of every model
    batch_size: int = 64  # B
    hidden_size: int = 64  # H of child_sum; it sets the parameter budget of the others
    embed_dim: int = 32  # E (the recursive net uses E = H)
    lr: float = 2e-3  # Adam's learning rate
    max_grad_norm: float = 5.0  # global gradient-norm clipping
    num_train: int = 20000  # generated training expressions
    num_test: int = 2000  # generated test expressions, disjoint from the training ones
    max_tokens: int = 100  # longest expression in tokens (ours; the paper sets no cap)
    speed_repeats: int = 10  # timed level-by-level runs per model (node by node: 3)
    threads: int = 1  # torch threads while the study runs (0: torch's default; small trees: 1)
    seed: int = 0  # seeds the data, the batch order and the initial weights
    quick: bool = False  # 600 steps, 6000 / 1000 expressions

    def __post_init__(self) -> None:
        if not self.models:
            raise ConfigError(f"models must name at least one of {MODELS}; got none.")
        for model in self.models:
            if model not in MODELS:
                raise ConfigError(f"models must be among {MODELS}; got {model!r}.")
        for name in ("steps", "batch_size", "hidden_size", "embed_dim", "num_train", "num_test",
                     "max_tokens", "speed_repeats"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer; got {getattr(self, name)}.")
        if self.lr <= 0 or self.max_grad_norm <= 0:
            raise ConfigError(
                f"lr and max_grad_norm must be positive; got {self.lr} and {self.max_grad_norm}."
            )
        if self.threads < 0:
            raise ConfigError(f"threads must be ≥ 0 (0: torch's default); got {self.threads}.")

    def sized(self) -> TreeStudyConfig:
        """This config with the quick size applied."""
        if not self.quick:
            return self
        return dataclasses.replace(self, steps=600, num_train=6000, num_test=1000, quick=False)


__all__ = ["MODELS", "TreeStudyConfig"]

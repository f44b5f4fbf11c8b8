"""Long-range dependency problems generated on the fly: the adding and temporal-order problems.

Both hide the information the answer needs early in a long sequence of distractors, so a model
must carry it across at least T/2 steps (Hochreiter & Schmidhuber 1997, experiments 4 and 6a).

Adding problem (the real-valued form of Martens & Sutskever 2011 and Pascanu et al. 2013):
x_t = (v_t, m_t) with v_t ~ U[0, 1]; the marker m_t is 1 at two steps, t₁ in the first tenth of
the sequence and t₂ in [T/10, T/2), and 0 elsewhere. The target is y = v_{t₁} + v_{t₂}.
Predicting the mean, 1, scores a mean squared error of Var(v₁ + v₂) = 1/6 ≈ 0.167; remembering
only the nearer value v_{t₂} scores 1/12 ≈ 0.083.

Temporal-order problem (6a): x_t is the one-hot code of a symbol; every step holds a random
distractor from {a, b, c, d} except t₁ ∈ [T/10, 2T/10) and t₂ ∈ [T/2, 6T/10), which hold X or Y.
The class is the order seen: XX, XY, YX or YY (chance: 25 %).

References:
    https://doi.org/10.1162/neco.1997.9.8.1735 (Hochreiter & Schmidhuber 1997, "Long Short-Term
    Memory", section 5, experiments 4 and 6a)
    https://arxiv.org/abs/1211.5063 (Pascanu, Mikolov & Bengio 2013, section 4.3)
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.errors import ConfigError

Problem = Literal["adding", "temporal_order"]
PROBLEMS: tuple[str, ...] = ("adding", "temporal_order")
SYMBOLS = ("a", "b", "c", "d", "X", "Y")  # temporal order: 4 distractors, then the two keys
CLASSES = ("XX", "XY", "YX", "YY")
MIN_LENGTH = 20  # the marker windows need T/10 ≥ 2 steps


class LongRangeBatch(NamedTuple):
    """Inputs (B, T, F) and targets: (B,) float sums (adding) or (B,) class ids (temporal order)."""

    inputs: Tensor
    targets: Tensor


def _positions(
    batch_size: int, low: float, high: float, length: int, generator: torch.Generator
) -> Tensor:
    """One step per sequence drawn uniformly from [⌊low·T⌋, ⌊high·T⌋), (B,) int64."""
    start, stop = int(low * length), int(high * length)
    return torch.randint(start, stop, (batch_size,), generator=generator)


def adding_problem(batch_size: int, length: int, generator: torch.Generator) -> LongRangeBatch:
    """B sequences of the adding problem, inputs (B, T, 2) = (value, marker), targets (B,).

    Example:
        >>> batch = adding_problem(3, 50, torch.Generator().manual_seed(0))
        >>> batch.inputs.shape, batch.targets.shape
        (torch.Size([3, 50, 2]), torch.Size([3]))
        >>> marked = batch.inputs[..., 0] * batch.inputs[..., 1]  # v_t where m_t = 1
        >>> bool(torch.allclose(marked.sum(1), batch.targets))
        True
    """
    _check(batch_size, length)
    values = torch.rand(batch_size, length, generator=generator)  # v_t ~ U[0, 1]
    first = _positions(batch_size, 0.0, 0.1, length, generator)  # t₁ in the first tenth
    second = _positions(batch_size, 0.1, 0.5, length, generator)  # t₂ in [T/10, T/2)
    markers = torch.zeros(batch_size, length)
    rows = torch.arange(batch_size)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]  # y = v_{t₁} + v_{t₂}
    return LongRangeBatch(torch.stack([values, markers], dim=-1), targets)


def temporal_order_problem(
    batch_size: int, length: int, generator: torch.Generator
) -> LongRangeBatch:
    """B sequences of the temporal-order problem, inputs (B, T, 6) one-hot, targets (B,) ∈ 0…3.

    Example:
        >>> batch = temporal_order_problem(2, 40, torch.Generator().manual_seed(0))
        >>> batch.inputs.shape, int(batch.inputs[..., 4:].sum())  # two keys per sequence
        (torch.Size([2, 40, 6]), 4)
    """
    _check(batch_size, length)
    symbols = torch.randint(0, 4, (batch_size, length), generator=generator)  # distractors
    keys = torch.randint(0, 2, (batch_size, 2), generator=generator)  # 0 = X, 1 = Y
    rows = torch.arange(batch_size)
    symbols[rows, _positions(batch_size, 0.1, 0.2, length, generator)] = 4 + keys[:, 0]
    symbols[rows, _positions(batch_size, 0.5, 0.6, length, generator)] = 4 + keys[:, 1]
    targets = 2 * keys[:, 0] + keys[:, 1]  # XX 0, XY 1, YX 2, YY 3
    return LongRangeBatch(F.one_hot(symbols, len(SYMBOLS)).float(), targets)


def make_batch(
    problem: str, batch_size: int, length: int, generator: torch.Generator
) -> LongRangeBatch:
    """A batch of `problem` ("adding" or "temporal_order")."""
    if problem == "adding":
        return adding_problem(batch_size, length, generator)
    if problem == "temporal_order":
        return temporal_order_problem(batch_size, length, generator)
    raise ConfigError(f"problem must be one of {PROBLEMS}; got {problem!r}.")


def input_size(problem: str) -> int:
    """F: 2 for adding (value, marker), 6 for temporal order (one-hot symbols)."""
    return 2 if problem == "adding" else len(SYMBOLS)


def _check(batch_size: int, length: int) -> None:
    if batch_size < 1:
        raise ConfigError(f"batch_size must be positive; got {batch_size}.")
    if length < MIN_LENGTH:
        raise ConfigError(
            f"long-range problems need T ≥ {MIN_LENGTH} (marker windows of T/10 steps); "
            f"got T = {length}."
        )


__all__ = [
    "CLASSES",
    "PROBLEMS",
    "SYMBOLS",
    "LongRangeBatch",
    "adding_problem",
    "input_size",
    "make_batch",
    "temporal_order_problem",
]

"""The random masks of the recurrence's regularisers, drawn once per sequence, and their checks.

References:
    https://arxiv.org/abs/1512.05287 (Gal & Ghahramani 2016, variational recurrent dropout)
    https://arxiv.org/abs/1606.01305 (Krueger et al. 2017, zoneout)
    https://proceedings.mlr.press/v28/wan13.html (Wan et al. 2013, DropConnect)
    https://arxiv.org/abs/1708.02182 (Merity, Keskar & Socher 2017, weight drop, locked dropout)

The equations that use these masks are in each cell's docstring (`rnnkit.cells.rnn`, `lstm`,
`gru`); how a layer draws them and hands them to the step is in `rnnkit.cells.base`. The masks
of one forward pass over a sequence of T steps, batch B, state size S (H, or P for a projected
LSTM), G gate rows:

    m ~ Bernoulli(1 − p)^(B×S) / (1 − p)        recurrent dropout: one mask per sequence
    d_t ~ Bernoulli(p)^(B×S), t = 1…T            zoneout: one mask per step, 1 = keep the old value
    W̃_hh = M ⊙ W_hh / (1 − p),  M ~ Bernoulli(1 − p)^(G×S)    weight drop: one per forward pass
    x̃_t = m ⊙ x_t,  m ~ Bernoulli(1 − p)^(B×F) / (1 − p)       locked dropout: one m for all t
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from rnnkit.errors import ConfigError


class SequenceMasks(NamedTuple):
    """The masks of one forward pass (training only); a field is None when its option is off.

    `cell.begin_sequence(T, B, like=x)` draws them; the time loop passes `masks.at(t)` to
    `cell.step` at step t. Tests build them by hand to inject known masks.
    """

    recurrent: Tensor | None = None  # m (B, S), already scaled by 1/(1 − p)
    zoneout_hidden: Tensor | None = None  # d^h_t: (T, B, S) for a sequence, (B, S) at one step
    zoneout_cell: Tensor | None = None  # d^c_t: (T, B, H) or (B, H); LSTM only
    weight_hh: Tensor | None = None  # W̃_hh (G, S), the dropped recurrent weights

    def at(self, t: int) -> SequenceMasks:
        """The masks of step t: the same m and W̃_hh, the zoneout masks of that step."""
        return self._replace(
            zoneout_hidden=None if self.zoneout_hidden is None else self.zoneout_hidden[t],
            zoneout_cell=None if self.zoneout_cell is None else self.zoneout_cell[t],
        )


def check_probability(argument: str, value: Any, *, closed: bool = False) -> float:
    """`value` as a float in [0, 1) ([0, 1] with closed=True), else ConfigError naming it."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_number or not (0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0):
        interval = "[0, 1]" if closed else "[0, 1) (1 would divide by 1 − p = 0)"
        raise ConfigError(
            f"Received an invalid value for argument `{argument}`, expected a probability in "
            f"{interval}, got {value!r}."
        )
    return float(value)


def check_zoneout(value: Any, *, has_cell: bool) -> tuple[float, float]:
    """`zoneout` = p or (p_h, p_c) as the pair (p_h, p_c); a pair only for a cell with c_t."""
    if isinstance(value, tuple | list):
        if not has_cell or len(value) != 2:
            expected = "p or a pair (p_h, p_c)" if has_cell else "one probability p (no c_t)"
            raise ConfigError(
                f"Received an invalid value for argument `zoneout`, expected {expected}, "
                f"got {value!r}."
            )
        return (check_probability("zoneout", value[0], closed=True),
                check_probability("zoneout", value[1], closed=True))  # fmt: skip
    p = check_probability("zoneout", value, closed=True)
    return p, (p if has_cell else 0.0)


def bernoulli(shape: tuple[int, ...], probability: float, like: Tensor) -> Tensor:
    """0/1 entries, 1 with `probability`, in the dtype and device of `like`.

    Drawn as [u < p] with u ~ U[0, 1) (`torch.rand`, in float64 for a float64 `like`, else
    float32, whose u are multiples of 2⁻²⁴: the probability is p rounded up to one of them).
    On one CPU thread this is twice as fast as `Tensor.bernoulli_(p)`: 1.19 ms against 2.39
    for the 409,600 entries of a zoneout mask at `python -m bench.regularisers`' small size,
    `python -m timeit -s "import torch; torch.set_num_threads(1)"` on
    "torch.rand(100, 32, 128).lt_(0.1)" and "torch.empty(100, 32, 128).bernoulli_(0.1)".
    """
    dtype = torch.float64 if like.dtype == torch.float64 else torch.float32
    draws = torch.rand(shape, dtype=dtype, device=like.device)  # u
    return draws.lt_(probability).to(like.dtype)  # [u < p], in place


def dropout_mask(shape: tuple[int, ...], p: float, like: Tensor) -> Tensor:
    """Bernoulli(1 − p) / (1 − p): zero with probability p, expectation 1."""
    return bernoulli(shape, 1.0 - p, like).div_(1.0 - p)


def locked_dropout(x: Tensor, p: float, *, training: bool) -> Tensor:
    """x̃_t = m ⊙ x_t with one mask m (B, F) for every step t (variational / locked dropout).

    Shapes:
        x (T, B, F) time-major; returns (T, B, F).
    """
    if not training or p == 0.0:
        return x
    return x * dropout_mask((1, *x.shape[1:]), p, x)  # (1, B, F) broadcast over T


__all__ = [
    "SequenceMasks",
    "bernoulli",
    "check_probability",
    "check_zoneout",
    "dropout_mask",
    "locked_dropout",
]

"""The parity and addition tasks of Graves 2016 (ACT), generated on the fly from a torch.Generator.

Parity (section 3.1): one input vector of `size` = 64 elements; a random number k, uniform in
1 … size, of them (at random positions) are set to +1 or −1 with equal probability, the rest to
0. The target is 1 if the number of ones (+1 entries) is odd and 0 if it is even. The network
sees the vector once, a sequence of length 1, so any sequential processing is pondering.

Addition (section 3.3): a sequence of 1 to 5 input vectors of size 10 D_max = 50. Each vector is
a D-digit number, D uniform in 1 … 5 and each digit uniform in 0 … 9 (so leading zeros may
occur); its first 10 D elements are the one-hot codes of the D digits, most significant first,
and the rest are 0. The target at step t is the cumulative sum of the numbers up to t, as 6
simultaneous 11-way classifications, one per digit of the sum (most significant first): classes
0 … 9 are the digits and class 10 marks that the number has ended. There is no target at the
first step (no sum has been computed yet). The task is scored by the sequence error rate: a
sequence is wrong if any digit of any of its targets is wrong.

References:
    https://arxiv.org/abs/1603.08983 (Graves 2016, "Adaptive Computation Time for Recurrent
    Neural Networks", sections 3.1 and 3.3)
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.errors import ConfigError

PARITY_SIZE = 64  # elements of a parity input vector
ADDITION_DIGITS = 5  # D_max, the most digits of an addition input number
ADDITION_LENGTH = 5  # the most numbers in an addition sequence
END_OF_NUMBER = 10  # the 11th class of a target digit: the sum has no more digits
NO_TARGET = -100  # target value where there is none (first step, padding): F.cross_entropy's


class ParityBatch(NamedTuple):
    """inputs (B, size) in {−1, 0, +1}; targets (B,) float, 1.0 for an odd number of +1s."""

    inputs: Tensor
    targets: Tensor


class AdditionBatch(NamedTuple):
    """One batch of the addition task, batch-major.

    inputs:   (B, T, 10 D_max) float, one-hot digits; 0 on padding.
    targets:  (B, T, S) int64, the digits of the running sum (0 … 9, 10 = ended), S = sum
              digits; NO_TARGET (−100) at t = 0 and on padding.
    lengths:  (B,) int64, the numbers in each sequence (1 … T).
    sums:     (B, T) int64, the running sums themselves (0 on padding).
    """

    inputs: Tensor
    targets: Tensor
    lengths: Tensor
    sums: Tensor

    @property
    def mask(self) -> Tensor:
        """(B, T) bool, True at the steps that have a target (1 ≤ t < length)."""
        return self.targets[..., 0] != NO_TARGET


def _check_positive(argument: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"Received an invalid value for argument `{argument}`, expected a positive "
            f"integer, got {value!r}."
        )
    return value


def parity_batch(
    batch_size: int, generator: torch.Generator, *, size: int = PARITY_SIZE
) -> ParityBatch:
    """B parity problems (module docstring), inputs (B, size), targets (B,).

    Example:
        >>> batch = parity_batch(4, torch.Generator().manual_seed(0), size=8)
        >>> batch.inputs.shape, batch.targets.shape
        (torch.Size([4, 8]), torch.Size([4]))
        >>> bool(((batch.inputs == 1).sum(1) % 2 == batch.targets).all())
        True
    """
    B, size = _check_positive("batch_size", batch_size), _check_positive("size", size)
    count = torch.randint(1, size + 1, (B, 1), generator=generator)  # k ~ U{1, …, size}
    ranks = torch.rand(B, size, generator=generator).argsort(dim=1).argsort(dim=1)  # (B, size)
    chosen = ranks < count  # k positions at random
    signs = torch.randint(0, 2, (B, size), generator=generator) * 2 - 1  # ±1
    inputs = torch.where(chosen, signs, 0).float()  # (B, size)
    targets = ((inputs == 1).sum(dim=1) % 2).float()  # parity of the number of ones
    return ParityBatch(inputs, targets)


def sum_digits(max_digits: int = ADDITION_DIGITS, max_length: int = ADDITION_LENGTH) -> int:
    """S, the digits of the largest running sum, max_length (10^D_max − 1): 6 for 5 and 5."""
    return len(str(max_length * (10**max_digits - 1)))


def digits_of(values: Tensor, width: int) -> Tensor:
    """The decimal digits of non-negative ints, most significant first, padded with
    END_OF_NUMBER: (…,) -> (…, width). 0 is the one digit "0".

    Example:
        >>> digits_of(torch.tensor([407, 0]), 4).tolist()
        [[4, 0, 7, 10], [0, 10, 10, 10]]
    """
    powers = 10 ** torch.arange(width, dtype=torch.int64)  # 1, 10, 100, …
    length = 1 + (values.unsqueeze(-1) >= powers[1:]).sum(dim=-1)  # number of digits, (…,)
    position = torch.arange(width)  # j, the digit's index from the left
    exponent = (length.unsqueeze(-1) - 1 - position).clamp(min=0)  # 10^(L − 1 − j)
    digits = values.unsqueeze(-1) // 10**exponent % 10
    return torch.where(position < length.unsqueeze(-1), digits, END_OF_NUMBER)


def addition_batch(
    batch_size: int,
    generator: torch.Generator,
    *,
    max_digits: int = ADDITION_DIGITS,
    max_length: int = ADDITION_LENGTH,
    min_length: int = 1,
) -> AdditionBatch:
    """B addition sequences (module docstring), padded to T = max_length.

    Example:
        >>> batch = addition_batch(3, torch.Generator().manual_seed(0))
        >>> batch.inputs.shape, batch.targets.shape, batch.lengths.shape
        (torch.Size([3, 5, 50]), torch.Size([3, 5, 6]), torch.Size([3]))
        >>> batch.mask[:, 0].any().item()  # no target at the first step
        False
    """
    B = _check_positive("batch_size", batch_size)
    D, T = _check_positive("max_digits", max_digits), _check_positive("max_length", max_length)
    if not 1 <= _check_positive("min_length", min_length) <= T:
        raise ConfigError(
            f"Received an invalid value for argument `min_length`, expected 1 ≤ min_length ≤ "
            f"max_length = {T}, got {min_length!r}."
        )
    lengths = torch.randint(min_length, T + 1, (B,), generator=generator)  # numbers per sequence
    count = torch.randint(1, D + 1, (B, T), generator=generator)  # D of each number
    digits = torch.randint(0, 10, (B, T, D), generator=generator)  # most significant first
    position = torch.arange(D)
    used = position < count.unsqueeze(-1)  # (B, T, D): the number's D digits
    real = torch.arange(T) < lengths.unsqueeze(-1)  # (B, T): steps inside the sequence
    used &= real.unsqueeze(-1)
    exponent = (count.unsqueeze(-1) - 1 - position).clamp(min=0)
    numbers = torch.where(used, digits * 10**exponent, 0).sum(dim=-1)  # (B, T)
    sums = numbers.cumsum(dim=1) * real  # running sum, 0 on padding
    inputs = (F.one_hot(digits, 10) * used.unsqueeze(-1)).reshape(B, T, 10 * D).float()
    targets = digits_of(sums, sum_digits(D, T))  # (B, T, S)
    has_target = real.clone()
    has_target[:, 0] = False  # no target at the first step
    targets = torch.where(has_target.unsqueeze(-1), targets, NO_TARGET)
    return AdditionBatch(inputs, targets, lengths, sums)


__all__ = [
    "ADDITION_DIGITS",
    "ADDITION_LENGTH",
    "END_OF_NUMBER",
    "NO_TARGET",
    "PARITY_SIZE",
    "AdditionBatch",
    "ParityBatch",
    "addition_batch",
    "digits_of",
    "parity_batch",
    "sum_digits",
]

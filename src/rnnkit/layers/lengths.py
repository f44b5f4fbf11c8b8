"""Variable-length batches: checked lengths, masks, length-aware reversal, PackedSequence interop.

References:
    https://github.com/google/flax/blob/18f8f31/flax/linen/recurrent.py (`flip_sequences`)
    https://pytorch.org/docs/stable/generated/torch.nn.utils.rnn.PackedSequence.html

A padded batch holds B sequences of lengths len_b ≤ T; step t of sequence b is real when
t < len_b (0-based), and the mask m[b, t] = [t < len_b] is True on real steps.

Every layer (`Recurrent`, `Bidirectional`, `Stacked`, `rnnkit.RNN/LSTM/GRU`) takes its lengths
through `SequenceLengths.checked`: one check, one accepted range 1 ≤ len_b ≤ T (torch's: its
`pack_padded_sequence` refuses a length of 0), and one mask, written in `lengths_mask`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.errors import ShapeError


def check_lengths(
    lengths: Any,
    *,
    batch_size: int,
    steps: int,
    enforce_sorted: bool = False,
    argument: str = "lengths",
    source: str = "",
) -> Tensor:
    """Return `lengths` as an int64 CPU tensor (B,) after checking it against the batch.

    Args:
        lengths: len_b for each sequence, a tensor or a list of ints.
        batch_size: B, the number of sequences in the batch.
        steps: T, the length of the padded time axis.
        enforce_sorted: also require len_1 ≥ len_2 ≥ … ≥ len_B (as pack_padded_sequence does).
        argument: the name used in error messages.
        source: where B and T were read (`checks.describe_input`), named in error messages.

    Returns:
        The lengths, (B,) int64 on the CPU.

    Raises:
        ShapeError: wrong type, dtype or shape, a length < 1 or > T, or unsorted lengths
            when `enforce_sorted` is True; the message names the argument.

    Example:
        >>> check_lengths([3, 1], batch_size=2, steps=3).tolist()
        [3, 1]
    """
    origin = f" (B = {batch_size}, T = {steps} from {source})" if source else ""
    if isinstance(lengths, list | tuple):
        lengths = torch.tensor(lengths)
    if not isinstance(lengths, Tensor) or lengths.is_floating_point() or lengths.is_complex():
        got = f"{lengths.dtype} tensor" if isinstance(lengths, Tensor) else type(lengths).__name__
        raise ShapeError(f"`{argument}` must be an integer tensor (B,); got {got}.")
    if lengths.dtype == torch.bool or tuple(lengths.shape) != (batch_size,):
        raise ShapeError(
            f"`{argument}` must be (B,) = ({batch_size},) integers, one per sequence{origin}; "
            f"got {tuple(lengths.shape)} {lengths.dtype}."
        )
    lengths = lengths.to("cpu", torch.int64)
    if batch_size and (lengths.min() < 1 or lengths.max() > steps):
        raise ShapeError(
            f"`{argument}` must lie in [1, T] = [1, {steps}] (no empty sequences, none longer "
            f"than the time axis){origin}; got {lengths.tolist()}."
        )
    if enforce_sorted and bool((lengths[1:] > lengths[:-1]).any()):
        raise ShapeError(
            f"`{argument}` must be sorted longest first when enforce_sorted=True; got "
            f"{lengths.tolist()}. Sort the batch or pass enforce_sorted=False."
        )
    return lengths


def lengths_mask(
    lengths: Tensor, steps: int, *, device: torch.device | str | None = None
) -> Tensor:
    """m (B, T) bool with m[b, t] = [t < len_b], True on real steps.

    Example:
        >>> lengths_mask(torch.tensor([3, 1]), 3).int().tolist()
        [[1, 1, 1], [1, 0, 0]]
    """
    positions = torch.arange(steps, device=device)  # (T,)
    return positions[None, :] < lengths.to(device)[:, None]  # (B, T)


@dataclass(frozen=True)
class SequenceLengths:
    """The lengths of a padded time-major batch, with its mask, computed once per forward call.

    Attributes:
        lengths: len_b, (B,) int64 on the CPU.
        mask: m_t for every step, (T, B, 1) bool on the data's device.
    """

    lengths: Tensor
    mask: Tensor

    @classmethod
    def build(cls, lengths: Tensor, steps: int, device: torch.device) -> SequenceLengths:
        """From checked lengths (B,) and the time axis T of data on `device`."""
        mask = lengths_mask(lengths, steps, device=device).t().unsqueeze(-1)  # (T, B, 1)
        return cls(lengths=lengths, mask=mask)

    @classmethod
    def checked(
        cls, lengths: Any, *, batch_size: int, steps: int, device: torch.device, source: str = ""
    ) -> SequenceLengths | None:
        """The one entry point of every layer: check `lengths` (`check_lengths`), build the mask.

        Returns None when `lengths` is None or every sequence fills the T steps, so the loops
        and the fast paths run unmasked (the same numbers, less work).

        Example:
            >>> SequenceLengths.checked([3, 3], batch_size=2, steps=3, device="cpu") is None
            True
            >>> padded = SequenceLengths.checked([3, 1], batch_size=2, steps=3, device="cpu")
            >>> padded.mask.squeeze(-1).t().int().tolist()  # (B, T)
            [[1, 1, 1], [1, 0, 0]]
        """
        if lengths is None:
            return None
        lengths = check_lengths(lengths, batch_size=batch_size, steps=steps, source=source)
        if not bool((lengths < steps).any()):
            return None
        return cls.build(lengths, steps, torch.device(device))

    @property
    def is_sorted(self) -> bool:
        """Whether len_1 ≥ len_2 ≥ … ≥ len_B."""
        return not bool((self.lengths[1:] > self.lengths[:-1]).any())

    @functools.cached_property
    def sorting(self) -> tuple[Tensor, Tensor, Tensor] | None:
        """(sorted lengths, order, inverse) for the fast paths that need the batch longest first,
        or None when it already is; computed once per forward call and shared by all layers."""
        return None if self.is_sorted else sort_by_length(self.lengths)


def flip_sequences(x: Tensor, lengths: Tensor | None, *, time_dim: int = 1) -> Tensor:
    """Reverse each sequence within its own real steps; the padding stays where it is.

    y[b, t] = x[b, len_b − 1 − t] for t < len_b, and y[b, t] = x[b, t] on padding (flax's
    `flip_sequences`). Applying it twice gives x back.

    Shapes:
        x (B, T, …) with time_dim=1, or (T, B, …) with time_dim=0; lengths (B,).

    Example:
        >>> x = torch.tensor([[1, 2, 3], [4, 5, 0]])  # (B, T), the second sequence has 2 steps
        >>> flip_sequences(x, torch.tensor([3, 2])).tolist()
        [[3, 2, 1], [5, 4, 0]]
    """
    if lengths is None:
        return x.flip(time_dim)
    T = x.shape[time_dim]
    steps = torch.arange(T, device=x.device)[None, :]  # (1, T)
    mask = lengths_mask(lengths, T, device=x.device)  # (B, T)
    source = torch.where(mask, lengths.to(x.device)[:, None] - 1 - steps, steps)  # (B, T)
    if time_dim == 0:
        source = source.t()  # (T, B)
    index = source.reshape(*source.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(time_dim, index)


def last_valid(x: Tensor, lengths: Tensor | None, *, time_dim: int = 1) -> Tensor:
    """x at each sequence's last real step, x[b, len_b − 1]: (B, …).

    Example:
        >>> x = torch.tensor([[1, 2, 3], [4, 5, 0]])  # (B, T)
        >>> last_valid(x, torch.tensor([3, 2])).tolist()
        [3, 5]
    """
    if lengths is None:
        return x.select(time_dim, x.shape[time_dim] - 1)
    steps = (lengths - 1).to(x.device)
    rows = torch.arange(x.shape[1 - time_dim], device=x.device)
    return x[rows, steps] if time_dim == 1 else x[steps, rows]


def sort_by_length(lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Sorted lengths (longest first, ties in batch order), the order, and its inverse.

    Example:
        >>> sorted_lengths, order, inverse = sort_by_length(torch.tensor([1, 3, 2]))
        >>> sorted_lengths.tolist(), order.tolist(), inverse.tolist()
        ([3, 2, 1], [1, 2, 0], [2, 0, 1])
    """
    sorted_lengths, order = torch.sort(lengths, descending=True, stable=True)
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(order.numel())
    return sorted_lengths, order, inverse


def unpack_sequence(packed: PackedSequence) -> tuple[Tensor, Tensor]:
    """A PackedSequence as a padded time-major batch (T, B, …) in the original batch order.

    Returns:
        (padded, lengths): padding is zero; lengths (B,) int64 on the CPU.
    """
    padded, lengths = pad_packed_sequence(packed, batch_first=False)  # (T, B, …)
    return padded, lengths.to(torch.int64)


def pack_like(padded: Tensor, template: PackedSequence) -> PackedSequence:
    """Pack a time-major padded batch (T, B, …) exactly as `template` is packed.

    The result has the template's `batch_sizes`, `sorted_indices` and `unsorted_indices`,
    so it lines up row for row with the PackedSequence that torch.nn.RNN would return.
    """
    batch_sizes = template.batch_sizes
    order = template.sorted_indices
    if order is not None:
        padded = padded.index_select(1, order.to(padded.device))  # longest first
    rows = [padded[t, :size] for t, size in enumerate(batch_sizes.tolist())]
    return PackedSequence(
        torch.cat(rows), batch_sizes, template.sorted_indices, template.unsorted_indices
    )


def pack(
    padded: Tensor, lengths: Any, *, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """`pack_padded_sequence` with its arguments checked first (ShapeError naming `lengths`).

    Example:
        >>> packed = pack(torch.zeros(3, 2, 4), [3, 1])  # (T, B, F)
        >>> packed.batch_sizes.tolist()
        [2, 1, 1]
    """
    if padded.dim() < 2:
        raise ShapeError(
            f"`padded` must be (T, B, …) or (B, T, …) with batch_first=True; "
            f"got {tuple(padded.shape)}."
        )
    B, T = (padded.shape[0], padded.shape[1]) if batch_first else (padded.shape[1], padded.shape[0])
    lengths = check_lengths(lengths, batch_size=B, steps=T, enforce_sorted=enforce_sorted)
    return pack_padded_sequence(
        padded, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted
    )


__all__ = [
    "SequenceLengths",
    "check_lengths",
    "flip_sequences",
    "last_valid",
    "lengths_mask",
    "pack",
    "pack_like",
    "sort_by_length",
    "unpack_sequence",
]

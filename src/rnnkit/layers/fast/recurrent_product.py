"""Products with one weight used at every time step: packed once for oneDNN, else `addmm`.

References:
    https://oneapi-src.github.io/oneDNN/dev_guide_inner_product.html (oneDNN inner product)

A recurrent layer multiplies by the same W_hh at every step, T times forwards and T times
backwards. `torch.addmm` (MKL) packs W_hh again on every call, which costs most when W_hh is
large and the batch small; oneDNN's product takes W_hh packed once per pass. On the two CPUs
measured (bench/README.md, `python -m bench.cells --products`) the packed product won clearly
for H ≥ 512 or for small batches and was about even or behind at (B, H) = (64, 256), and behind
for H = 128 or B = 1. So oneDNN is used in float32 on CPU for H ≥ 256 and 4 ≤ B ≤ 32, and only
when torch has these private operators (`torch.ops.mkldnn`); everywhere else the product is
`torch.addmm`. The choice depends only on shapes, never on a timing, so runs stay reproducible;
the two give the same numbers up to float32 rounding (tests/layers/test_recurrent_product.py).
"""

from __future__ import annotations

import torch
from torch import Tensor


def onednn_ready(weight: Tensor, batch_size: int) -> bool:
    """Whether the per-step products go through oneDNN (see the module docstring for why)."""
    return (
        weight.device.type == "cpu"
        and weight.dtype == torch.float32
        and weight.shape[1] >= 256
        and 4 <= batch_size <= 32
        and torch.backends.mkldnn.is_available()
        and torch.backends.mkldnn.enabled
        and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    )


class RecurrentProduct:
    """x ↦ x Wᵀ (+ a) for one weight W used at every step, in place into preallocated rows."""

    def __init__(self, weight: Tensor, batch_size: int, onednn: bool) -> None:
        self.weight_t = weight.t()
        self.packed = None
        if onednn:
            self.packed = torch.ops.mkldnn._reorder_linear_weight(weight.detach(), batch_size)

    def add_to(self, accumulator: Tensor, x: Tensor) -> Tensor:
        """accumulator += x Wᵀ, in place."""
        if self.packed is None:
            return accumulator.addmm_(x, self.weight_t)
        linear = torch.ops.mkldnn._linear_pointwise.binary
        return accumulator.copy_(linear(x, accumulator, self.packed, None, "add"))

    def write(self, out: Tensor, x: Tensor) -> Tensor:
        """out = x Wᵀ, in place."""
        if self.packed is None:
            return torch.mm(x, self.weight_t, out=out)
        linear = torch.ops.mkldnn._linear_pointwise
        return out.copy_(linear(x, self.packed, None, "none", [], ""))

    def write_sum(self, out: Tensor, base: Tensor, x: Tensor) -> Tensor:
        """out = base + x Wᵀ, in place: one call where `write` and an add would take two."""
        if self.packed is None:
            return torch.addmm(base, x, self.weight_t, out=out)
        linear = torch.ops.mkldnn._linear_pointwise.binary
        return out.copy_(linear(x, base, self.packed, None, "add"))


__all__ = ["RecurrentProduct", "onednn_ready"]

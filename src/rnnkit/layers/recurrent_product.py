"""Products with one weight used at every time step: packed once for oneDNN, else `addmm`.

References:
    https://oneapi-src.github.io/oneDNN/dev_guide_inner_product.html (oneDNN inner product)

A recurrent layer multiplies by the same W_hh at every step, T times forwards and T times
backwards. MKL's `addmm` repacks W_hh on every call; oneDNN takes it packed once per pass.
These private torch operators (`torch.ops.mkldnn`) are used only when present; otherwise, and
off CPU or float32, the product is `torch.addmm`, which gives the same numbers up to rounding
(tests/layers/test_fused_lstm.py checks both against float64).
"""

from __future__ import annotations

import torch
from torch import Tensor


def onednn_ready(weight: Tensor, batch_size: int) -> bool:
    """Whether the per-step products go through oneDNN: float32 on CPU, H ≥ 256 and B ≥ 4.

    `python bench/cells.py --products` times both on the machine at hand; on the 2-core
    development CPU the packed product was up to 7× faster for large H and small B (MKL repacks
    W_hh on every call), about even at (B, H) = (64, 256), and slower for H = 128 or B = 1
    (bench/README.md).
    """
    return (
        weight.device.type == "cpu"
        and weight.dtype == torch.float32
        and weight.shape[1] >= 256
        and batch_size >= 4
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


__all__ = ["RecurrentProduct", "onednn_ready"]

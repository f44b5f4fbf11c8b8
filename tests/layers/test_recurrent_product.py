"""The per-step product: addmm and the packed oneDNN product agree; the rule for choosing."""

from __future__ import annotations

import torch
from layer_helpers import assert_close

from rnnkit.layers.fast.recurrent_product import RecurrentProduct, onednn_ready


def test_recurrent_products_agree() -> None:
    """addmm and (where torch has it) the packed oneDNN product give the same float32 numbers."""
    weight, hidden = torch.randn(1024, 256) / 16, torch.randn(8, 256)  # W (4H, H), h (B, H)
    accumulator = torch.randn(8, 1024)  # (B, 4H)
    expected = (accumulator.double() + hidden.double() @ weight.double().t()).float()
    available = hasattr(torch.ops.mkldnn, "_linear_pointwise")
    for onednn in (False, True) if available else (False,):
        product = RecurrentProduct(weight, 8, onednn)
        assert_close(product.add_to(accumulator.clone(), hidden), expected, 1e-4)
        out = torch.empty(8, 1024)
        assert_close(product.write(out, hidden), expected - accumulator, 1e-4)
        out = torch.empty(8, 1024)
        written = product.write_sum(out, accumulator, hidden)  # out = a + h Wᵀ, a unchanged
        assert written.data_ptr() == out.data_ptr()
        assert_close(written, expected, 1e-4)


def test_onednn_only_for_float32_cpu_large_hidden_small_batch() -> None:
    weight = torch.zeros(1024, 256)
    available = torch.backends.mkldnn.is_available() and hasattr(
        torch.ops.mkldnn, "_linear_pointwise"
    )
    assert onednn_ready(weight, 16) == available
    assert not onednn_ready(weight.double(), 16)  # float64: addmm
    assert not onednn_ready(torch.zeros(512, 128), 16)  # H = 128: addmm
    assert not onednn_ready(weight, 1)  # B = 1: addmm
    assert not onednn_ready(weight, 64)  # B = 64: addmm

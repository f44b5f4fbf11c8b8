"""The boundary checks name the argument, the expected shape and what arrived."""

from __future__ import annotations

import pytest
import torch

from rnnkit.cells import LSTMCell
from rnnkit.errors import ShapeError
from rnnkit.layers.checks import (
    check_cell_state,
    check_dtype,
    check_finite,
    check_layer_state,
    check_sequence,
)


def test_check_sequence() -> None:
    check_sequence(torch.zeros(2, 5, 3), input_size=3, batch_first=True, layer="L")
    with pytest.raises(ShapeError, match=r"L input must be \(B, T, F\).*got \(5, 3\)"):
        check_sequence(torch.zeros(5, 3), input_size=3, batch_first=True, layer="L")
    with pytest.raises(ShapeError, match=r"\(T, B, F\) with F = input_size = 3.*got \(5, 2, 4\)"):
        check_sequence(torch.zeros(5, 2, 4), input_size=3, batch_first=False, layer="L")
    with pytest.raises(ShapeError, match=r"T ≥ 1.*got \(2, 0, 3\)"):
        check_sequence(torch.zeros(2, 0, 3), input_size=3, batch_first=True, layer="L")
    with pytest.raises(ShapeError, match="floating"):
        check_sequence(
            torch.zeros(5, 2, 3, dtype=torch.long), input_size=3, batch_first=False, layer="L"
        )


def test_check_states() -> None:
    cell = LSTMCell(3, 4, proj_size=2)
    state = check_cell_state((torch.zeros(5, 2), torch.zeros(5, 4)), cell, 5, layer="L")
    assert type(state).__name__ == "LSTMState"
    with pytest.raises(ShapeError, match=r"state.hidden must be \(B, 2\) = \(5, 2\); got \(5, 4\)"):
        check_cell_state((torch.zeros(5, 4), torch.zeros(5, 4)), cell, 5, layer="L")
    with pytest.raises(ShapeError, match=r"`hx` must be \(L·D, B, H\) = \(2, 5, 4\); got \(2, 4\)"):
        check_layer_state(
            torch.zeros(2, 4), argument="hx", expected=(2, 5, 4), layer="L", meaning="(L·D, B, H)"
        )


def test_check_dtype_and_finite() -> None:
    with pytest.raises(
        ShapeError, match=r"`input`.*\(torch.float32, cpu\); got \(torch.float64, cpu\)"
    ):
        check_dtype(
            torch.zeros(2, dtype=torch.float64), torch.zeros(2), argument="input", layer="L"
        )
    with pytest.raises(ShapeError, match="got 2 NaN/inf"):
        check_finite(torch.tensor([0.0, float("nan"), float("-inf")]), argument="input", layer="L")
    check_finite(torch.zeros(3), argument="input", layer="L")

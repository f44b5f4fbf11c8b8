"""The boundary checks name the argument, the expected shape and what arrived."""

from __future__ import annotations

import re

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import rnnkit
from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.errors import ShapeError
from rnnkit.layers import Bidirectional, Recurrent, Stacked
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
    with pytest.raises(
        ShapeError,
        match=r"\(T, B, F\) with batch_first=False, and F = input_size = 3; got \(5, 2, 4\)",
    ):
        check_sequence(torch.zeros(5, 2, 4), input_size=3, batch_first=False, layer="L")
    with pytest.raises(
        ShapeError, match=r"T ≥ 1.*\(B, T, F\) with batch_first=True; got \(2, 0, 3\)"
    ):
        check_sequence(torch.zeros(2, 0, 3), input_size=3, batch_first=True, layer="L")
    with pytest.raises(
        ShapeError, match=r"unbatched \(T, F\), and F = input_size = 3; got \(5, 4\)"
    ):
        check_sequence(
            torch.zeros(5, 4), input_size=3, batch_first=True, layer="L", allow_unbatched=True
        )
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


# -- the drop-in layers: every wrong-shape message names the layout asked for (issue 20 item 10) --
B, T, F_IN, H = 3, 5, 3, 4  # batch 3, 5 steps: a (T, B, F) reading of a (B, T, F) input swaps them


def _as_passed(batch_first: bool, features: int = F_IN) -> tuple[int, int, int]:
    """The input shape the caller passes in the layout batch_first asks for."""
    return (B, T, features) if batch_first else (T, B, features)


def _layout(batch_first: bool) -> str:
    return "(B, T, F)" if batch_first else "(T, B, F)"


def _source(batch_first: bool) -> str:
    """Where B and T were read, as the messages name it."""
    return (
        f"input {_layout(batch_first)} = {_as_passed(batch_first)} with batch_first={batch_first}"
    )


def _raises(message: str) -> pytest.RaisesExc:
    return pytest.raises(ShapeError, match=re.escape(message))


LAYERS = [rnnkit.RNN, rnnkit.LSTM, rnnkit.GRU]


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("layer_class", LAYERS)
def test_dropin_input_errors_name_the_layout_and_the_shape_as_passed(
    layer_class: type, batch_first: bool
) -> None:
    layer = layer_class(F_IN, H, batch_first=batch_first)
    name, layout = layer_class.__name__, _layout(batch_first)
    wrong_features = _as_passed(batch_first, features=4)
    with _raises(
        f"{name} input must be {layout} with batch_first={batch_first}, and F = input_size = 3; "
        f"got {wrong_features}. Check input_size."
    ):
        layer(torch.randn(wrong_features))
    with _raises(f"{layout} with batch_first={batch_first}, or unbatched (T, F), with F = 3; got"):
        layer(torch.randn(F_IN))
    empty = (B, 0, F_IN) if batch_first else (0, B, F_IN)
    with _raises(f"T ≥ 1 time steps, as {layout} with batch_first={batch_first}; got {empty}."):
        layer(torch.randn(empty))
    with _raises("unbatched (T, F), and F = input_size = 3; got (5, 4)."):
        layer(torch.randn(T, 4))  # shown as passed, not as the (T, 1, F) it becomes inside
    with _raises("PackedSequence data must be (N, F) with F = input_size = 3; got (8, 4)."):
        layer(pack_padded_sequence(torch.randn(5, 2, 4), [5, 3]))


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("layer_class", LAYERS)
def test_dropin_state_and_lengths_errors_say_where_b_and_t_come_from(
    layer_class: type, batch_first: bool
) -> None:
    layer = layer_class(F_IN, H, num_layers=2, batch_first=batch_first)
    x = torch.randn(_as_passed(batch_first))
    wrong = torch.zeros(2, T, H)  # batch T: the batch of the other layout
    hx = (wrong, wrong) if layer_class is rnnkit.LSTM else wrong
    argument = "hx[0]" if layer_class is rnnkit.LSTM else "hx"
    with _raises(
        f"`{argument}` must be (L·D, B, H) = (2, {B}, {H}) (B = {B} from {_source(batch_first)}); "
        f"got (2, {T}, {H})."
    ):
        layer(x, hx)
    with _raises(f"(B,) = ({B},) integers, one per sequence (B = {B}, T = {T} from "):
        layer(x, lengths=torch.tensor([T] * T))
    with _raises(f"[1, T] = [1, {T}] (no empty sequences, none longer than the time axis) "):
        layer(x, lengths=torch.tensor([1, 2, T + 1]))
    with _raises(f"from {_source(batch_first)}); got [1, 2, {T + 1}]."):
        layer(x, lengths=torch.tensor([1, 2, T + 1]))
    unbatched = torch.zeros(2, T)  # (L·D, H) is (2, 4) for an unbatched (T, F) input
    hx = (unbatched, unbatched) if layer_class is rnnkit.LSTM else unbatched
    with _raises(f"(L·D, H) = (2, {H}) (input unbatched (T, F) = ({T}, {F_IN})); got (2, {T})"):
        layer(torch.randn(T, F_IN), hx)


@pytest.mark.parametrize("batch_first", [True, False])
def test_composed_layers_name_the_layout_in_state_and_lengths_errors(batch_first: bool) -> None:
    x = torch.randn(_as_passed(batch_first))
    origin = f"(B = {B} from {_source(batch_first)})"
    recurrent = Recurrent(GRUCell(F_IN, H), batch_first=batch_first)
    with _raises(f"state.hidden must be (B, {H}) = ({B}, {H}) {origin}; got ({T}, {H})."):
        recurrent(x, (torch.zeros(T, H),))
    bidirectional = Bidirectional(ElmanCell(F_IN, H), ElmanCell(F_IN, H), batch_first=batch_first)
    state = (torch.zeros(T, H),)
    with _raises(f"state.hidden must be (B, {H}) = ({B}, {H}) {origin}"):
        bidirectional(x, (state, state))
    stacked = Stacked([Recurrent(ElmanCell(F_IN, H))], batch_first=batch_first)
    with _raises(f"`state.hidden` must be (L·D, B, H) = (1, {B}, {H}) {origin}"):
        stacked(x, (torch.zeros(1, T, H),))
    for layer in (recurrent, bidirectional, stacked):
        with _raises(f"(B = {B}, T = {T} from {_source(batch_first)}); got [1, 2, {T + 1}]."):
            layer(x, lengths=torch.tensor([1, 2, T + 1]))
        with pytest.raises(ShapeError, match=re.escape(f"{_layout(batch_first)} with batch_first")):
            layer(torch.randn(_as_passed(batch_first, features=4)))

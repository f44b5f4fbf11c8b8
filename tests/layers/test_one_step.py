"""The one-step route of rnnkit.RNN / LSTM / GRU (streaming, T = 1) against the general path."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from layer_helpers import assert_close

import rnnkit
from rnnkit.cells.base import RNNState
from rnnkit.cells.rnn import ElmanCell
from rnnkit.errors import ShapeError
from rnnkit.layers.fast.elman_bptt import elman_once

KINDS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]


def _layer(kind: str, options: dict[str, Any], **extra: Any) -> Any:
    return getattr(rnnkit, kind)(3, 4, **options, **extra)


def _initial(kind: str, batch: int, rows: int = 1) -> Any:
    hidden = torch.randn(rows, batch, 4, requires_grad=True)
    if kind == "LSTM":
        return hidden, torch.randn(rows, batch, 4, requires_grad=True)
    return hidden


def _leaves(layer: Any, x: torch.Tensor, hx: Any) -> list[torch.Tensor]:
    states = list(hx) if isinstance(hx, tuple) else [hx]
    return [x, *states, *layer.parameters()]


def _general(layer: Any, x: torch.Tensor, hx: Any) -> tuple[torch.Tensor, Any]:
    """The same call through the general path (`Stacked.run`), as the layer ran it before."""
    x_time = x.transpose(0, 1) if layer.batch_first else x
    initial = layer._initial_state(hx, x_time, unbatched=False)
    outputs, final = layer.stack.run(x_time, initial, None)
    outputs = outputs.transpose(0, 1) if layer.batch_first else outputs
    return outputs, (tuple(final) if layer.mode == "LSTM" else final.hidden)


def _flat(result: tuple[torch.Tensor, Any]) -> list[torch.Tensor]:
    output, state = result
    return [output, *(state if isinstance(state, tuple) else (state,))]


def _probed(tensors: list[torch.Tensor], probes: list[torch.Tensor]) -> torch.Tensor:
    """Σ ⟨tensor, probe⟩: a scalar whose gradient weighs every output differently."""
    return sum((t * p).sum() for t, p in zip(tensors, probes, strict=True))  # type: ignore[return-value]


def _forbid_general(layer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any) -> None:
        raise AssertionError("the general path ran where the one-step route applies")

    monkeypatch.setattr(layer.stack, "run", refuse)


@pytest.mark.parametrize(("kind", "options"), KINDS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("given_state", [False, True])
def test_values_and_gradients_equal_the_general_path(
    float64: torch.dtype,
    kind: str,
    options: dict[str, Any],
    batch_first: bool,
    given_state: bool,
) -> None:
    layer = _layer(kind, options, batch_first=batch_first)
    x = torch.randn((2, 1, 3) if batch_first else (1, 2, 3), requires_grad=True)
    hx = _initial(kind, 2) if given_state else None
    expected = _flat(_general(layer, x, hx))
    with pytest.MonkeyPatch.context() as patch:
        _forbid_general(layer, patch)
        ours = _flat(layer(x, hx))
    for mine, reference in zip(ours, expected, strict=True):
        assert mine.shape == reference.shape
        assert_close(mine, reference, 1e-12)
    leaves = [leaf for leaf in _leaves(layer, x, hx) if leaf is not None]
    probes = [torch.randn_like(tensor) for tensor in ours]
    mine = torch.autograd.grad(_probed(ours, probes), leaves)
    theirs = torch.autograd.grad(_probed(expected, probes), leaves)
    for gradient, reference in zip(mine, theirs, strict=True):
        assert_close(gradient, reference, 1e-12)


@pytest.mark.parametrize(("kind", "options"), KINDS)
def test_streaming_equals_one_call_over_the_sequence(
    float64: torch.dtype, kind: str, options: dict[str, Any]
) -> None:
    layer = _layer(kind, options)
    x = torch.randn(6, 2, 3)  # (T, B, F)
    expected, expected_state = layer(x)
    state, outputs = None, []
    for x_t in x.split(1):
        output, state = layer(x_t, state)
        outputs.append(output)
    assert_close(torch.cat(outputs), expected, 1e-10)
    for mine, reference in zip(_flat((x, state))[1:], _flat((x, expected_state))[1:], strict=True):
        assert_close(mine, reference, 1e-10)


@pytest.mark.parametrize(("kind", "options"), KINDS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_the_final_state_is_not_a_view_of_the_output(
    kind: str, options: dict[str, Any], batch_first: bool
) -> None:
    layer = _layer(kind, options, batch_first=batch_first)
    output, state = layer(torch.randn(1, 2, 3))
    hidden = state[0] if kind == "LSTM" else state
    before = hidden.clone()
    with torch.no_grad():
        output.add_(1.0)  # the caller's own in-place change of the output
    assert torch.equal(hidden, before)


@pytest.mark.parametrize(
    "setup",
    ["two_layers", "bidirectional", "check_finite", "input_dropout", "bptt_hand", "lengths"],
)
def test_other_configurations_take_the_general_path(
    setup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra: dict[str, Any] = {
        "two_layers": {"num_layers": 2},
        "bidirectional": {"bidirectional": True},
        "check_finite": {"check_finite": True},
        "input_dropout": {"input_dropout": 0.5},
        "bptt_hand": {"bptt": "hand"},
        "lengths": {},
    }[setup]
    layer = rnnkit.LSTM(3, 4, **extra)
    calls: list[int] = []
    general = layer.stack.run

    def counted(*args: Any) -> Any:
        calls.append(1)
        return general(*args)

    monkeypatch.setattr(layer.stack, "run", counted)
    lengths = torch.tensor([1, 1]) if setup == "lengths" else None
    layer(torch.randn(1, 2, 3), lengths=lengths)
    assert calls == [1]


@pytest.mark.parametrize(("kind", "options"), KINDS)
def test_bad_states_keep_the_messages_of_the_general_path(
    kind: str, options: dict[str, Any]
) -> None:
    layer = _layer(kind, options)
    x = torch.randn(1, 2, 3)
    wrong_batch = _initial(kind, 3)
    with pytest.raises(ShapeError, match="B = 2"):
        layer(x, wrong_batch)
    with pytest.raises(ShapeError, match="F = input_size = 3"):
        layer(torch.randn(1, 2, 5))
    with pytest.raises(ShapeError, match="dtype and device"):
        layer(x.double())


@pytest.mark.parametrize(
    ("kind", "regularisers"),
    [
        ("GRU", {"weight_drop": 0.5}),
        ("RNN", {"recurrent_dropout": 0.5, "zoneout": 0.3}),
        ("LSTM", {"recurrent_dropout": 0.5, "zoneout": 0.3, "weight_drop": 0.2}),
        ("GRU", {"zoneout": 0.3, "layer_norm": True}),
    ],
)
def test_regularisers_draw_the_same_masks(kind: str, regularisers: dict[str, Any]) -> None:
    layer = getattr(rnnkit, kind)(3, 4, **regularisers).train()
    x = torch.randn(1, 2, 3)
    hx = _initial(kind, 2)
    torch.manual_seed(7)
    expected = _flat(_general(layer, x, hx))
    torch.manual_seed(7)
    with pytest.MonkeyPatch.context() as patch:
        _forbid_general(layer, patch)
        ours = _flat(layer(x, hx))
    for mine, reference in zip(ours, expected, strict=True):
        assert_close(mine, reference, 1e-6)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
def test_the_elman_rows_single_step_is_the_cells_step_bit_for_bit(
    nonlinearity: str, bias: bool
) -> None:
    cell = ElmanCell(3, 4, nonlinearity=nonlinearity, bias=bias)
    x, hidden = torch.randn(2, 3), torch.randn(2, 4)
    expected = cell.step(cell.project_input(x), RNNState(hidden)).hidden
    assert torch.equal(elman_once(cell, x, RNNState(hidden)).hidden, expected)

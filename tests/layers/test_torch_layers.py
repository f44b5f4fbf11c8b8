"""rnnkit.RNN / LSTM / GRU against torch.nn on random configurations, packing, unbatched, CUDA."""

from __future__ import annotations

import inspect
import random

import pytest
import torch
from layer_helpers import Case, assert_close, random_case, rnnkit_layer
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnkit


def _compare(case: Case, bptt: str, atol: float) -> None:
    """Outputs and final states with and without hx, lengths, packing: all equal torch's."""
    reference = case.torch_module()
    layer = rnnkit_layer(case, reference, bptt=bptt)
    x = case.input()
    batch_first = case.options["batch_first"]
    for hx in (None, case.initial_state()):
        assert_close(layer(x, hx)[0], reference(x, hx)[0], atol)
        assert_close(layer(x, hx)[1], reference(x, hx)[1], atol)
        lengths = torch.randint(1, case.steps + 1, (case.batch,))
        packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
        expected_output, expected_state = reference(packed, hx)
        output, state = layer(packed, hx)  # PackedSequence in, PackedSequence out
        assert isinstance(output, nn.utils.rnn.PackedSequence)
        assert torch.equal(output.sorted_indices, expected_output.sorted_indices)
        assert_close(output, expected_output, atol)
        assert_close(state, expected_state, atol)
        padded_output, padded_state = layer(x, hx, lengths=lengths)  # lengths == packing
        expected_padded, _ = pad_packed_sequence(
            expected_output, batch_first=batch_first, total_length=case.steps
        )
        assert_close(padded_output, expected_padded, atol)
        assert_close(padded_state, expected_state, atol)


@pytest.mark.parametrize("bptt", ["auto", "autograd"])
def test_matches_torch_on_random_configurations_float64(float64: torch.dtype, bptt: str) -> None:
    rng = random.Random(7)
    for trial in range(24):
        case = random_case(rng, kind=["RNN", "LSTM", "GRU"][trial % 3])
        _compare(case, bptt, atol=1e-10)


def test_matches_torch_in_float32() -> None:
    rng = random.Random(11)
    for trial in range(9):
        case = random_case(rng, kind=["RNN", "LSTM", "GRU"][trial % 3])
        case.steps, case.batch = 12, 5
        _compare(case, "auto", atol=1e-5)


def test_float32_large_lstm_uses_the_same_numbers_as_torch() -> None:
    """H = 256 in float32 takes the oneDNN product inside the fused LSTM where available."""
    case = Case(
        "LSTM", 16, 256, 6, 3, {"num_layers": 1, "bidirectional": True, "batch_first": False}
    )
    _compare(case, "auto", atol=1e-5)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_matches_torch(float64: torch.dtype, kind: str) -> None:
    case = Case(kind, 3, 4, 5, 1, {"num_layers": 2, "bidirectional": True})
    reference = case.torch_module()
    layer = rnnkit_layer(case, reference)
    x = torch.randn(5, 3)  # (T, F)
    state = case.initial_state()
    hx = tuple(s[:, 0] for s in state) if kind == "LSTM" else state[:, 0]  # (L·D, H)
    for initial in (None, hx):
        output, final = layer(x, initial)
        expected_output, expected_final = reference(x, initial)
        assert output.shape == (5, 8)  # (T, D·H)
        assert_close(output, expected_output, 1e-10)
        assert_close(final, expected_final, 1e-10)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_constructor_signature_and_defaults_match_torch(kind: str) -> None:
    ours = inspect.signature(getattr(rnnkit, kind).__init__).parameters
    theirs_doc = {"input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout"}
    positional = [
        name for name, p in ours.items() if p.kind is p.POSITIONAL_OR_KEYWORD and name != "self"
    ]
    expected = ["input_size", "hidden_size", "num_layers"]
    expected += ["nonlinearity"] if kind == "RNN" else []
    expected += ["bias", "batch_first", "dropout", "bidirectional"]
    expected += ["proj_size"] if kind == "LSTM" else []
    assert positional == [*expected, "device", "dtype"]
    assert theirs_doc <= set(ours)
    layer, reference = getattr(rnnkit, kind)(3, 4), getattr(nn, kind)(3, 4)
    for name in ("num_layers", "bias", "batch_first", "dropout", "bidirectional"):
        assert getattr(layer, name) == getattr(reference, name), name
    keyword_only = {name for name, p in ours.items() if p.kind is p.KEYWORD_ONLY}
    assert {"bptt", "check_finite"} <= keyword_only


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_state_dict_round_trip_with_torch(float64: torch.dtype, kind: str) -> None:
    options = {"num_layers": 2, "bidirectional": True}
    options |= {"proj_size": 2} if kind == "LSTM" else {}
    reference = getattr(nn, kind)(3, 4, **options)
    layer = getattr(rnnkit, kind)(3, 4, **options)
    assert list(layer.state_dict()) == list(reference.state_dict())  # same names, same order
    layer.load_state_dict(reference.state_dict())
    back = getattr(nn, kind)(3, 4, **options)
    back.load_state_dict(layer.state_dict())
    x = torch.randn(5, 2, 3)
    assert_close(back(x)[0], reference(x)[0], 0.0)
    assert_close(layer(x)[0], reference(x)[0], 1e-10)


def test_lstm_variant_parameters_get_torch_style_names() -> None:
    layer = rnnkit.LSTM(3, 4, bidirectional=True, peephole=True)
    assert {"weight_ci_l0", "weight_cf_l0", "weight_co_l0_reverse"} <= set(layer.state_dict())
    assert layer.all_weights[1][0] is layer.weight_ih_l0_reverse


@pytest.mark.gpu
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_matches_torch_on_cuda(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """float32 on CUDA against cuDNN, and float64 against torch's CUDA kernels."""
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)  # full float32 in cuDNN too
    for dtype, atol in ((torch.float32, 1e-5), (torch.float64, 1e-10)):
        options = {"num_layers": 2, "bidirectional": True, "dtype": dtype, "device": "cuda"}
        reference = getattr(nn, kind)(8, 16, **options)
        layer = getattr(rnnkit, kind).from_torch(reference)
        x = torch.randn(20, 4, 8, device="cuda", dtype=dtype)
        lengths = torch.tensor([20, 17, 9, 1])
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        assert_close(layer(x)[0], reference(x)[0], atol)
        assert_close(layer(x)[1], reference(x)[1], atol)
        assert_close(layer(packed)[0], reference(packed)[0], atol)
        assert_close(layer(packed)[1], reference(packed)[1], atol)

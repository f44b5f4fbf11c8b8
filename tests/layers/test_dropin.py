"""The drop-in layers' own behaviour: paths, gradients, streaming, dropout, bad input."""

from __future__ import annotations

import pytest
import torch
from layer_helpers import assert_close
from torch.nn.utils.rnn import pack_padded_sequence

import rnnkit
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import detach_state

KINDS = ["RNN", "LSTM", "GRU"]


def _gradients(layer: torch.nn.Module, x: torch.Tensor, **call: object) -> list[torch.Tensor]:
    """d(Σ outputs + Σ final states)/d(x and every parameter)."""
    x = x.detach().requires_grad_()
    output, state = layer(x, **call)
    states = state if isinstance(state, tuple) else (state,)
    total = output.sum() + sum(s.square().sum() for s in states)
    return list(torch.autograd.grad(total, [x, *layer.parameters()]))


@pytest.mark.parametrize("kind", ["RNN", "LSTM"])
def test_hand_and_autograd_paths_agree(float64: torch.dtype, kind: str) -> None:
    options = {"num_layers": 2, "bidirectional": True, "batch_first": True}
    hand = getattr(rnnkit, kind)(3, 4, **options, bptt="hand")
    plain = getattr(rnnkit, kind)(3, 4, **options, bptt="autograd")
    plain.load_state_dict(hand.state_dict())
    assert (hand.path, plain.path) == ({"RNN": "elman", "LSTM": "lstm"}[kind], "autograd")
    x = torch.randn(4, 6, 3)  # (B, T, F)
    for lengths in (None, torch.tensor([2, 6, 1, 5])):  # unsorted on purpose
        assert_close(hand(x, lengths=lengths)[0], plain(x, lengths=lengths)[0], 1e-12)
        assert_close(hand(x, lengths=lengths)[1], plain(x, lengths=lengths)[1], 1e-12)
        ours_all = _gradients(hand, x, lengths=lengths)
        for ours, reference in zip(ours_all, _gradients(plain, x, lengths=lengths), strict=True):
            assert_close(ours, reference, 1e-10)


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("RNN", {}),
        ("RNN", {"nonlinearity": "relu", "bptt": "autograd"}),
        ("LSTM", {}),
        ("LSTM", {"proj_size": 2}),
        ("LSTM", {"peephole": True, "coupled_gates": True}),
        ("GRU", {}),
        ("GRU", {"reset_after": False}),
    ],
)
def test_gradcheck_uni_and_bidirectional_with_lengths(
    float64: torch.dtype, kind: str, options: dict
) -> None:
    for bidirectional in (False, True):
        layer = getattr(rnnkit, kind)(2, 3, bidirectional=bidirectional, **options)
        x = torch.randn(4, 3, 2, requires_grad=True)  # (T, B, F)
        lengths = torch.tensor([4, 1, 3])
        parameters = list(layer.parameters())

        def run(x: torch.Tensor, *weights: torch.Tensor, layer=layer, lengths=lengths):
            values = dict(zip([n for n, _ in layer.named_parameters()], weights, strict=True))
            output, state = torch.func.functional_call(layer, values, (x,), {"lengths": lengths})
            return output, *(state if isinstance(state, tuple) else (state,))

        assert torch.autograd.gradcheck(run, (x, *parameters), atol=1e-8)


@pytest.mark.parametrize("kind", KINDS)
def test_streaming_in_chunks_equals_one_call(float64: torch.dtype, kind: str) -> None:
    layer = getattr(rnnkit, kind)(3, 4, num_layers=2, batch_first=True)
    x = torch.randn(2, 12, 3)  # (B, T, F)
    whole_output, whole_state = layer(x)
    state, pieces = None, []
    for chunk in x.split([5, 1, 6], dim=1):  # uneven chunks, one of a single step
        output, state = layer(chunk, state)
        pieces.append(output)
        state = detach_state(state)  # truncated BPTT between chunks changes no value
    assert_close(torch.cat(pieces, dim=1), whole_output, 1e-12)
    assert_close(state, whole_state, 1e-12)


def test_detach_state_stops_the_gradient_at_the_chunk_boundary() -> None:
    layer = rnnkit.LSTM(2, 3)
    first = torch.randn(4, 1, 2, requires_grad=True)
    _, state = layer(first)
    output, _ = layer(torch.randn(4, 1, 2), detach_state(state))
    output.sum().backward()
    assert first.grad is None
    assert all(not s.requires_grad for s in detach_state(state))


def test_dropout_acts_between_layers_only() -> None:
    """dropout = 1 zeroes every input of layer 2 but never the outputs of the last layer."""
    layer = rnnkit.GRU(3, 4, num_layers=2, dropout=1.0)
    x = torch.randn(5, 2, 3)
    output, state = layer(x)
    bottom = rnnkit.GRU(3, 4)
    bottom.load_state_dict({k: v for k, v in layer.state_dict().items() if "_l0" in k})
    assert_close(state[0], bottom(x)[1][0], 1e-6)  # no dropout before the first layer
    top = rnnkit.GRU(4, 4)
    top.load_state_dict(
        {k.replace("_l1", "_l0"): v for k, v in layer.state_dict().items() if "_l1" in k}
    )
    expected, _ = top(torch.zeros(5, 2, 4))  # what layer 2 computes from all-zero inputs
    assert_close(output, expected, 1e-6)
    assert output.abs().sum() > 0
    layer.eval()
    assert not torch.allclose(layer(x)[0], output)  # no dropout in eval mode


def test_dropout_warning_and_range_match_torch() -> None:
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        rnnkit.LSTM(3, 4, dropout=0.5)
    with pytest.raises(ConfigError, match="dropout"):
        rnnkit.LSTM(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(ConfigError, match="hidden_size"):
        rnnkit.GRU(3, 0)
    with pytest.raises(ConfigError, match="num_layers"):
        rnnkit.RNN(3, 4, num_layers=0)


def test_bptt_hand_needs_a_hand_derived_path() -> None:
    with pytest.raises(ConfigError, match="bptt='hand'"):
        rnnkit.GRU(3, 4, bptt="hand")
    with pytest.raises(ConfigError, match="bptt='hand'"):
        rnnkit.LSTM(3, 4, peephole=True, bptt="hand")
    with pytest.raises(ConfigError, match="bptt"):
        rnnkit.LSTM(3, 4, bptt="fast")
    assert rnnkit.LSTM(3, 4, proj_size=2).path == "autograd"
    assert rnnkit.LSTM(3, 4).path == "lstm"


def test_replaced_parameters_are_used(float64: torch.dtype) -> None:
    """load_state_dict(assign=True) swaps the Parameter objects; the cells must follow."""
    layer = rnnkit.LSTM(3, 4)
    other = rnnkit.LSTM(3, 4)
    x = torch.randn(5, 2, 3)
    layer.load_state_dict(other.state_dict(), assign=True)
    assert_close(layer(x)[0], other(x)[0], 0.0)
    layer.float()  # .to() conversions swap tensors under the same Parameter objects
    assert layer(x.float())[0].dtype == torch.float32
    assert repr(layer) == "LSTM(3, 4)"


def test_check_finite_rejects_nan_and_inf() -> None:
    layer = rnnkit.GRU(3, 4, check_finite=True)
    x = torch.randn(5, 2, 3)
    x[2, 1, 0] = float("nan")
    with pytest.raises(ShapeError, match=r"input.*finite.*got 1"):
        layer(x)
    with pytest.raises(ShapeError, match=r"hx.*finite"):
        layer(torch.randn(5, 2, 3), torch.full((1, 2, 4), float("inf")))
    assert torch.isnan(rnnkit.GRU(3, 4)(x)[0]).any()  # off by default: no check, no sync


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m(torch.randn(5, 3)[0]), r"\(T, B, F\).*got \(3,\)"),
        (lambda m: m(torch.randn(1, 5, 2, 3)), r"got \(1, 5, 2, 3\)"),
        (lambda m: m(torch.randn(5, 2, 7)), r"F = input_size = 3.*got \(5, 2, 7\)"),
        (
            lambda m: m(torch.randn(5, 2, 3), torch.zeros(2, 3, 4)),
            r"hx.*\(2, 2, 4\).*got \(2, 3, 4\)",
        ),
        (lambda m: m(torch.randn(5, 2, 3), torch.zeros(2, 2, 5)), r"hx.*got \(2, 2, 5\)"),
        (lambda m: m(torch.randn(5, 3), torch.zeros(2, 2, 4)), r"hx.*\(L·D, H\).*got \(2, 2, 4\)"),
        (
            lambda m: m(torch.randn(5, 2, 3), lengths=torch.tensor([0, 5])),
            r"lengths.*\[1, 5\].*\[0, 5\]",
        ),
        (lambda m: m(torch.randn(5, 2, 3), lengths=torch.tensor([-1, 5])), r"lengths.*\[-1, 5\]"),
        (
            lambda m: m(torch.randn(5, 2, 3), lengths=torch.tensor([6, 5])),
            r"lengths.*\[1, 5\].*\[6, 5\]",
        ),
        (
            lambda m: m(torch.randn(5, 2, 3), lengths=torch.tensor([5, 5, 5])),
            r"lengths.*\(2,\).*got \(3,\)",
        ),
        (
            lambda m: m(torch.randn(5, 2, 3), lengths=torch.tensor([5.0, 2.0])),
            r"lengths.*integer.*float",
        ),
        (lambda m: m(torch.randn(5, 3), lengths=torch.tensor([5])), r"unbatched.*lengths"),
        (lambda m: m(torch.randn(5, 2, 3, dtype=torch.float64)), r"input.*dtype.*float32.*float64"),
        (lambda m: m(torch.randint(0, 3, (5, 2, 3))), r"floating"),
    ],
)
def test_bad_input_raises_shape_error_naming_the_argument(call, message: str) -> None:
    layer = rnnkit.GRU(3, 4, num_layers=2)
    with pytest.raises(ShapeError, match=message):
        call(layer)


def test_bad_lstm_state_and_packing_raise_shape_error() -> None:
    layer = rnnkit.LSTM(3, 4, bidirectional=True, proj_size=2)
    x = torch.randn(5, 2, 3)
    with pytest.raises(ShapeError, match=r"pair \(h_0, c_0\)"):
        layer(x, torch.zeros(2, 2, 2))
    with pytest.raises(ShapeError, match=r"hx\[0\].*\(2, 2, 2\).*got \(2, 2, 4\)"):
        layer(x, (torch.zeros(2, 2, 4), torch.zeros(2, 2, 4)))
    with pytest.raises(ShapeError, match=r"hx\[1\].*\(2, 2, 4\).*got \(2, 2, 2\)"):
        layer(x, (torch.zeros(2, 2, 2), torch.zeros(2, 2, 2)))
    with pytest.raises(ShapeError, match="batch size"):
        layer(x, (torch.zeros(2, 3, 2), torch.zeros(2, 3, 4)))  # batch 3 against input batch 2
    packed = pack_padded_sequence(x, torch.tensor([5, 3]))
    with pytest.raises(ShapeError, match="not both"):
        layer(packed, lengths=torch.tensor([5, 3]))

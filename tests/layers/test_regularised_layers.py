"""The regularisers in the layers: masks once per pass, fast rows kept by weight drop, locked
input/output dropout, train()/eval(), options off bitwise unchanged."""

from __future__ import annotations

import importlib.util

import pytest
import torch

import rnnkit
from rnnkit.cells import ElmanCell, GRUCell, LSTMCell, LSTMState
from rnnkit.cells.regularisers import dropout_mask
from rnnkit.errors import ConfigError
from rnnkit.layers import Recurrent
from rnnkit.layers.fast import lookup
from rnnkit.layers.lengths import SequenceLengths
from rnnkit.layers.recurrent import run_cell

T, B, F_IN, H = 6, 3, 5, 4
CELLS = {"elman": ElmanCell, "lstm": LSTMCell, "gru": GRUCell}
LAYERS = {"elman": rnnkit.RNN, "lstm": rnnkit.LSTM, "gru": rnnkit.GRU}


def _by_hand(cell, x, state, masks, reverse=False):
    """The time loop written out: step t gets masks.at(t) (or None)."""
    order = range(len(x) - 1, -1, -1) if reverse else range(len(x))
    outputs = [None] * len(x)
    for t in order:
        state = cell.step(cell.project_input(x[t]), state, None if masks is None else masks.at(t))
        outputs[t] = state.hidden
    return torch.stack(outputs), state


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize(
    "options",
    [
        {"recurrent_dropout": 0.5},
        {"zoneout": 0.3},
        {"layer_norm": True, "zoneout": 0.2},
        {"recurrent_dropout": 0.3, "zoneout": 0.2, "weight_drop": 0.4},
    ],
    ids=["recurrent_dropout", "zoneout", "layer_norm", "all"],
)
@pytest.mark.parametrize("reverse", [False, True])
def test_masks_are_drawn_once_per_pass(float64, name: str, options: dict, reverse: bool) -> None:
    """Recurrent in training equals the hand loop on the masks begin_sequence draws first."""
    cell = CELLS[name](F_IN, H, **options).train()
    layer = Recurrent(cell, reverse=reverse, batch_first=False)
    fused = name == "lstm" and "layer_norm" not in options  # the LSTM row runs m and d_t
    assert layer.path == ("lstm" if fused else "autograd")  # else no fast row
    x = torch.randn(T, B, F_IN)
    state = cell.init_state(B)
    torch.manual_seed(11)
    outputs, final = layer(x, state)
    torch.manual_seed(11)
    masks = cell.begin_sequence(T, B, like=x)
    expected, expected_final = _by_hand(cell, x, state, masks, reverse)
    torch.testing.assert_close(outputs, expected, atol=1e-12, rtol=0)
    for got, want in zip(final, expected_final, strict=True):
        torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
    assert not torch.equal(layer(x, state)[0], outputs)  # the next pass, new masks


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("lengths", [None, [6, 2, 4]], ids=["full", "lengths"])
@pytest.mark.parametrize("reverse", [False, True])
def test_weight_drop_keeps_the_fast_row(float64, name, lengths, reverse) -> None:
    """The row reads W̃_hh: same outputs and gradients as the cell's step on the same W̃_hh."""
    cell = CELLS[name](F_IN, H, weight_drop=0.5).train()
    layer = Recurrent(cell, reverse=reverse, batch_first=False)
    assert layer.path == name  # the fast row, in training too
    x = torch.randn(T, B, F_IN, requires_grad=True)
    state = cell.init_state(B)
    padding = SequenceLengths.checked(lengths, batch_size=B, steps=T, device=x.device)
    torch.manual_seed(5)
    outputs, _ = layer.run(x, state, padding)
    got = torch.autograd.grad(outputs.square().sum(), (x, cell.weight_hh))
    torch.manual_seed(5)
    masks = cell.begin_sequence(T, B, like=x)
    expected, _ = run_cell(cell, x, state, padding, reverse=reverse, masks=masks)
    want = torch.autograd.grad(expected.square().sum(), (x, cell.weight_hh))
    torch.testing.assert_close(outputs, expected, atol=1e-12, rtol=0)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
    plain, _ = run_cell(cell, x, state, padding, reverse=reverse)  # W_hh itself
    assert not torch.allclose(outputs, plain)


def _graph_names(node, depth: int = 4) -> set[str]:
    """Names of the autograd nodes within `depth` steps of `node`."""
    if node is None or depth == 0:
        return set()
    names = {type(node).__name__}
    for child, _ in node.next_functions:
        names |= _graph_names(child, depth - 1)
    return names


LSTM_OPTIONS = [
    {"recurrent_dropout": 0.5},
    {"zoneout": 0.3},
    {"zoneout": (0.0, 0.4)},
    {"zoneout": (0.3, 0.0)},
    {"recurrent_dropout": 0.4, "zoneout": (0.2, 0.5), "weight_drop": 0.3},
]


@pytest.mark.parametrize("options", LSTM_OPTIONS, ids=["rd", "zo", "zo_c", "zo_h", "all"])
@pytest.mark.parametrize("lengths", [None, [6, 2, 4]], ids=["full", "lengths"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_fused_lstm_runs_recurrent_dropout_and_zoneout(
    float64, options: dict, lengths, reverse: bool, training: bool
) -> None:
    """The hand-derived backward with m and d_t: outputs, final state and every gradient equal
    autograd through the cell's step on the same masks (eval: zoneout's expectation)."""
    cell = LSTMCell(F_IN, H, **options).train(training)
    layer = Recurrent(cell, reverse=reverse, batch_first=False)
    assert layer.path == "lstm"
    x = torch.randn(T, B, F_IN, requires_grad=True)
    state = LSTMState(*(torch.randn(B, H, requires_grad=True) for _ in range(2)))
    padding = SequenceLengths.checked(lengths, batch_size=B, steps=T, device=x.device)
    leaves = [x, *state, *cell.parameters()]
    weights = [torch.randn(T, B, H), torch.randn(B, H), torch.randn(B, H)]  # a general loss

    def loss(outputs, final):
        return sum((w * v).sum() for w, v in zip(weights, (outputs, *final), strict=True))

    torch.manual_seed(5)
    outputs, final = layer.run(x, state, padding)
    assert "FusedLSTMBackward" in _graph_names(outputs.grad_fn)
    got = torch.autograd.grad(loss(outputs, final), leaves)
    torch.manual_seed(5)
    masks = cell.begin_sequence(T, B, like=x)
    assert (masks is None) == (not training)
    expected, expected_final = run_cell(cell, x, state, padding, reverse=reverse, masks=masks)
    want = torch.autograd.grad(loss(expected, expected_final), leaves)
    torch.testing.assert_close(outputs, expected, atol=1e-12, rtol=0)
    torch.testing.assert_close(tuple(final), tuple(expected_final), atol=1e-12, rtol=0)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


def test_fused_lstm_second_derivatives_replay_the_masks(float64) -> None:
    """create_graph=True through the row (its replay) equals autograd's double backward."""
    cell = LSTMCell(F_IN, H, recurrent_dropout=0.4, zoneout=(0.2, 0.5), weight_drop=0.3)
    x = torch.randn(T, B, F_IN, requires_grad=True)
    state = cell.init_state(B)
    results = []
    for bptt in ("hand", "autograd"):
        torch.manual_seed(6)
        outputs, _ = Recurrent(cell, batch_first=False, bptt=bptt).run(x, state, None)
        (grad_x,) = torch.autograd.grad(outputs.square().sum(), x, create_graph=True)
        results.append(torch.autograd.grad(grad_x.square().sum(), cell.weight_hh)[0])
    torch.testing.assert_close(results[0], results[1], atol=1e-10, rtol=0)


def test_weight_drop_mask_is_the_same_at_every_step(float64) -> None:
    """Against a plain torch.nn.LSTM given W̃_hh = M ⊙ W_hh / (1 − p) for the whole pass."""
    layer = rnnkit.LSTM(F_IN, H, weight_drop=0.5).train()
    x = torch.randn(T, B, F_IN)
    torch.manual_seed(2)
    outputs, _ = layer(x)
    torch.manual_seed(2)
    mask = dropout_mask(tuple(layer.weight_hh_l0.shape), 0.5, layer.weight_hh_l0)
    reference = torch.nn.LSTM(F_IN, H)
    reference.load_state_dict(layer.state_dict())
    with torch.no_grad():
        reference.weight_hh_l0.mul_(mask)
    torch.testing.assert_close(outputs, reference(x)[0], atol=1e-12, rtol=0)


def test_gradcheck_of_the_layers_in_training(float64) -> None:
    """float64 gradcheck through the masks (reseeded per call), weight drop on the hand rows."""
    layers = [
        rnnkit.LSTM(F_IN, H, weight_drop=0.3, input_dropout=0.2, output_dropout=0.2),
        rnnkit.LSTM(F_IN, H, layer_norm=True, zoneout=(0.2, 0.4), recurrent_dropout=0.3),
        rnnkit.LSTM(F_IN, H, zoneout=(0.2, 0.4), recurrent_dropout=0.3, bidirectional=True),
        rnnkit.RNN(F_IN, H, weight_drop=0.3, bidirectional=True),
        rnnkit.GRU(F_IN, H, num_layers=2, layer_norm=True, recurrent_dropout=0.3, zoneout=0.2),
    ]
    x = torch.randn(4, 2, F_IN, requires_grad=True)
    for layer in layers:
        layer.train()
        weight = layer.weight_hh_l0

        def run(x, weight, layer=layer):
            torch.manual_seed(0)
            return layer(x)[0]

        assert torch.autograd.gradcheck(run, (x, weight), atol=1e-8)


def test_locked_input_and_output_dropout(float64) -> None:
    """One mask per sequence for all steps on the input and on the output; states not dropped."""
    layer = rnnkit.GRU(F_IN, H, num_layers=2, input_dropout=0.4, output_dropout=0.3).train()
    assert layer.path == "gru"
    x = torch.randn(T, B, F_IN)
    torch.manual_seed(9)
    outputs, h_n = layer(x)
    torch.manual_seed(9)
    mask_in = dropout_mask((1, B, F_IN), 0.4, x)
    mask_out = dropout_mask((1, B, H), 0.3, x)
    plain = rnnkit.GRU(F_IN, H, num_layers=2).eval()
    plain.load_state_dict(layer.state_dict())
    expected, expected_h = plain(x * mask_in)
    torch.testing.assert_close(outputs, expected * mask_out, atol=1e-12, rtol=0)
    torch.testing.assert_close(h_n, expected_h, atol=1e-12, rtol=0)
    zeros = outputs == 0
    assert zeros.any()
    assert torch.equal(zeros, zeros[:1].expand_as(zeros))  # the same units at every step


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_eval_switches_the_dropouts_off(name: str) -> None:
    options = {"recurrent_dropout": 0.5, "weight_drop": 0.5, "input_dropout": 0.5,
               "output_dropout": 0.5}  # fmt: skip
    layer = LAYERS[name](F_IN, H, num_layers=2, **options)
    plain = LAYERS[name](F_IN, H, num_layers=2)
    plain.load_state_dict(layer.state_dict())
    x = torch.randn(T, B, F_IN)
    assert layer.training
    assert not torch.equal(layer(x)[0], plain(x)[0])
    layer.eval()
    assert layer.path == plain.path  # recurrent dropout is off in eval: the fast row again
    assert torch.equal(layer(x)[0], plain(x)[0])
    layer.train()
    assert layer.path == ("lstm" if name == "lstm" else "autograd")  # the LSTM row runs m


def test_eval_zoneout_layer_is_the_expectation(float64) -> None:
    layer = rnnkit.RNN(F_IN, H, zoneout=0.25).eval()
    cell = layer.cells[0]
    x = torch.randn(T, B, F_IN)
    hidden, expected = torch.zeros(B, H), []
    for t in range(T):
        new = torch.tanh(x[t] @ cell.weight_ih.T + cell.bias_ih + hidden @ cell.weight_hh.T
                         + cell.bias_hh)  # fmt: skip
        hidden = 0.25 * hidden + 0.75 * new
        expected.append(hidden)
    torch.testing.assert_close(layer(x)[0], torch.stack(expected), atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_options_off_are_bitwise_unchanged(name: str) -> None:
    off = {"layer_norm": False, "recurrent_dropout": 0.0, "zoneout": 0.0, "weight_drop": 0.0,
           "input_dropout": 0.0, "output_dropout": 0.0}  # fmt: skip
    layer = LAYERS[name](F_IN, H, num_layers=2, bidirectional=True, **off).train()
    plain = LAYERS[name](F_IN, H, num_layers=2, bidirectional=True).train()
    plain.load_state_dict(layer.state_dict())
    assert layer.path == plain.path != "autograd"
    assert repr(layer) == repr(plain)
    x = torch.randn(T, B, F_IN)
    lengths = torch.tensor([6, 2, 5])
    assert torch.equal(layer(x, lengths=lengths)[0], plain(x, lengths=lengths)[0])
    torch.manual_seed(1)
    first = layer(x)[0]
    torch.manual_seed(2)
    assert torch.equal(first, layer(x)[0])  # nothing random


def test_deterministic_under_a_seed() -> None:
    layer = rnnkit.LSTM(F_IN, H, 2, dropout=0.2, recurrent_dropout=0.3, zoneout=(0.1, 0.2),
                        weight_drop=0.3, input_dropout=0.2, output_dropout=0.2)  # fmt: skip
    x = torch.randn(T, B, F_IN)
    torch.manual_seed(4)
    first = layer(x)[0]
    torch.manual_seed(4)
    assert torch.equal(first, layer(x)[0])


def test_options_reach_every_cell_and_the_repr() -> None:
    layer = rnnkit.LSTM(F_IN, H, 2, bidirectional=True, layer_norm=True, zoneout=(0.1, 0.2),
                        weight_drop=0.3, output_dropout=0.1)  # fmt: skip
    assert all(c.layer_norm and c.zoneout == (0.1, 0.2) and c.weight_drop == 0.3
               for c in layer.cells)  # fmt: skip
    assert "gain_ih_l1_reverse" in layer.state_dict()
    assert repr(layer) == (
        "LSTM(5, 4, num_layers=2, bidirectional=True, layer_norm=True, zoneout=(0.1, 0.2), "
        "weight_drop=0.3, output_dropout=0.1)"
    )
    with pytest.raises(ConfigError, match="has no variant layer_norm=True"):
        layer.to_torch()


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"input_dropout": 1.0}, "input_dropout.*got 1.0"),
        ({"zoneout": (0.1, 0.2)}, "zoneout.*one probability"),
        ({"recurrent_dropout": "0.1"}, "recurrent_dropout.*got '0.1'"),
    ],
)
def test_bad_layer_options(options: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        rnnkit.GRU(F_IN, H, **options)


def test_saved_layer_keeps_its_regularisers(tmp_path) -> None:
    """torch.save / torch.load(weights_only=True) with the layer's class allowlisted."""
    layer = rnnkit.LSTM(F_IN, H, layer_norm=True, zoneout=(0.1, 0.2), weight_drop=0.3,
                        input_dropout=0.2).eval()  # fmt: skip
    torch.save(layer, tmp_path / "layer.pt")
    with torch.serialization.safe_globals([rnnkit.LSTM]):
        loaded = torch.load(tmp_path / "layer.pt", weights_only=True)
    assert repr(loaded) == repr(layer)
    x = torch.randn(T, B, F_IN)
    assert torch.equal(loaded(x)[0], layer(x)[0])


@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed")
@pytest.mark.parametrize("name", sorted(CELLS))
def test_weight_drop_reaches_the_triton_kernels(monkeypatch, name: str) -> None:
    """Under Triton's interpreter the row's kernel runs on MaskedCell: it reads W̃_hh."""
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    cell = CELLS[name](3, 5, weight_drop=0.5).train()
    x = torch.randn(3, 2, 3, requires_grad=True)  # (T, B, F)
    state = cell.init_state(2)
    assert lookup(cell).for_input(cell, x) is not lookup(cell).run  # the kernel is chosen
    torch.manual_seed(8)
    outputs, _ = Recurrent(cell, batch_first=False).run(x, state, None)
    got = torch.autograd.grad(outputs.sum(), (x, cell.weight_hh))
    torch.manual_seed(8)
    masks = cell.begin_sequence(3, 2, like=x)
    expected, _ = run_cell(cell, x, state, None, masks=masks)
    want = torch.autograd.grad(expected.sum(), (x, cell.weight_hh))
    torch.testing.assert_close(outputs, expected, atol=1e-5, rtol=1e-5)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)

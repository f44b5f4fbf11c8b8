"""rnnkit.RNN/LSTM/GRU are Stacked(Recurrent | Bidirectional) of real cells, under torch's names."""

from __future__ import annotations

import ast
import copy
import io
from pathlib import Path

import pytest
import torch
from layer_helpers import assert_close

import rnnkit
from rnnkit.errors import ShapeError
from rnnkit.layers import Bidirectional, Recurrent, Stacked
from rnnkit.layers.lengths import SequenceLengths

LAYERS = Path(__file__).resolve().parents[2] / "src" / "rnnkit" / "layers"
OPTIONS = {"num_layers": 2, "bidirectional": True}


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_the_cells_are_submodules_of_a_stack(kind: str) -> None:
    layer = getattr(rnnkit, kind)(3, 4, **OPTIONS)
    assert isinstance(layer.stack, Stacked)
    assert all(isinstance(level, Bidirectional) for level in layer.stack.layers)
    modules = list(layer.modules())
    assert all(any(cell is module for module in modules) for cell in layer.cells)
    assert len(layer.cells) == 4  # L·D
    assert layer.weight_hh_l1_reverse is layer.stack.layers[1].backward_layer.cell.weight_hh
    single = getattr(rnnkit, kind)(3, 4)
    assert isinstance(single.stack.layers[0], Recurrent)


@pytest.mark.parametrize(
    ("kind", "options"),
    [("RNN", OPTIONS), ("LSTM", OPTIONS), ("LSTM", {"proj_size": 2, **OPTIONS}), ("GRU", OPTIONS),
     ("GRU", {"bias": False, "num_layers": 2})],
)  # fmt: skip
def test_names_and_order_are_torch_s(kind: str, options: dict) -> None:
    layer = getattr(rnnkit, kind)(3, 4, **options)
    reference = getattr(torch.nn, kind)(3, 4, **options)
    assert list(layer.state_dict()) == list(reference.state_dict())
    assert [n for n, _ in layer.named_parameters()] == [n for n, _ in reference.named_parameters()]
    assert len(list(layer.parameters())) == len(list(reference.parameters()))
    shapes = [[tuple(w.shape) for w in ws] for ws in layer.all_weights]
    assert shapes == [[tuple(w.shape) for w in ws] for ws in reference.all_weights]
    model = torch.nn.Sequential(layer)  # nested: the parent sees torch's names too
    assert next(n for n, _ in model.named_parameters()) == "0.weight_ih_l0"


def test_load_reports_missing_keys_under_torch_s_names() -> None:
    layer = rnnkit.LSTM(3, 4, num_layers=2)
    state = rnnkit.LSTM(3, 4, num_layers=2).state_dict()
    del state["weight_hh_l1"]
    result = layer.load_state_dict(state, strict=False)
    assert result.missing_keys == ["weight_hh_l1"]
    assert result.unexpected_keys == []
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "weight_hh_l1"\.'):
        layer.load_state_dict(state)


def test_nested_loads_keep_one_name_and_one_object() -> None:
    """In a model: a missing key is named once, as torch names it; assign=True keeps the sharing."""
    model = torch.nn.Sequential(rnnkit.GRU(3, 4, bidirectional=True))
    state = torch.nn.Sequential(torch.nn.GRU(3, 4, bidirectional=True)).state_dict()
    assert list(model.state_dict()) == list(state)
    del state["0.bias_hh_l0_reverse"]
    result = model.load_state_dict(state, strict=False)
    assert (result.missing_keys, result.unexpected_keys) == (["0.bias_hh_l0_reverse"], [])
    model.load_state_dict(torch.nn.Sequential(torch.nn.GRU(3, 4, bidirectional=True)).state_dict(),
                          assign=True)  # fmt: skip
    layer = model[0]
    assert layer.weight_ih_l0_reverse is layer.cells[1].weight_ih
    assert len(list(model.parameters())) == 8


def test_assigned_parameters_reach_the_cells(float64: torch.dtype) -> None:
    layer = rnnkit.GRU(3, 4)
    replacement = torch.nn.Parameter(torch.zeros(12, 4))
    layer.weight_hh_l0 = replacement
    assert layer.cells[0].weight_hh is replacement
    assert [n for n, _ in layer.named_parameters()] == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]  # fmt: skip


def test_weight_norm_runs_as_on_torch(float64: torch.dtype) -> None:
    """torch.nn.utils.weight_norm replaces the parameter by a computed tensor before each call."""
    layer = rnnkit.LSTM(3, 4)
    reference = torch.nn.LSTM(3, 4)
    reference.load_state_dict(layer.state_dict())
    for module in (layer, reference):
        with pytest.warns(FutureWarning):
            torch.nn.utils.weight_norm(module, "weight_hh_l0")
    assert list(layer.state_dict()) == list(reference.state_dict())
    with torch.no_grad():
        layer.weight_hh_l0_g.mul_(2.0)
        reference.weight_hh_l0_g.mul_(2.0)
    x = torch.randn(5, 2, 3)  # (T, B, F)
    assert_close(layer(x)[0], reference(x)[0], 1e-12)


def test_dropout_set_after_construction_is_used() -> None:
    """As torch.nn, `layer.dropout = p` after construction changes the dropout of the stack."""
    layer = rnnkit.RNN(3, 4, num_layers=2)
    x = torch.randn(5, 2, 3)  # (T, B, F)
    before = layer(x)[0]
    layer.dropout = 1.0  # every input of layer 2 zeroed in training
    after = layer(x)[0]
    assert layer.stack.dropout == 1.0
    assert not torch.equal(before, after)
    zeros = torch.zeros(5, 2, 4)  # the input of layer 2, (T, B, H)
    expected, _ = layer.stack.layers[1].run(zeros, layer.cells[1].init_state(2), None)
    assert_close(after, expected, 0.0)
    assert repr(layer) == "RNN(3, 4, num_layers=2, dropout=1.0)"


def test_deepcopy_and_pickle_keep_parameters_shared() -> None:
    layer = rnnkit.LSTM(3, 4, bidirectional=True)
    buffer = io.BytesIO()
    torch.save(layer, buffer)
    buffer.seek(0)
    for other in (copy.deepcopy(layer), torch.load(buffer, weights_only=False)):
        assert other.weight_ih_l0_reverse is other.cells[1].weight_ih
        x = torch.randn(4, 2, 3)
        assert torch.equal(other(x)[0], layer(x)[0])


@pytest.mark.parametrize(
    "make",
    [
        lambda: rnnkit.LSTM(3, 4, batch_first=True),
        lambda: Recurrent(rnnkit.cells.GRUCell(3, 4)),
        lambda: Bidirectional(rnnkit.cells.ElmanCell(3, 4), rnnkit.cells.ElmanCell(3, 4)),
        lambda: Stacked([Recurrent(rnnkit.cells.LSTMCell(3, 4))]),
    ],
)
def test_one_length_check_for_every_layer(make) -> None:
    """Lengths in [1, T] everywhere (torch's pack_padded_sequence refuses 0), one message."""
    layer = make()
    x = torch.randn(2, 5, 3)  # (B, T, F)
    layer(x, lengths=torch.tensor([5, 1]))
    for bad in ([5, 0], [6, 1]):
        with pytest.raises(ShapeError, match=r"must lie in \[1, T\] = \[1, 5\]"):
            layer(x, lengths=torch.tensor(bad))


def test_full_lengths_need_no_mask() -> None:
    assert SequenceLengths.checked([4, 4], batch_size=2, steps=4, device="cpu") is None
    assert SequenceLengths.checked(None, batch_size=2, steps=4, device="cpu") is None


def _mask_comparisons(path: Path) -> int:
    """How often a module writes the mask `positions < lengths` (lengths right of a `<`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and isinstance(node.ops[0], ast.Lt)
        and "length" in ast.unparse(node.comparators[0])
    )


def test_the_mask_is_written_once_among_the_composition_modules() -> None:
    modules = ["lengths", "recurrent", "bidirectional", "stacked", "dropin", "torch_layers"]
    counts = {name: _mask_comparisons(LAYERS / f"{name}.py") for name in modules}
    counts["fast"] = _mask_comparisons(LAYERS / "fast" / "__init__.py")
    assert counts == {**dict.fromkeys(counts, 0), "lengths": 1}, counts

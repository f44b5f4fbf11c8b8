"""`torch.save(model)` then `torch.load(path, weights_only=True)`: rnnkit's layers as torch.nn's.

In torch 2.13 a whole torch.nn.LSTM is refused by a weights_only load until its class is
allowlisted; the checkpoint names that one class as its only unsafe global. rnnkit's layers must
behave the same (layers/serialization.py registers the classes they are built from).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.serialization import get_unsafe_globals_in_checkpoint, safe_globals

import rnnkit
from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.layers import Bidirectional, Recurrent, Stacked

LAYERS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"proj_size": 2}),
    ("GRU", {"num_layers": 2}),
]


def _save(module: nn.Module, path: Path) -> Path:
    torch.save(module, path)
    return path


@pytest.mark.parametrize(("mode", "options"), LAYERS)
def test_a_saved_layer_names_only_its_own_class_as_torch_nn_does(
    tmp_path: Path, mode: str, options: dict
) -> None:
    theirs = _save(getattr(nn, mode)(3, 4, **options), tmp_path / "torch.pt")
    ours = _save(getattr(rnnkit, mode)(3, 4, **options), tmp_path / "rnnkit.pt")
    assert get_unsafe_globals_in_checkpoint(theirs) == [f"torch.nn.modules.rnn.{mode}"]
    assert get_unsafe_globals_in_checkpoint(ours) == [f"rnnkit.layers.torch_layers.{mode}"]


@pytest.mark.parametrize(("mode", "options"), LAYERS)
def test_refused_by_default_and_loaded_once_allowlisted_as_torch_nn(
    tmp_path: Path, mode: str, options: dict
) -> None:
    reference = getattr(nn, mode)(3, 4, **options)
    layer = getattr(rnnkit, mode)(3, 4, **options)
    for module in (reference, layer):
        path = _save(module, tmp_path / f"{type(module).__module__}.pt")
        with pytest.raises(pickle.UnpicklingError, match=type(module).__name__):
            torch.load(path, weights_only=True)
        with safe_globals([type(module)]):
            loaded = torch.load(path, weights_only=True)
        assert type(loaded) is type(module)
        x = torch.randn(5, 2, 3)
        torch.testing.assert_close(loaded(x)[0], module(x)[0], atol=0, rtol=0)
        assert loaded.state_dict().keys() == module.state_dict().keys()


@pytest.mark.parametrize(
    "module",
    [
        ElmanCell(3, 4, nonlinearity="identity"),
        LSTMCell(3, 4, peephole=True, activation="relu", recurrent_activation="tanh"),
        GRUCell(3, 4, reset_after=False),
        Stacked([Recurrent(LSTMCell(3, 4)), Recurrent(LSTMCell(4, 4))]),
        Bidirectional(GRUCell(3, 4), GRUCell(3, 4)),
    ],
    ids=lambda module: type(module).__name__,
)
def test_building_blocks_load_with_weights_only(tmp_path: Path, module: nn.Module) -> None:
    """The classes a layer is made of are registered, activations pickled by name."""
    path = _save(module, tmp_path / "block.pt")
    assert get_unsafe_globals_in_checkpoint(path) == []
    loaded = torch.load(path, weights_only=True)
    assert type(loaded) is type(module)
    assert str(loaded) == str(module)
    for name, tensor in module.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name

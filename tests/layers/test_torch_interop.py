"""from_torch / to_torch and the parameter naming shared with torch.nn."""

from __future__ import annotations

import pytest
import torch
from layer_helpers import assert_close

import rnnkit
from rnnkit.errors import ConfigError
from rnnkit.layers.torch_interop import parameter_name


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_round_trip_keeps_configuration_weights_and_mode(float64: torch.dtype, kind: str) -> None:
    options = {"num_layers": 2, "bidirectional": True, "batch_first": True, "dropout": 0.25}
    options |= {"proj_size": 3, "bias": False} if kind == "LSTM" else {}
    options |= {"nonlinearity": "relu"} if kind == "RNN" else {}
    reference = getattr(torch.nn, kind)(3, 5, **options).eval()
    layer = getattr(rnnkit, kind).from_torch(reference)
    assert not layer.training
    assert next(layer.parameters()).dtype == torch.float64
    back = layer.to_torch()
    assert type(back) is type(reference)
    assert not back.training
    x = torch.randn(2, 4, 3)
    assert_close(layer(x)[0], reference(x)[0], 1e-12)
    assert_close(back(x)[0], reference(x)[0], 0.0)
    for name, value in reference.state_dict().items():
        assert torch.equal(back.state_dict()[name], value)


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("LSTM", {"peephole": True}),
        ("LSTM", {"coupled_gates": True}),
        ("LSTM", {"activation": "identity"}),
        ("LSTM", {"recurrent_activation": "identity"}),
        ("GRU", {"reset_after": False}),
        ("RNN", {"nonlinearity": "identity"}),
    ],
)
def test_to_torch_refuses_variants_torch_lacks(kind: str, options: dict) -> None:
    layer = getattr(rnnkit, kind)(3, 4, **options)
    key = next(iter(options))
    with pytest.raises(ConfigError, match=f"{key}="):
        layer.to_torch()


def test_from_torch_needs_the_matching_class() -> None:
    with pytest.raises(ConfigError, match=r"torch.nn.LSTM.*got GRU"):
        rnnkit.LSTM.from_torch(torch.nn.GRU(3, 4))


def test_parameter_names() -> None:
    assert parameter_name("weight_hr", 2, False) == "weight_hr_l2"
    assert parameter_name("bias_hh", 0, True) == "bias_hh_l0_reverse"

"""Helpers shared by the layer tests: random torch-compatible configurations and comparisons."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

import rnnkit


@dataclass
class Case:
    """One random configuration of a torch.nn recurrent layer and its inputs."""

    kind: str
    input_size: int
    hidden_size: int
    steps: int
    batch: int
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def directions(self) -> int:
        return 2 if self.options.get("bidirectional") else 1

    @property
    def state_size(self) -> int:
        return self.options.get("proj_size", 0) or self.hidden_size

    def torch_module(self) -> nn.RNNBase:
        return getattr(nn, self.kind)(self.input_size, self.hidden_size, **self.options)

    def input(self) -> Tensor:
        T, B, F = self.steps, self.batch, self.input_size
        return torch.randn((B, T, F) if self.options.get("batch_first") else (T, B, F))

    def initial_state(self) -> Tensor | tuple[Tensor, Tensor]:
        rows = self.options.get("num_layers", 1) * self.directions
        hidden = torch.randn(rows, self.batch, self.state_size)
        if self.kind == "LSTM":
            return hidden, torch.randn(rows, self.batch, self.hidden_size)
        return hidden


def random_case(rng: random.Random, kind: str | None = None) -> Case:
    """A random configuration torch.nn supports, small enough for float64 tests."""
    kind = kind or rng.choice(["RNN", "LSTM", "GRU"])
    hidden = rng.randint(2, 5)
    options: dict[str, Any] = {
        "num_layers": rng.randint(1, 3),
        "bidirectional": rng.random() < 0.5,
        "batch_first": rng.random() < 0.5,
        "bias": rng.random() < 0.8,
    }
    if kind == "RNN":
        options["nonlinearity"] = rng.choice(["tanh", "relu"])
    if kind == "LSTM" and rng.random() < 0.3:
        options["proj_size"] = rng.randint(1, hidden - 1)
    return Case(kind, rng.randint(1, 4), hidden, rng.randint(1, 6), rng.randint(1, 4), options)


def rnnkit_layer(case: Case, reference: nn.RNNBase, **options: Any) -> rnnkit.layers.RNN:
    """The rnnkit layer of the same kind and options with `reference`'s weights."""
    layer = getattr(rnnkit, case.kind)(case.input_size, case.hidden_size, **case.options, **options)
    layer.load_state_dict(reference.state_dict())
    return layer


def flat_state(state: Tensor | tuple[Tensor, ...]) -> Tensor:
    """h_n, or (h_n, c_n) concatenated, to compare in one call."""
    if isinstance(state, Tensor):
        return state
    return torch.cat([part.flatten() for part in state])


def assert_close(actual: Any, expected: Any, atol: float) -> None:
    """Outputs (tensor or PackedSequence data) or states agree to atol, with a useful message."""
    if isinstance(actual, nn.utils.rnn.PackedSequence):
        assert torch.equal(actual.batch_sizes, expected.batch_sizes)
        actual, expected = actual.data, expected.data
    actual, expected = flat_state(actual), flat_state(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    error = (actual - expected).abs().max().item() if actual.numel() else 0.0
    assert error <= atol, f"max |difference| {error:.3g} > {atol}"

"""Weights both ways between rnnkit.RNN / LSTM / GRU and torch.nn.RNN / LSTM / GRU.

References:
    https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html (parameter names and layout)

Both libraries name the parameters of layer k `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`,
`bias_hh_l{k}` (+ `weight_hr_l{k}` with a projection), with the suffix `_reverse` for the
reversed direction, and stack gate rows i|f|g|o (LSTM) and r|z|n (GRU). A state_dict therefore
moves with `load_state_dict` unchanged. rnnkit's variant parameters follow the same pattern
(`weight_ci_l0`, …); a layer that has them has no torch counterpart.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from torch import nn

from rnnkit.errors import ConfigError

TORCH_CLASSES: dict[str, type[nn.RNNBase]] = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


class TorchCompatible(Protocol):
    """What the conversions need from an rnnkit layer."""

    mode: str

    def torch_arguments(self) -> dict[str, Any]: ...

    def variant_options(self) -> dict[str, Any]: ...

    def state_dict(self) -> dict[str, Any]: ...


LayerT = TypeVar("LayerT")


def parameter_name(base: str, layer: int, reverse: bool) -> str:
    """torch.nn's name for a parameter of one layer and direction, e.g. `weight_hh_l1_reverse`.

    Example:
        >>> parameter_name("weight_ih", 0, True)
        'weight_ih_l0_reverse'
    """
    return f"{base}_l{layer}" + ("_reverse" if reverse else "")


def torch_arguments(module: nn.RNNBase) -> dict[str, Any]:
    """The constructor arguments of a torch.nn.RNN / LSTM / GRU, as keyword arguments."""
    arguments = {
        "input_size": module.input_size,
        "hidden_size": module.hidden_size,
        "num_layers": module.num_layers,
        "bias": module.bias,
        "batch_first": module.batch_first,
        "dropout": float(module.dropout),
        "bidirectional": module.bidirectional,
    }
    if isinstance(module, nn.LSTM):
        arguments["proj_size"] = module.proj_size
    if isinstance(module, nn.RNN):
        arguments["nonlinearity"] = module.nonlinearity
    return arguments


def from_torch(cls: type[LayerT], module: nn.RNNBase) -> LayerT:
    """A new rnnkit layer of class `cls` with the configuration and weights of `module`.

    Raises:
        ConfigError: `module` is not the torch.nn class that `cls` replaces.
    """
    expected = TORCH_CLASSES[cls.mode]  # type: ignore[attr-defined]
    if type(module) is not expected:
        raise ConfigError(
            f"{cls.__name__}.from_torch needs a torch.nn.{expected.__name__}; "
            f"got {type(module).__name__}."
        )
    reference = next(module.parameters())
    layer = cls(**torch_arguments(module), device=reference.device, dtype=reference.dtype)
    layer.load_state_dict(module.state_dict())  # type: ignore[attr-defined]
    layer.train(module.training)  # type: ignore[attr-defined]
    return layer


def to_torch(layer: TorchCompatible) -> nn.RNNBase:
    """A new torch.nn module with the configuration and weights of an rnnkit layer.

    Raises:
        ConfigError: the layer uses a variant torch.nn does not have (peephole, coupled gates,
            other activations, reset_after=False, the identity nonlinearity).
    """
    variants = layer.variant_options()
    if variants:
        options = ", ".join(f"{key}={value!r}" for key, value in variants.items())
        raise ConfigError(
            f"{type(layer).__name__}.to_torch: torch.nn.{layer.mode} has no variant {options}; "
            f"only layers with torch's defaults for these options convert."
        )
    reference = next(iter(layer.state_dict().values()))
    module = TORCH_CLASSES[layer.mode](
        **layer.torch_arguments(), device=reference.device, dtype=reference.dtype
    )
    module.load_state_dict(layer.state_dict())
    module.train(getattr(layer, "training", True))
    return module


__all__ = [
    "TORCH_CLASSES",
    "TorchCompatible",
    "from_torch",
    "parameter_name",
    "to_torch",
    "torch_arguments",
]

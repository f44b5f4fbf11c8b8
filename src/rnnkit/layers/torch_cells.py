"""rnnkit.RNNCell, LSTMCell, GRUCell: drop-ins for torch.nn.RNNCell / LSTMCell / GRUCell.

References:
    https://pytorch.org/docs/stable/generated/torch.nn.RNNCell.html
    https://pytorch.org/docs/stable/generated/torch.nn.LSTMCell.html
    https://pytorch.org/docs/stable/generated/torch.nn.GRUCell.html
    https://github.com/pytorch/pytorch/blob/e6f551a/torch/nn/modules/rnn.py (`RNNCell.forward`)

Each class is the taught cell of `rnnkit.cells` (whose docstring holds the equations, and whose
`step` computes them) with torch.nn's constructor, call and checks in front of it:
`cell(input, hx=None)` with `hx` a tensor (an `(h, c)` pair for LSTMCell) or None for zeros,
batched (B, F) or unbatched (F,) input, torch's error types and messages, torch's parameter names
(`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`) so state_dicts load both ways, and torch's
U(±1/√H) initialisation, which draws the same numbers as torch from the same seed. `step` and
`project_input` are the taught cell's, so a drop-in cell also runs inside `layers.Recurrent`.
The arguments keep torch's names `input` and `hx`, so keyword calls written for torch work.

Shapes (the legend of `rnnkit.cells.base`):
    input   (B, F), or unbatched (F,)
    hx      (B, H), or (H,) with unbatched input; for LSTMCell a pair (h, c) of these; None: zeros
    output  h' (B, H) or (H,); for LSTMCell the pair (h', c') as an `LSTMState` (a tuple)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from rnnkit.cells.base import LSTMState, RNNState, check_choice
from rnnkit.cells.gru import GRUCell as TaughtGRUCell
from rnnkit.cells.lstm import LSTMCell as TaughtLSTMCell
from rnnkit.cells.rnn import ElmanCell
from rnnkit.errors import ConfigError, ShapeError

Device = torch.device | str | None


class CellMismatchError(ShapeError, RuntimeError):
    """A size, batch, dtype or device mismatch, also a RuntimeError as torch.nn's cells raise."""


class CellStateTypeError(ShapeError, TypeError):
    """`input` or `hx` is not a tensor (or, for LSTMCell, `hx` not an (h, c) pair): a TypeError."""


def describe(value: Any) -> str:
    """What was received, for messages: a tensor's shape, a sequence's length, else its type."""
    if isinstance(value, Tensor):
        return f"a Tensor of shape {tuple(value.shape)}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)} items"
    return type(value).__name__


class TorchCell:
    """What the three drop-in cells share: torch's checks, conversions and repr (a mixin)."""

    torch_class: ClassVar[type[nn.RNNCellBase]]
    torch_argument_names: ClassVar[tuple[str, ...]] = ("input_size", "hidden_size", "bias")
    input_size: int
    hidden_size: int
    weight_ih: nn.Parameter
    training: bool

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Device = None,
        dtype: torch.dtype | None = None,
        **options: Any,
    ) -> None:
        """torch.nn's positional order, passed on to the taught cell (next in the MRO)."""
        super().__init__(  # type: ignore[call-arg]
            input_size, hidden_size, bias=bias, device=device, dtype=dtype, **options
        )

    def torch_arguments(self) -> dict[str, Any]:
        """The keyword arguments of the equivalent torch.nn constructor (no device/dtype)."""
        return {name: getattr(self, name) for name in self.torch_argument_names}

    @classmethod
    def from_torch(cls, module: nn.RNNCellBase) -> Any:
        """A new cell with the configuration, weights, device, dtype and mode of a torch cell.

        Raises:
            ConfigError: `module` is not the torch.nn class this cell replaces.
        """
        if type(module) is not cls.torch_class:
            raise ConfigError(
                f"{cls.__name__}.from_torch needs a torch.nn.{cls.torch_class.__name__}; got "
                f"{type(module).__name__}. Use the rnnkit class of the same name."
            )
        weight = module.weight_ih
        arguments = {name: getattr(module, name) for name in cls.torch_argument_names}
        cell = cls(**arguments, device=weight.device, dtype=weight.dtype)
        cell.load_state_dict(module.state_dict())
        cell.train(module.training)
        return cell

    def to_torch(self) -> nn.RNNCellBase:
        """A new torch.nn cell with this cell's configuration, weights, device, dtype and mode."""
        weight = self.weight_ih
        module = self.torch_class(
            **self.torch_arguments(), device=weight.device, dtype=weight.dtype
        )
        module.load_state_dict(self.state_dict())  # type: ignore[attr-defined]
        module.train(self.training)
        return module

    def extra_repr(self) -> str:
        """`RNNCell(5, 10, bias=False, nonlinearity=relu)`: exactly torch.nn's repr."""
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:  # type: ignore[attr-defined]
            text += f", bias={self.bias}"  # type: ignore[attr-defined]
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"  # type: ignore[attr-defined]
        return text

    def batched(
        self, input: Tensor, hx: Sequence[Tensor] | None, names: Sequence[str]
    ) -> tuple[Tensor, list[Tensor] | None, bool]:
        """Check input and hx as torch.nn's cells do; return them batched, and whether they were.

        `names` are torch's names of the hx tensors in its rank message ("hidden", or "hx[0]",
        "hx[1]"). Each message holds torch's own sentence (so torch's tests match it) and the fix.
        """
        cell, F_in, H = type(self).__name__, self.input_size, self.hidden_size
        for argument, tensor in [("input", input), *zip(names, hx or (), strict=False)]:
            if not isinstance(tensor, Tensor):
                raise CellStateTypeError(
                    f"{cell} `{argument}` must be a Tensor; got {type(tensor).__name__}."
                )
            if tensor.dim() not in (1, 2):
                size = F_in if argument == "input" else H
                raise ShapeError(
                    f"{cell}: Expected {argument} to be 1D or 2D, got {tensor.dim()}D instead "
                    f"(shape {tuple(tensor.shape)}). A cell takes one step: (B, {size}) or "
                    f"unbatched ({size},); loop over t, or use a layer for a sequence."
                )
        is_batched = input.dim() == 2
        x = input if is_batched else input.unsqueeze(0)  # (B, F)
        if x.shape[1] != F_in:
            raise CellMismatchError(
                f"{cell}: input has inconsistent input_size: got {x.shape[1]} expected {F_in}; "
                f"input must be (B, {F_in}) or ({F_in},), got {tuple(input.shape)}. "
                f"Check input_size."
            )
        self.check_dtype(input, cell=cell, argument="input")
        if hx is None:
            return x, None, is_batched
        state = []
        for index, tensor in enumerate(hx):
            label = f"hidden{index}"
            if tensor.dim() != input.dim():
                expected = f"(B, {H}) for batched input" if is_batched else f"({H},) for input"
                raise CellMismatchError(
                    f"{cell}: {label} must be {expected} {tuple(input.shape)}; got "
                    f"{tuple(tensor.shape)}. Give hx the same batch dimension as input."
                )
            tensor = tensor if is_batched else tensor.unsqueeze(0)  # (B, H)
            if tensor.shape[0] != x.shape[0]:
                raise CellMismatchError(
                    f"{cell}: Input batch size {x.shape[0]} doesn't match {label} batch size "
                    f"{tensor.shape[0]}; {label} must be (B, {H}) = ({x.shape[0]}, {H}). "
                    f"Check the batch size."
                )
            if tensor.shape[1] != H:
                raise CellMismatchError(
                    f"{cell}: {label} has inconsistent hidden_size: got {tensor.shape[1]}, "
                    f"expected {H}; {label} must be (B, {H}) or ({H},). Check hidden_size."
                )
            self.check_dtype(tensor, cell=cell, argument=label)
            state.append(tensor)
        return x, state, is_batched

    def hidden_step(self, input: Tensor, hx: Tensor | None) -> Tensor:
        """RNNCell's and GRUCell's call: torch's checks, then the taught cell's `step`."""
        x, state, is_batched = self.batched(input, None if hx is None else (hx,), ("hidden",))
        if state is None:
            hidden_prev = self.init_state(x.shape[0], dtype=x.dtype)  # type: ignore[attr-defined]
        else:
            hidden_prev = RNNState(*state)
        hidden = self.step(self.project_input(x), hidden_prev).hidden  # type: ignore[attr-defined]
        return hidden if is_batched else hidden.squeeze(0)  # h', (B, H) or (H,)

    def check_dtype(self, tensor: Tensor, *, cell: str, argument: str) -> None:
        """`tensor` must have the parameters' dtype (autocast aside) and device, as in torch."""
        weight = self.weight_ih
        autocast = torch.is_autocast_enabled(tensor.device.type)
        if tensor.device != weight.device or (tensor.dtype != weight.dtype and not autocast):
            raise CellMismatchError(
                f"{cell} `{argument}` must have the parameters' dtype and device "
                f"({weight.dtype}, {weight.device}); got ({tensor.dtype}, {tensor.device}). "
                f"Convert it with .to(...) or convert the cell."
            )


class RNNCell(TorchCell, ElmanCell):
    """An Elman cell as torch.nn.RNNCell: h' from x and h, with φ tanh or relu.

    The equation and its symbols are in `rnnkit.cells.ElmanCell`, whose `step` computes h'.

    Shapes: see `forward`.

    Args:
        input_size: F.
        hidden_size: H.
        bias: whether the cell has b_ih and b_hh.
        nonlinearity: φ, "tanh" or "relu" (torch.nn.RNNCell has no other).
        device: where to create the parameters.
        dtype: dtype of the parameters.

    Example:
        >>> import torch
        >>> reference = torch.nn.RNNCell(3, 4, nonlinearity="relu")
        >>> cell = RNNCell.from_torch(reference)  # same weights, same numbers
        >>> x, hidden = torch.randn(2, 3), torch.randn(2, 4)  # (B, F), (B, H)
        >>> torch.allclose(cell(x, hidden), reference(x, hidden))
        True
        >>> cell(torch.randn(3)).shape  # unbatched (F,), no hx -> (H,)
        torch.Size([4])
    """

    torch_class = nn.RNNCell
    torch_argument_names = ("input_size", "hidden_size", "bias", "nonlinearity")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Device = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__(
            input_size,
            hidden_size,
            bias=bias,
            nonlinearity=nonlinearity,
            device=device,
            dtype=dtype,
        )

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # type: ignore[override]
        """h' from input and hx (zeros if None), as torch.nn.RNNCell.

        Shapes:
            input (B, F), or unbatched (F,); hx (B, H) or (H,) to match, or None for zeros;
            returns h' (B, H), or (H,) for unbatched input.
        """
        return self.hidden_step(input, hx)


class LSTMCell(TorchCell, TaughtLSTMCell):
    """An LSTM cell as torch.nn.LSTMCell: (h', c') from x and (h, c), gates stacked i|f|g|o.

    The equations and their symbols are in `rnnkit.cells.LSTMCell`, whose `step` computes them.

    Shapes: see `forward`.

    Args:
        input_size: F.
        hidden_size: H.
        bias: whether the cell has b_ih and b_hh.
        device: where to create the parameters.
        dtype: dtype of the parameters.

    Example:
        >>> import torch
        >>> reference = torch.nn.LSTMCell(3, 4)
        >>> cell = LSTMCell.from_torch(reference)
        >>> x, state = torch.randn(3), (torch.randn(4), torch.randn(4))  # unbatched (F,), (H,)
        >>> hidden, cell_state = cell(x, state)
        >>> hidden.shape, torch.allclose(cell_state, reference(x, state)[1])
        (torch.Size([4]), True)
    """

    torch_class = nn.LSTMCell

    def forward(  # type: ignore[override]
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> LSTMState:
        """(h', c') from input and hx = (h, c) (zeros if None), as torch.nn.LSTMCell.

        Shapes:
            input (B, F), or unbatched (F,); hx a pair (h, c), each (B, H) or (H,) to match, or
            None for zeros; returns LSTMState(h', c'), each (B, H) or (H,), a tuple like torch's.
        """
        if hx is not None and (not isinstance(hx, tuple | list) or len(hx) != 2):
            raise CellStateTypeError(
                f"LSTMCell `hx` must be a pair (h, c) of tensors (B, {self.hidden_size}); got "
                f"{describe(hx)}. Pass hx=(h, c), or None for zeros."
            )
        x, state, is_batched = self.batched(input, hx, ("hx[0]", "hx[1]"))
        state_prev = LSTMState(*state) if state else self.init_state(x.shape[0], dtype=x.dtype)
        hidden, cell = self.step(self.project_input(x), state_prev)  # h', c', (B, H) each
        if not is_batched:
            hidden, cell = hidden.squeeze(0), cell.squeeze(0)  # (H,) each
        return LSTMState(hidden, cell)


class GRUCell(TorchCell, TaughtGRUCell):
    """A GRU cell as torch.nn.GRUCell (reset-after form): h' from x and h, gates stacked r|z|n.

    The equations and their symbols are in `rnnkit.cells.GRUCell` (reset_after=True), whose
    `step` computes them.

    Shapes: see `forward`.

    Args:
        input_size: F.
        hidden_size: H.
        bias: whether the cell has b_ih and b_hh.
        device: where to create the parameters.
        dtype: dtype of the parameters.

    Example:
        >>> import torch
        >>> reference = torch.nn.GRUCell(3, 4)
        >>> cell = GRUCell.from_torch(reference)
        >>> x = torch.randn(5, 3)  # (B, F)
        >>> torch.allclose(cell(x), reference(x))  # hx None: zeros
        True
    """

    torch_class = nn.GRUCell

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # type: ignore[override]
        """h' from input and hx (zeros if None), as torch.nn.GRUCell.

        Shapes:
            input (B, F), or unbatched (F,); hx (B, H) or (H,) to match, or None for zeros;
            returns h' (B, H), or (H,) for unbatched input.
        """
        return self.hidden_step(input, hx)


__all__ = ["CellMismatchError", "CellStateTypeError", "GRUCell", "LSTMCell", "RNNCell", "TorchCell"]

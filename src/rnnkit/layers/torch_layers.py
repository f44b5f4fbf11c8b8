"""rnnkit.RNN, rnnkit.LSTM, rnnkit.GRU: drop-in replacements for torch.nn.RNN / LSTM / GRU.

References:
    https://pytorch.org/docs/stable/generated/torch.nn.RNN.html
    https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html
    https://pytorch.org/docs/stable/generated/torch.nn.GRU.html

Same positional arguments, defaults, call and return values as torch.nn (so `batch_first=False`),
the same parameter names (their state_dicts load into each other), plus rnnkit's keyword-only
options: the cell variants, the regularisers (below), `bptt` (which backward pass computes the
gradients, see
`rnnkit.layers.recurrent` and the table of `rnnkit.layers.fast`), `check_finite`, and `lengths=`
on the call as an alternative to packing. Each class maps torch's arguments onto the cells it
stacks (`make_cell`); `rnnkit.layers.dropin` composes them.

The regularisers, keyword-only and off by default (equations in the cells' docstrings):
    layer_norm=True         layer normalisation of the pre-activations (and of c_t for LSTM)
    recurrent_dropout=p     one dropout mask per sequence on h_{t-1} in the recurrence
    zoneout=p (LSTM also (p_h, p_c))   each unit keeps its previous value with probability p
    weight_drop=p           DropConnect on W_hh, one mask per forward pass
    input_dropout=p, output_dropout=p  locked masks over time on the input / output sequence
They act in training mode; eval mode is deterministic (zoneout: its expectation). Weight drop
and the locked masks keep every fast row; the LSTM's fused row also runs recurrent dropout and
zoneout, and its lstm_ln row layer_norm with recurrent dropout; layer_norm with zoneout (and,
for RNN and GRU, layer_norm, recurrent dropout and zoneout) runs the cell's step.

Shapes (the legend of `rnnkit.cells.base`; D = 2 if bidirectional else 1, H_out = proj_size or
hidden_size):
    input   (T, B, F), (B, T, F) with batch_first=True, unbatched (T, F), or a PackedSequence
    hx      (L·D, B, H_out), or (L·D, H_out) unbatched; for LSTM a pair (h_0, (L·D, B, H) c_0)
    lengths (B,) integers in [1, T]: the real steps of each sequence (padded input only)
    output  (T, B, D·H_out) (or (B, T, D·H_out), (T, D·H_out), or a PackedSequence like input);
            zero past each sequence's length
    h_n     (L·D, B, H_out), each sequence's state after its own last step; for LSTM the
            pair (h_n, c_n) as an `LSTMState`, which unpacks like torch's tuple
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.cells.base import ActivationName
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.rnn import ElmanCell
from rnnkit.errors import ConfigError
from rnnkit.layers.dropin import Bptt, RecurrentLayer

Device = torch.device | str | None


def _check_no_projection(proj_size: Any) -> None:
    """RNN and GRU refuse `proj_size` with a ValueError (ConfigError), as torch.nn's do."""
    if proj_size is not None:
        raise ConfigError(
            f"Received an invalid argument `proj_size` = {proj_size!r}: projections exist for "
            f"LSTM only, as in torch.nn. Drop it, or use rnnkit.LSTM(..., proj_size=P)."
        )


class RNN(RecurrentLayer):
    """A stack of Elman layers, as torch.nn.RNN; the equations are in `rnnkit.cells.ElmanCell`.

    Shapes: see the module docstring.

    Args:
        input_size: F, features of each input step.
        hidden_size: H.
        num_layers: L, stacked layers; layer l + 1 reads the D·H outputs of layer l.
        nonlinearity: φ, "tanh" or "relu" (as torch), or "identity" (a linear RNN; rnnkit only).
        bias: whether the layers have b_ih and b_hh.
        batch_first: input and output are (B, T, ·) instead of (T, B, ·).
        dropout: probability of zeroing an input of layers 2…L during training.
        bidirectional: add a reversed pass per layer (D = 2).
        device: where to create the parameters.
        dtype: dtype of the parameters.
        proj_size: not accepted (ConfigError, a ValueError as torch.nn.RNN raises).
        bptt: "auto", "autograd" or "hand" (the hand-derived BPTT of `layers.fast.elman_bptt`).
        check_finite: raise ShapeError for NaN/inf in input or hx (a device sync per call).
        layer_norm, recurrent_dropout, zoneout, weight_drop, input_dropout, output_dropout:
            the regularisers of the module docstring.

    Example:
        >>> import torch
        >>> reference = torch.nn.RNN(3, 5, num_layers=2, bidirectional=True)
        >>> layer = RNN.from_torch(reference)  # same weights, same numbers
        >>> x = torch.randn(7, 2, 3)  # (T, B, F)
        >>> output, h_n = layer(x)
        >>> output.shape, h_n.shape  # (T, B, D·H), (L·D, B, H)
        (torch.Size([7, 2, 10]), torch.Size([4, 2, 5]))
        >>> torch.allclose(output, reference(x)[0], atol=1e-6)
        True
    """

    mode = "RNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Device = None,
        dtype: torch.dtype | None = None,
        *,
        proj_size: int | None = None,
        bptt: Bptt = "auto",
        check_finite: bool = False,
        layer_norm: bool = False,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        weight_drop: float = 0.0,
        input_dropout: float = 0.0,
        output_dropout: float = 0.0,
    ) -> None:
        _check_no_projection(proj_size)
        super().__init__(
            input_size, hidden_size, num_layers, bias=bias, batch_first=batch_first,
            dropout=dropout, bidirectional=bidirectional, bptt=bptt, check_finite=check_finite,
            layer_norm=layer_norm, recurrent_dropout=recurrent_dropout, zoneout=zoneout,
            weight_drop=weight_drop, input_dropout=input_dropout, output_dropout=output_dropout,
        )  # fmt: skip
        self.nonlinearity = nonlinearity
        self._build(device, dtype)

    def make_cell(self, input_size: int, **factory: Any) -> ElmanCell:
        """An ElmanCell for one layer and direction."""
        return ElmanCell(
            input_size, self.hidden_size, bias=self.bias, nonlinearity=self.nonlinearity,
            **self.cell_regularisers(), **factory,
        )  # fmt: skip

    def variant_options(self) -> dict[str, Any]:
        """{"nonlinearity": "identity"} for a linear RNN (torch.nn.RNN has tanh and relu), and
        the regularisers that are on."""
        linear = {"nonlinearity": "identity"} if self.nonlinearity == "identity" else {}
        return {**linear, **self.regulariser_options()}

    def torch_arguments(self) -> dict[str, Any]:
        """torch.nn.RNN's keyword arguments."""
        return {**super().torch_arguments(), "nonlinearity": self.nonlinearity}


class LSTM(RecurrentLayer):
    """A stack of LSTM layers, as torch.nn.LSTM; the equations are in `rnnkit.cells.LSTMCell`.

    Shapes: see the module docstring.

    Args:
        input_size: F, features of each input step.
        hidden_size: H, size of the cell state c_t (and of h_t without projection).
        num_layers: L, stacked layers; layer l + 1 reads the D·H_out outputs of layer l.
        bias: whether the layers have b_ih and b_hh.
        batch_first: input and output are (B, T, ·) instead of (T, B, ·).
        dropout: probability of zeroing an input of layers 2…L during training.
        bidirectional: add a reversed pass per layer (D = 2).
        proj_size: P > 0 projects h_t to P features (Sak et al. 2014), as torch.
        device: where to create the parameters.
        dtype: dtype of the parameters.
        peephole: gates see the cell state (Gers & Schmidhuber 2000); rnnkit only.
        coupled_gates: input gate tied to the forget gate, i = 1 − f (Greff et al. 2017).
        activation: candidate and output squashing ("tanh" as torch).
        recurrent_activation: gate function ("sigmoid" as torch).
        bptt: "auto", "autograd" or "hand" (`layers.fast.fused_lstm`: torch's options, no
            projection).
        check_finite: raise ShapeError for NaN/inf in input or hx (a device sync per call).
        layer_norm, recurrent_dropout, zoneout, weight_drop, input_dropout, output_dropout:
            the regularisers of the module docstring.

    Example:
        >>> import torch
        >>> layer = LSTM(3, 4, batch_first=True)
        >>> x = torch.randn(2, 6, 3)  # (B, T, F)
        >>> output, (h_n, c_n) = layer(x, lengths=torch.tensor([6, 3]))
        >>> output.shape, h_n.shape  # (B, T, H), (L·D, B, H)
        (torch.Size([2, 6, 4]), torch.Size([1, 2, 4]))
        >>> bool(torch.equal(h_n[0, 1], output[1, 2])), bool(output[1, 3:].eq(0).all())
        (True, True)
    """

    mode = "LSTM"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Device = None,
        dtype: torch.dtype | None = None,
        *,
        peephole: bool = False,
        coupled_gates: bool = False,
        activation: ActivationName = "tanh",
        recurrent_activation: ActivationName = "sigmoid",
        bptt: Bptt = "auto",
        check_finite: bool = False,
        layer_norm: bool = False,
        recurrent_dropout: float = 0.0,
        zoneout: float | tuple[float, float] = 0.0,
        weight_drop: float = 0.0,
        input_dropout: float = 0.0,
        output_dropout: float = 0.0,
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias=bias, batch_first=batch_first,
            dropout=dropout, bidirectional=bidirectional, bptt=bptt, check_finite=check_finite,
            layer_norm=layer_norm, recurrent_dropout=recurrent_dropout, zoneout=zoneout,
            weight_drop=weight_drop, input_dropout=input_dropout, output_dropout=output_dropout,
        )  # fmt: skip
        self.proj_size, self.peephole, self.coupled_gates = proj_size, peephole, coupled_gates
        self.activation, self.recurrent_activation = activation, recurrent_activation
        self._build(device, dtype)

    @property
    def state_size(self) -> int:
        """H_out = P with a projection, else H."""
        return self.proj_size or self.hidden_size

    def make_cell(self, input_size: int, **factory: Any) -> LSTMCell:
        """An LSTMCell for one layer and direction."""
        return LSTMCell(
            input_size, self.hidden_size, bias=self.bias, proj_size=self.proj_size,
            peephole=self.peephole, coupled_gates=self.coupled_gates, activation=self.activation,
            recurrent_activation=self.recurrent_activation, **self.cell_regularisers(), **factory,
        )  # fmt: skip

    def variant_options(self) -> dict[str, Any]:
        """The options away from torch.nn.LSTM's behaviour, the regularisers that are on last."""
        defaults = {
            "peephole": False,
            "coupled_gates": False,
            "activation": "tanh",
            "recurrent_activation": "sigmoid",
        }
        return {
            key: getattr(self, key)
            for key, value in defaults.items()
            if getattr(self, key) != value
        } | self.regulariser_options()

    def torch_arguments(self) -> dict[str, Any]:
        """torch.nn.LSTM's keyword arguments."""
        return {**super().torch_arguments(), "proj_size": self.proj_size}


class GRU(RecurrentLayer):
    """A stack of GRU layers, as torch.nn.GRU; the equations are in `rnnkit.cells.GRUCell`.

    Shapes: see the module docstring.

    Args:
        input_size: F, features of each input step.
        hidden_size: H.
        num_layers: L, stacked layers; layer l + 1 reads the D·H outputs of layer l.
        bias: whether the layers have b_ih and b_hh.
        batch_first: input and output are (B, T, ·) instead of (T, B, ·).
        dropout: probability of zeroing an input of layers 2…L during training.
        bidirectional: add a reversed pass per layer (D = 2).
        device: where to create the parameters.
        dtype: dtype of the parameters.
        proj_size: not accepted (ConfigError, a ValueError as torch.nn.GRU raises).
        reset_after: True for torch's form, False for Cho et al.'s (rnnkit only).
        bptt: "auto" (reset-after: `layers.fast.fast_gru`) or "autograd" (the cell's own step).
        check_finite: raise ShapeError for NaN/inf in input or hx (a device sync per call).
        layer_norm, recurrent_dropout, zoneout, weight_drop, input_dropout, output_dropout:
            the regularisers of the module docstring.

    Example:
        >>> import torch
        >>> layer = GRU(3, 4, num_layers=2)
        >>> output, h_n = layer(torch.randn(5, 3))  # unbatched x (T, F)
        >>> output.shape, h_n.shape  # (T, H), (L·D, H)
        (torch.Size([5, 4]), torch.Size([2, 4]))
    """

    mode = "GRU"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Device = None,
        dtype: torch.dtype | None = None,
        *,
        proj_size: int | None = None,
        reset_after: bool = True,
        bptt: Bptt = "auto",
        check_finite: bool = False,
        layer_norm: bool = False,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        weight_drop: float = 0.0,
        input_dropout: float = 0.0,
        output_dropout: float = 0.0,
    ) -> None:
        _check_no_projection(proj_size)
        super().__init__(
            input_size, hidden_size, num_layers, bias=bias, batch_first=batch_first,
            dropout=dropout, bidirectional=bidirectional, bptt=bptt, check_finite=check_finite,
            layer_norm=layer_norm, recurrent_dropout=recurrent_dropout, zoneout=zoneout,
            weight_drop=weight_drop, input_dropout=input_dropout, output_dropout=output_dropout,
        )  # fmt: skip
        self.reset_after = reset_after
        self._build(device, dtype)

    def make_cell(self, input_size: int, **factory: Any) -> GRUCell:
        """A GRUCell for one layer and direction."""
        return GRUCell(
            input_size, self.hidden_size, bias=self.bias, reset_after=self.reset_after,
            **self.cell_regularisers(), **factory,
        )  # fmt: skip

    def variant_options(self) -> dict[str, Any]:
        """{"reset_after": False} for Cho et al.'s form (torch.nn.GRU is reset-after), and the
        regularisers that are on."""
        form = {} if self.reset_after else {"reset_after": False}
        return {**form, **self.regulariser_options()}


__all__ = ["GRU", "LSTM", "RNN"]

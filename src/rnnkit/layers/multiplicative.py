"""MRNN and MLSTM: stacked layers of the multiplicative cells, with the drop-ins' interface.

References:
    https://www.cs.utoronto.ca/~ilya/pubs/2011/LANG-RNN.pdf (Sutskever et al. 2011, the mRNN)
    https://arxiv.org/abs/1609.07959 (Krause, Lu, Murray & Renals 2016, the mLSTM)

The equations are in `rnnkit.cells.MRNNCell` and `rnnkit.cells.MLSTMCell`. These layers stack
them exactly as `rnnkit.RNN` and `rnnkit.LSTM` stack theirs (`rnnkit.layers.dropin`): the same
call, states (L·D, B, H) (a pair h_n, c_n for MLSTM), `lengths=`, packed input and parameter
names `weight_mx_l0`, `weight_mh_l0_reverse`, … beside torch's. torch.nn has no such layer, so
there is no `to_torch` / `from_torch`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rnnkit.cells.mlstm import MLSTMCell
from rnnkit.cells.mrnn import MRNNCell
from rnnkit.errors import ConfigError
from rnnkit.layers.dropin import Bptt, RecurrentLayer

Device = torch.device | str | None


class _Multiplicative(RecurrentLayer):
    """What MRNN and MLSTM share: the size M of m_t, and no torch.nn counterpart."""

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
        multiplicative_size: int | None = None,
        bptt: Bptt = "auto",
        check_finite: bool = False,
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias=bias, batch_first=batch_first,
            dropout=dropout, bidirectional=bidirectional, bptt=bptt, check_finite=check_finite,
        )  # fmt: skip
        self.multiplicative_size = multiplicative_size  # M, None for M = H
        self._build(device, dtype)

    def variant_options(self) -> dict[str, Any]:
        """{"multiplicative_size": M} when M ≠ H (shown in the repr)."""
        M = self.multiplicative_size
        same = M is None or self.hidden_size == M
        return {} if same else {"multiplicative_size": M}

    @classmethod
    def from_torch(cls, module: nn.RNNBase) -> Any:
        """Refused: torch.nn has no multiplicative layer to copy from."""
        raise ConfigError(
            f"{cls.__name__}.from_torch: torch.nn has no multiplicative layer; got "
            f"{type(module).__name__}. Copy weights with load_state_dict between {cls.__name__}s."
        )

    def to_torch(self) -> nn.RNNBase:
        """Refused: torch.nn has no multiplicative layer to copy into."""
        raise ConfigError(
            f"{type(self).__name__}.to_torch: torch.nn has no multiplicative layer "
            f"(got {self!r}); keep the rnnkit layer, or use rnnkit.LSTM for a torch.nn.LSTM."
        )


class MRNN(_Multiplicative):
    """A stack of multiplicative RNN layers (`rnnkit.cells.MRNNCell`), called as rnnkit.RNN.

    Shapes: as `rnnkit.RNN` (`rnnkit.layers.torch_layers`); h_n (L·D, B, H).

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
        device, dtype: as torch.nn.RNN.
        multiplicative_size: M, the size of m_t in every cell; None for M = H.
        bptt, check_finite: as rnnkit.RNN (only the cells' own step runs these cells).

    Example:
        >>> layer = MRNN(3, 5, num_layers=2, batch_first=True)
        >>> output, h_n = layer(torch.randn(2, 7, 3))  # (B, T, F)
        >>> output.shape, h_n.shape  # (B, T, H), (L, B, H)
        (torch.Size([2, 7, 5]), torch.Size([2, 2, 5]))
    """

    mode = "RNN"

    def make_cell(self, input_size: int, **factory: Any) -> MRNNCell:
        """An MRNNCell for one layer and direction."""
        return MRNNCell(input_size, self.hidden_size, bias=self.bias,
                        multiplicative_size=self.multiplicative_size, **factory)  # fmt: skip


class MLSTM(_Multiplicative):
    """A stack of multiplicative LSTM layers (`rnnkit.cells.MLSTMCell`), called as rnnkit.LSTM.

    Shapes: as `rnnkit.LSTM` without projection; (h_n, c_n) both (L·D, B, H).

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
        device, dtype: as torch.nn.LSTM.
        multiplicative_size: M, the size of m_t in every cell; None for M = H.
        bptt, check_finite: as rnnkit.LSTM (only the cells' own step runs these cells).

    Example:
        >>> layer = MLSTM(3, 5, batch_first=True)
        >>> output, (h_n, c_n) = layer(torch.randn(2, 7, 3), lengths=torch.tensor([7, 4]))
        >>> output.shape, c_n.shape  # (B, T, H), (L, B, H)
        (torch.Size([2, 7, 5]), torch.Size([1, 2, 5]))
    """

    mode = "LSTM"

    def make_cell(self, input_size: int, **factory: Any) -> MLSTMCell:
        """An MLSTMCell for one layer and direction."""
        return MLSTMCell(input_size, self.hidden_size, bias=self.bias,
                         multiplicative_size=self.multiplicative_size, **factory)  # fmt: skip


__all__ = ["MLSTM", "MRNN"]

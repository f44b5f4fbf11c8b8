"""Initialisers for rnnkit cells: torch's U(±1/√H) default, orthogonal W_hh, forget-gate bias.

Every cell calls `reset_parameters` in its constructor; the two options are applied after
construction and return the cell, so they chain:

    >>> from rnnkit.cells import LSTMCell
    >>> from rnnkit.cells.init import forget_bias, orthogonal_recurrent
    >>> cell = forget_bias(orthogonal_recurrent(LSTMCell(3, 4)), value=1.0)
    >>> cell.bias_ih[4:8].tolist(), cell.bias_hh[4:8].tolist()  # forget rows, i|f|g|o
    ([1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0])

References:
    https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html (the U(−1/√H, 1/√H) default)
    https://arxiv.org/abs/1312.6120 (Saxe et al. 2014, orthogonal initialisation)
    https://proceedings.mlr.press/v37/jozefowicz15.html (Jozefowicz et al. 2015, forget bias 1)
"""

from __future__ import annotations

import math
from typing import TypeVar

import torch
from torch import nn

from rnnkit.cells.base import RecurrentCell
from rnnkit.errors import ConfigError

CellT = TypeVar("CellT", bound=RecurrentCell)


def reset_parameters(cell: CellT) -> CellT:
    """Draw every parameter of `cell` from U(−1/√H, 1/√H), as torch.nn.RNN/LSTM/GRU do.

    This covers weights, biases, the projection W_hr and the peephole weights alike; the gains
    of layer normalisation (`gain_*`) start at 1 and its shift `bias_cell` at 0 (Ba et al. 2016).

    Args:
        cell: any rnnkit cell; H is its `hidden_size`.

    Returns:
        The same cell, initialised in place.
    """
    bound = 1.0 / math.sqrt(cell.hidden_size)
    with torch.no_grad():
        for name, parameter in cell.named_parameters():
            if name.startswith("gain_"):
                nn.init.ones_(parameter)  # g = 1
            elif name == "bias_cell":
                nn.init.zeros_(parameter)  # b_c = 0
            else:
                nn.init.uniform_(parameter, -bound, bound)
    return cell


def orthogonal_recurrent(cell: CellT, *, gain: float = 1.0) -> CellT:
    """Make each gate block of W_hh (semi-)orthogonal.  (Saxe et al. 2014)

    W_gᵀ W_g = gain² I  for each gate block W_g of W_hh, (H, H) or (H, P)

    Each H-row block (one per name in `cell.gate_names`) is initialised on its own, so every
    gate's recurrent matrix preserves the norm of h_{t-1} at the start of training. With a
    projection (P < H) the blocks are (H, P) with orthonormal columns.

    Args:
        cell: any rnnkit cell.
        gain: scale of the orthogonal blocks.

    Returns:
        The same cell, with `weight_hh` re-initialised in place; other parameters are untouched.

    References:
        Saxe, McClelland & Ganguli 2014, "Exact solutions to the nonlinear dynamics of learning
        in deep linear neural networks", ICLR 2014.
    """
    with torch.no_grad():
        for gate in cell.gate_names:
            nn.init.orthogonal_(cell.weight_hh[cell.gate_rows(gate)], gain=gain)
    return cell


def forget_bias(cell: CellT, value: float = 1.0) -> CellT:
    """Set the forget-gate bias b_f to `value`.  (Jozefowicz et al. 2015)

    A forget gate that starts near σ(1) ≈ 0.73 keeps c_{t-1} from the first update on, which
    helps gradients flow over long spans. In torch's layout b_f is split into b_if + b_hf, so the
    forget rows of `bias_ih` are set to `value` and those of `bias_hh` to 0 (their sum is b_f).

    Args:
        cell: an LSTM cell (any variant: it needs a gate named "forget") built with bias=True.
        value: the forget-gate bias b_f.

    Returns:
        The same cell, changed in place.

    Raises:
        ConfigError: the cell has no forget gate, or no biases.

    References:
        Jozefowicz, Zaremba & Sutskever 2015, "An empirical exploration of recurrent network
        architectures", ICML 2015.
    """
    if "forget" not in cell.gate_names:
        raise ConfigError(
            f"forget_bias needs a cell with a forget gate (an LSTMCell); got {type(cell).__name__} "
            f"with gates {list(cell.gate_names)}."
        )
    if cell.bias_ih is None:
        raise ConfigError(
            f"forget_bias needs biases; got {type(cell).__name__} built with bias=False."
        )
    rows = cell.gate_rows("forget")
    with torch.no_grad():
        cell.bias_ih[rows] = value  # b_if = value
        cell.bias_hh[rows] = 0.0  # b_hf = 0, so b_f = b_if + b_hf = value
    return cell


__all__ = ["forget_bias", "orthogonal_recurrent", "reset_parameters"]

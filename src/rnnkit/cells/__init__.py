"""Recurrent cells written from their equations: one time step each, the time loop is the layer's.

References:
    https://pytorch.org/docs/stable/nn.html#recurrent-layers (the parameter layout we share)
"""

from rnnkit.cells.act import ACTCell
from rnnkit.cells.base import (
    ACTIVATION_DERIVATIVES,
    ACTIVATIONS,
    LSTMState,
    RecurrentCell,
    RNNState,
    State,
)
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.init import forget_bias, orthogonal_recurrent, reset_parameters
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.mlstm import MLSTMCell
from rnnkit.cells.mrnn import MRNNCell
from rnnkit.cells.rnn import ElmanCell

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_DERIVATIVES",
    "ACTCell",
    "ElmanCell",
    "GRUCell",
    "LSTMCell",
    "LSTMState",
    "MLSTMCell",
    "MRNNCell",
    "RNNState",
    "RecurrentCell",
    "State",
    "forget_bias",
    "orthogonal_recurrent",
    "reset_parameters",
]

"""Recurrent layers: the time loop over a cell, stacking, both directions, torch.nn drop-ins.

References:
    https://pytorch.org/docs/stable/nn.html#recurrent-layers (the interface the drop-ins share)
"""

from rnnkit.layers.bidirectional import Bidirectional
from rnnkit.layers.lengths import check_lengths, flip_sequences, lengths_mask, pack
from rnnkit.layers.recurrent import Recurrent, run_cell
from rnnkit.layers.serialization import BUILDING_BLOCKS  # registers torch.load's safe globals
from rnnkit.layers.stacked import Stacked
from rnnkit.layers.state import detach_state, reset_rows
from rnnkit.layers.torch_cells import GRUCell, LSTMCell, RNNCell
from rnnkit.layers.torch_layers import GRU, LSTM, RNN

__all__ = [
    "BUILDING_BLOCKS",
    "GRU",
    "LSTM",
    "RNN",
    "Bidirectional",
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "Recurrent",
    "Stacked",
    "check_lengths",
    "detach_state",
    "flip_sequences",
    "lengths_mask",
    "pack",
    "reset_rows",
    "run_cell",
]

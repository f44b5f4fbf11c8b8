"""rnnkit's building blocks in `torch.serialization`'s safe globals, for `weights_only` loads.

References:
    https://pytorch.org/docs/stable/notes/serialization.html#weights-only (the allowlist)

`torch.load(path, weights_only=True)` unpickles only tensors, containers and the classes on
torch's allowlist. A whole torch.nn.LSTM saved with `torch.save(model)` is refused until its
class is allowlisted (`torch.serialization.add_safe_globals([torch.nn.LSTM])`, or the
`safe_globals` context); then it loads. rnnkit.RNN / LSTM / GRU behave the same: refused as
they are, loaded once the layer's own class is allowlisted. That needs the classes a layer is
built from on the list too, which the user never names: the taught cells and the time-loop
modules (and torch's `nn.ModuleList`, which `Stacked` holds its layers in), registered here when
`rnnkit.layers` is imported. The cells keep their activation as a
name, not a function object, so nothing else (no `getattr` on torch) is pickled with them.
The public layers stay off the list, as torch.nn's are: allowlisting a class is the user's call.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.cells.gru import GRUCell
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.rnn import ElmanCell
from rnnkit.layers.bidirectional import Bidirectional
from rnnkit.layers.recurrent import Recurrent
from rnnkit.layers.stacked import Stacked

BUILDING_BLOCKS: tuple[type, ...] = (
    ElmanCell,
    LSTMCell,
    GRUCell,
    Recurrent,
    Bidirectional,
    Stacked,
    nn.ModuleList,  # Stacked's list of layers: a plain container, as torch's own list types
)
"""The classes inside a pickled rnnkit layer, allowed for weights_only loads."""

torch.serialization.add_safe_globals(list(BUILDING_BLOCKS))

__all__ = ["BUILDING_BLOCKS"]

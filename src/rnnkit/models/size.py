"""Model sizes from a config, before anything is allocated: parameters, memory, and the refusal.

Every model config counts its parameters with the formulas below in `__post_init__` and calls
`check_fits`, so `--hidden-size 1000000000` at `train`, or a config.json edited to that size
at `generate`, is one clear error instead of an allocator traceback or hours of swapping. A
training run also counts what it keeps per step for backpropagation and the optimizer's copies:

    recurrent  Σ_l D·G·H·(F_l + H + 2)     F_0 = input size, F_l = D·H above; G gates
    lookup     V·E
    linear     F_out·(F_in + 1)
    memory     4 bytes · (P·k + A)         k = 1 to load, 4 to train (W, ∂W, Adam's m and v)

where G = 1 (Elman, mRNN), 3 (GRU), 4 (LSTM, mLSTM), D the directions, P the parameters and A
the values kept for backward (`training_activations`); the multiplicative cells add
D·H·(F_l + H) a layer for W_mx and W_mh (M = H). A model fits if its memory is at most what the
machine has available (`available_memory`, MemAvailable of /proc/meminfo, else os.sysconf).
"""

from __future__ import annotations

import os
from pathlib import Path

from rnnkit.errors import ConfigError

GATES = {"rnn": 1, "gru": 3, "lstm": 4, "mrnn": 1, "mlstm": 4}  # G: weight blocks per cell
MULTIPLICATIVE = {"mrnn", "mlstm"}  # + M(F_l + H) for W_mx, W_mh, with M = H
BYTES_PER_VALUE = 4  # float32
TRAINING_COPIES = 4  # W, ∂L/∂W and Adam's m and v


def recurrent_parameters(
    input_size: int, hidden_size: int, num_layers: int, cell: str = "lstm", directions: int = 1
) -> int:
    """Σ_l D·G·H·(F_l + H + 2) of a stacked recurrent layer (torch.nn.LSTM's layout).

    >>> import torch
    >>> recurrent_parameters(3, 5, 2, "gru", 2) == sum(
    ...     p.numel() for p in torch.nn.GRU(3, 5, 2, bidirectional=True).parameters())
    True
    >>> from rnnkit.layers.multiplicative import MLSTM
    >>> layer = MLSTM(3, 5, num_layers=2, bidirectional=True)
    >>> recurrent_parameters(3, 5, 2, "mlstm", 2) == sum(p.numel() for p in layer.parameters())
    True
    """
    G, H, D = GATES[cell], hidden_size, directions
    first = D * G * H * (input_size + H + 2)
    total = first + (num_layers - 1) * D * G * H * (D * H + H + 2)
    if cell in MULTIPLICATIVE:  # W_mx (H, F_l) and W_mh (H, H) of every cell
        total += D * H * (input_size + H) + (num_layers - 1) * D * H * (D * H + H)
    return total


def training_activations(
    batch_size: int, steps: int, *, hidden_size: int, num_layers: int, cell: str, width: int
) -> int:
    """Values kept for backward over a batch: B·T·(L·(G + 3)·H + width).

    Per step and layer the cell keeps its G gates, c_t, h_t and tanh(c_t); `width` counts the
    rest of a step (the input embedding, the logits and their gradient).
    """
    per_step = num_layers * (GATES[cell] + 3) * hidden_size + width
    return batch_size * steps * per_step


def available_memory() -> int:
    """Bytes of memory available now: MemAvailable from /proc/meminfo, else os.sysconf."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on this platform: no bound
        return 2**63


def show_bytes(count: int) -> str:
    """A byte count for a message.

    >>> show_bytes(4_000_000_000_000_000_000), show_bytes(512 * 2**20)
    ('3725290298.5 GiB', '512.0 MiB')
    """
    if count >= 2**30:
        return f"{count / 2**30:,.1f} GiB".replace(",", "")
    return f"{count / 2**20:.1f} MiB"


def check_fits(
    what: str, parameters: int, *, activations: int = 0, training: bool = False, fix: str = ""
) -> int:
    """The bytes `what` needs (module docstring), or a ConfigError if more than is available.

    The one check of a model's size, at training (with `activations`) and at loading.
    """
    copies = TRAINING_COPIES if training else 1
    need = BYTES_PER_VALUE * (parameters * copies + activations)
    have = available_memory()
    if need > have:
        kept = f" and {activations:,} values kept for backward" if activations else ""
        raise ConfigError(
            f"{what} needs about {show_bytes(need)} ({parameters:,} parameters{kept}"
            f"{', ×4 to train' if training else ''}), more than the {show_bytes(have)} of "
            f"memory available; {fix or 'lower hidden_size, num_layers or embed_dim'}"
        )
    return need

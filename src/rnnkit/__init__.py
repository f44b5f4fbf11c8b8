"""rnnkit: recurrent sequence models written from their equations.

The public API is re-exported here by name; see the README for the data path
text → tokens → representations → cells → layers → models → losses → training.
"""

from importlib.metadata import PackageNotFoundError, version

from rnnkit.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    RnnkitError,
    ShapeError,
    TrainingDiverged,
    VocabError,
)
from rnnkit.layers import GRU, LSTM, RNN

try:
    __version__ = version("rnnkit")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "RnnkitError",
    "ShapeError",
    "TrainingDiverged",
    "VocabError",
    "__version__",
]

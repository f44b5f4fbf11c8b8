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
from rnnkit.lazy import lazy_exports

# The torch-backed layers load on first use (PEP 562), so `import rnnkit` and `rnnkit --help`
# do not import torch: name -> the module that defines it.
_EXPORTS = {
    "GRU": "rnnkit.layers",
    "LSTM": "rnnkit.layers",
    "RNN": "rnnkit.layers",
    "GRUCell": "rnnkit.layers",
    "LSTMCell": "rnnkit.layers",
    "RNNCell": "rnnkit.layers",
    "load": "rnnkit.tasks.load",  # a trained run as its task's object
    "summary": "rnnkit.analysis.summary",  # layers, output shapes, parameter counts
}

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
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "RnnkitError",
    "ShapeError",
    "TrainingDiverged",
    "VocabError",
    "__version__",
    "load",
    "summary",
]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

"""rnnkit.represent.word2vec: skip-gram and CBOW with negative sampling, trained and queried."""

import importlib
from typing import Any

# name -> the module that defines it, imported on first access (see __getattr__ below)
_EXPORTS = {
    "Word2VecConfig": "rnnkit.represent.word2vec.config",
    "EncodedCorpus": "rnnkit.represent.word2vec.corpus",
    "encode_corpus": "rnnkit.represent.word2vec.corpus",
    "evaluate_analogies": "rnnkit.represent.word2vec.evaluation",
    "evaluate_word_pairs": "rnnkit.represent.word2vec.evaluation",
    "load_vectors": "rnnkit.represent.word2vec.formats",
    "save_vectors": "rnnkit.represent.word2vec.formats",
    "negative_sampling_loss": "rnnkit.represent.word2vec.steps",
    "train_encoded": "rnnkit.represent.word2vec.train",
    "train_word2vec": "rnnkit.represent.word2vec.train",
    "WordVectors": "rnnkit.represent.word2vec.vectors",
}

__all__ = [
    "EncodedCorpus",
    "Word2VecConfig",
    "WordVectors",
    "encode_corpus",
    "evaluate_analogies",
    "evaluate_word_pairs",
    "load_vectors",
    "negative_sampling_loss",
    "save_vectors",
    "train_encoded",
    "train_word2vec",
]


def __getattr__(name: str) -> Any:
    """Import a re-exported name on first use (PEP 562), so that importing the package is light."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # the next access skips __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

"""rnnkit.represent: tokens -> vectors (one-hot, word hashing, bag-of-words, embeddings)."""

import importlib
from typing import Any

# name -> the module that defines it, imported on first access (see __getattr__ below)
_EXPORTS = {
    "BagOfWords": "rnnkit.represent.bow",
    "Embedding": "rnnkit.represent.embedding",
    "load_word_vectors": "rnnkit.represent.embedding",
    "WordHasher": "rnnkit.represent.hashing",
    "letter_ngrams": "rnnkit.represent.hashing",
    "ngram_collisions": "rnnkit.represent.hashing",
    "stable_bucket": "rnnkit.represent.hashing",
    "OneHotEncoder": "rnnkit.represent.onehot",
}

__all__ = [
    "BagOfWords",
    "Embedding",
    "OneHotEncoder",
    "WordHasher",
    "letter_ngrams",
    "load_word_vectors",
    "ngram_collisions",
    "stable_bucket",
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

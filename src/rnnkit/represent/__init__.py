"""rnnkit.represent: tokens -> vectors (one-hot, word hashing, bag-of-words, embeddings)."""

from rnnkit.lazy import lazy_exports

# name -> the module that defines it, imported on first access (see __getattr__ below)
_EXPORTS = {
    "BagOfWords": "rnnkit.represent.bow",
    "Embedding": "rnnkit.represent.embedding",
    "load_word_vectors": "rnnkit.represent.embedding",
    "glove_vectors": "rnnkit.represent.glove",
    "load_glove": "rnnkit.represent.glove",
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
    "glove_vectors",
    "letter_ngrams",
    "load_glove",
    "load_word_vectors",
    "ngram_collisions",
    "stable_bucket",
]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

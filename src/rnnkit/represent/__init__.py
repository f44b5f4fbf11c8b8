"""rnnkit.represent: tokens -> vectors (one-hot, word hashing, bag-of-words, embeddings)."""

from rnnkit.represent.bow import BagOfWords
from rnnkit.represent.embedding import Embedding, load_word_vectors
from rnnkit.represent.hashing import WordHasher, letter_ngrams, ngram_collisions, stable_bucket
from rnnkit.represent.onehot import OneHotEncoder

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

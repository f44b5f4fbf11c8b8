"""rnnkit.represent.word2vec: skip-gram and CBOW with negative sampling, trained and queried."""

from rnnkit.represent.word2vec.config import Word2VecConfig
from rnnkit.represent.word2vec.corpus import EncodedCorpus, encode_corpus
from rnnkit.represent.word2vec.evaluation import evaluate_analogies, evaluate_word_pairs
from rnnkit.represent.word2vec.formats import load_vectors, save_vectors
from rnnkit.represent.word2vec.steps import negative_sampling_loss
from rnnkit.represent.word2vec.train import train_encoded, train_word2vec
from rnnkit.represent.word2vec.vectors import WordVectors

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

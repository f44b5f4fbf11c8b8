"""rnnkit.represent.word2vec: skip-gram and CBOW with negative sampling, trained and queried."""

from rnnkit.lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

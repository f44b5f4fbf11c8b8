"""rnnkit.models: the models, each with its config.

The names load on first use (PEP 562, `rnnkit.lazy`), so that the torch-free config modules
(`rnnkit.models.configs`), which task configs nest, import no torch.
"""

from rnnkit.lazy import lazy_exports

_EXPORTS = {
    "BowClassifier": "rnnkit.models.bow_classifier",
    "BowClassifierConfig": "rnnkit.models.bow_classifier",
    "Forecaster": "rnnkit.models.forecaster",
    "FrameClassifier": "rnnkit.models.frame_classifier",
    "FrameClassifierConfig": "rnnkit.models.frame_classifier",
    "ForecasterConfig": "rnnkit.models.forecaster",
    "SequenceClassifier": "rnnkit.models.many_to_one",
    "SequenceClassifierConfig": "rnnkit.models.many_to_one",
    "SequenceTagger": "rnnkit.models.tagger",
    "SequenceTaggerConfig": "rnnkit.models.tagger",
}

__all__ = [
    "BowClassifier",
    "BowClassifierConfig",
    "Forecaster",
    "ForecasterConfig",
    "FrameClassifier",
    "FrameClassifierConfig",
    "SequenceClassifier",
    "SequenceClassifierConfig",
    "SequenceTagger",
    "SequenceTaggerConfig",
]

__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

"""rnnkit.models."""

from rnnkit.models.bow_classifier import BowClassifier, BowClassifierConfig
from rnnkit.models.forecaster import Forecaster, ForecasterConfig
from rnnkit.models.many_to_one import SequenceClassifier, SequenceClassifierConfig
from rnnkit.models.tagger import SequenceTagger, SequenceTaggerConfig

__all__ = [
    "BowClassifier",
    "BowClassifierConfig",
    "Forecaster",
    "ForecasterConfig",
    "SequenceClassifier",
    "SequenceClassifierConfig",
    "SequenceTagger",
    "SequenceTaggerConfig",
]

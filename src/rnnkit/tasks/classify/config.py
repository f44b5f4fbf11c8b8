"""ClassifyConfig and SpamConfig: the settings of `rnnkit train sentiment` and `… spam`.

This module imports no torch, so that `rnnkit train … --help` lists the flags quickly;
`rnnkit.tasks.classify.train` builds and trains the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from rnnkit.errors import ConfigError
from rnnkit.models.configs.sequence_classifier import SequenceClassifierConfig
from rnnkit.tasks.registry import TaskInfo

Dataset = Literal["auto", "rt_polarity", "movie_reviews", "sms_spam", "csv"]


def _classifier() -> SequenceClassifierConfig:
    """The task's own classifier defaults: mean pooling and dropout ½."""
    return SequenceClassifierConfig(pooling="mean", dropout=0.5)


@dataclass(frozen=True, kw_only=True)
class ClassifyConfig:
    """A text-classification run: data and split, vocabulary, model (trainer options apart).

    `model` is the SequenceClassifier's own config (`--model.hidden-size`, alias
    `--hidden-size`; `--cell gru`); its vocabulary and classes come from the data.
    `classifier bow` trains tf-idf + logistic regression instead.
    """

    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {  # help groups of the flags
        "data": ("dataset", "folds", "fold", "split_seed", "min_freq", "max_tokens", "keep",
                 "batch_size", "class_weights"),
        "model": ("classifier", "model", "hash_n", "pretrained", "freeze_embedding",
                  "bow_sublinear", "threshold"),
    }  # fmt: skip

    task_family: ClassVar[str] = "sentiment"  # whose --data layouts `find_data` accepts
    shared_dataset: ClassVar[str] = "rt_polarity"  # what auto reads without --data
    dataset: Dataset = "auto"  # auto: detected from --data, else `shared_dataset`
    folds: int = 10  # k of the stratified k-fold split
    fold: int = 0  # the held-out fold, evaluated
    split_seed: int = 0  # seed of the fold assignment (apart from the training seed)
    min_freq: int = 2  # rarer training words become <unk>
    max_tokens: int | None = None  # longest text kept, in tokens; None: all
    keep: Literal["first", "last"] = "first"  # which max_tokens tokens of a longer text
    # recurrent: `model` below; bow: tf-idf + logistic regression
    classifier: Literal["recurrent", "bow"] = "recurrent"
    model: SequenceClassifierConfig = field(default_factory=_classifier)  # LSTM, H 128, mean
    hash_n: int = 3  # n of the letter n-grams (representation=hashing)
    pretrained: str | None = None  # word2vec text file initialising E (sets E)
    freeze_embedding: bool = False  # keep the pretrained E fixed
    bow_sublinear: bool = True  # tf ← 1 + ln tf in the bow model
    batch_size: int = 32  # B texts per update
    class_weights: Literal["none", "balanced"] = "none"  # a_c in the loss
    threshold: float = 0.5  # θ of the binary decision ŷ = [y[1] ≥ θ]

    def __post_init__(self) -> None:
        for name in ("folds", "min_freq", "hash_n", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.folds < 2 or not 0 <= self.fold < self.folds:
            raise ConfigError(f"need folds ≥ 2 and 0 ≤ fold < folds; got {self.fold}/{self.folds}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be positive or None, got {self.max_tokens}")
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"threshold must be in (0, 1), got {self.threshold}")

    @staticmethod
    def upgrade_dict(data: dict[str, Any]) -> dict[str, Any]:
        """A run written before the classifier was nested: its `"model": "gru"` (the cell, or
        bow) becomes `classifier` and `model.cell` (`rnnkit.config.config_from_dict`)."""
        if not isinstance(data.get("model"), str):
            return data
        data = dict(data)
        kind = data.pop("model")
        if kind == "bow":
            return {**data, "classifier": "bow"}
        return {**data, "classifier": "recurrent", "model.cell": kind}


@dataclass(frozen=True, kw_only=True)
class SpamConfig(ClassifyConfig):
    """The spam filter's defaults: SMS Spam Collection, a stratified 80/20 split (5 folds)."""

    task_family: ClassVar[str] = "spam"
    shared_dataset: ClassVar[str] = "sms_spam"
    folds: int = 5


# Adam at 2e-3 with a cosine decay to η/10, as bench/classify.py: 1200 updates are 4 epochs of
# the sentence-polarity training folds (9,596 texts, B = 32); 600 are 4 epochs of the SMS 80 %.
TRAINER_DEFAULTS = {
    "max_steps": 1200,
    "lr": 2e-3,
    "schedule": "cosine",
    "min_lr": 2e-4,
    "clip_norm": 5.0,
    "eval_every": 300,
    "checkpoint_every": 300,
    "log_every": 20,
}
SPAM_DEFAULTS = {**TRAINER_DEFAULTS, "max_steps": 600, "eval_every": 150, "checkpoint_every": 150}

# Registration (read by rnnkit.tasks): the module that builds the task, the function that
# loads a trained run of it (rnnkit.load, rnnkit serve).
BUILDER = "rnnkit.tasks.classify.train"
LOADER = "rnnkit.tasks.classify.train:load_classifier"

TASK_INFO = {
    "sentiment": TaskInfo(
        ClassifyConfig,
        "sentence/review polarity (rt_polarity, movie_reviews or your CSV/JSONL)",
        TRAINER_DEFAULTS,
        builder=BUILDER,
        loader=LOADER,
        verbs=("rnnkit.tasks.classify.cli:add_predict",),
    ),
    "spam": TaskInfo(
        SpamConfig,
        "SMS spam filtering (SMS Spam Collection, stratified 80/20 split)",
        SPAM_DEFAULTS,
        builder=BUILDER,
        loader=LOADER,
        verbs=("rnnkit.tasks.classify.cli:add_predict",),
    ),
}

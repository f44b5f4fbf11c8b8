"""SequencesConfig: the settings of a `rnnkit train sequences` run, and its trainer defaults.

This module imports no torch, so that `rnnkit train sequences --help` lists the flags quickly;
`rnnkit.tasks.sequences.train` reads the corpus and builds and trains the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from rnnkit.errors import ConfigError
from rnnkit.models.configs.frame_classifier import FrameClassifierConfig
from rnnkit.models.configs.sequence_classifier import SequenceClassifierConfig
from rnnkit.tasks.registry import TaskInfo

CORPORA = ("splice", "vowels")
Corpus = Literal["splice", "vowels"]


@dataclass(frozen=True, kw_only=True)
class SequencesConfig:
    """A sequence-classification run on a real corpus that a registry package ships.

    `corpus splice`: 60 bases of primate DNA → donor (ei), acceptor (ie) or neither (n), from
    Debian's r-cran-mlbench (`--data DNA.rda`, else $RNNKIT_MLBENCH_DNA or R's library).
    `corpus vowels`: 7-29 frames of 12 LPC cepstra → which of 9 speakers, from the sktime (or
    aeon) wheel (`--data` the folder of JapaneseVowels_*.ts, else the installed package's).
    `model` is the recurrent classifier's config (`--model.hidden-size`, alias `--hidden-size`);
    splice reads one-hot bases through `SequenceClassifier(representation="onehot")` with the
    same settings, vowels the standardised frames through `FrameClassifier`.
    """

    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {  # help groups of the flags
        "data": ("corpus", "valid_fraction", "split_seed", "batch_size"),
        "model": ("model",),
    }

    corpus: Corpus = "vowels"  # splice: DNA splice junctions; vowels: Japanese Vowels speakers
    valid_fraction: float = 0.1  # share of the training set held out (stratified) to validate
    split_seed: int = 0  # seed of the splits (splice train/test, and train/validation)
    model: FrameClassifierConfig = field(default_factory=FrameClassifierConfig)  # BiLSTM 64, max
    batch_size: int = 32  # B sequences per update

    def __post_init__(self) -> None:
        if self.corpus not in CORPORA:
            raise ConfigError(f"corpus must be one of {', '.join(CORPORA)}; got {self.corpus!r}")
        if not 0.0 < self.valid_fraction < 0.5:
            raise ConfigError(f"valid_fraction must be in (0, 0.5), got {self.valid_fraction}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {self.batch_size}")

    def frame_model(self, num_features: int, num_classes: int) -> FrameClassifierConfig:
        """The FrameClassifier's config for frames of F values and C classes."""
        return dataclasses.replace(self.model, num_features=num_features, num_classes=num_classes)

    def token_model(self, vocab_size: int, num_classes: int) -> SequenceClassifierConfig:
        """The one-hot SequenceClassifier's config with the same recurrent settings (V = the
        alphabet with <pad>, id 0)."""
        m = self.model
        return SequenceClassifierConfig(
            vocab_size=vocab_size, num_classes=num_classes, representation="onehot",
            cell=m.cell, hidden_size=m.hidden_size, num_layers=m.num_layers,
            bidirectional=m.bidirectional, pooling=m.pooling, dropout=m.dropout, pad_id=0,
        )  # fmt: skip


# As bench/dna_speech.py: Adam at a constant 3e-3, no clipping, B = 32, 30 passes over the
# training sequences (max_epochs; max_steps only caps it). Evaluated on the validation part.
TRAINER_DEFAULTS = {
    "max_steps": 10_000,
    "max_epochs": 30,
    "lr": 3e-3,
    "schedule": "constant",
    "clip_norm": None,
    "eval_every": 30,
    "checkpoint_every": 0,
    "log_every": 10,
}

# Registration (read by rnnkit.tasks): the module that builds the task, the function that
# loads a trained run of it (rnnkit.load).
BUILDER = "rnnkit.tasks.sequences.train"
LOADER = "rnnkit.tasks.sequences.train:load_sequence_classifier"

TASK_INFO = {
    "sequences": TaskInfo(
        SequencesConfig,
        "a (Bi)LSTM labels whole sequences: DNA splice junctions or Japanese-Vowels speakers",
        TRAINER_DEFAULTS,
        builder=BUILDER,
        loader=LOADER,
        handlers={"predict": "rnnkit.tasks.sequences.cli:predict_sequences"},
    ),
}

"""NerConfig: the settings of a `rnnkit train ner` run, and its trainer defaults.

This module imports no torch, so that `rnnkit train … --help` lists the flags quickly;
`rnnkit.tasks.ner.train` builds and trains the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from rnnkit.errors import ConfigError
from rnnkit.models.configs.tagger import SequenceTaggerConfig
from rnnkit.tasks.registry import TaskInfo

Corpus = Literal["auto", "conll2002_es", "conll2002_nl", "wnut17", "custom"]


SHARED_CORPUS = "conll2002_es"  # what auto reads without --data


@dataclass(frozen=True, kw_only=True)
class NerConfig:
    """An NER run: corpus and splits, tag scheme, vocabulary and tagger (trainer options apart).

    `model` is the SequenceTagger's own config (`--model.hidden-size`, alias `--hidden-size`);
    its vocabularies and tags come from the corpus, E from --word2vec when given.
    """

    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {  # help groups of the flags
        "data": ("corpus", "eval_split", "scheme", "min_freq", "unk_rate", "batch_size"),
        "model": ("model", "word2vec", "freeze_embedding", "char_features", "max_word_length"),
    }  # fmt: skip

    corpus: Corpus = "auto"  # auto: from --data, else conll2002_es; custom: train/dev.conll
    eval_split: Literal["dev", "test"] = "dev"  # scored while training (test only for the bench)
    scheme: Literal["bio", "bioes"] = "bioes"  # tags trained on; scored as BIO
    min_freq: int = 1  # rarer training words become <unk>
    unk_rate: float = 0.5  # p of feeding a training singleton as <unk> (Lample et al. 2016)
    model: SequenceTaggerConfig = field(default_factory=SequenceTaggerConfig)  # BiLSTM-CRF
    word2vec: str | None = None  # word2vec text/binary file initialising E
    freeze_embedding: bool = False  # keep the word2vec E fixed while training
    char_features: bool = True  # char BiLSTM per word (Lample et al. 2016)
    max_word_length: int = 25  # characters of a word read by the char BiLSTM
    batch_size: int = 32  # B sentences per update

    def __post_init__(self) -> None:
        for name in ("min_freq", "max_word_length", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 <= self.unk_rate < 1.0:
            raise ConfigError(f"unk_rate must be in [0, 1), got {self.unk_rate}")


# Adam at 2e-3 as bench/ner.py, clipping at 5 (Lample et al. 2016 clip at 5.0 with SGD); 2,600
# updates are 10 epochs of the Spanish training set (8,323 sentences, B = 32).
TRAINER_DEFAULTS = {
    "max_steps": 2600,
    "lr": 2e-3,
    "clip_norm": 5.0,
    "eval_every": 520,
    "checkpoint_every": 520,
    "log_every": 20,
    "monitor": "val_f1",
    "monitor_mode": "max",
}

# Registration (read by rnnkit.tasks): the module that builds the task, the function that
# loads a trained run of it (rnnkit.load, rnnkit serve).
BUILDER = "rnnkit.tasks.ner.train"
LOADER = "rnnkit.tasks.ner.tagger:load_tagger"

TASK_INFO = {
    "ner": TaskInfo(
        NerConfig,
        "named-entity tagging, BiLSTM(-CRF): CoNLL-2002 es/nl, WNUT-17 or your CoNLL files",
        TRAINER_DEFAULTS,
        builder=BUILDER,
        loader=LOADER,
        verbs=("rnnkit.tasks.ner.cli:add_tag",),
    ),
}

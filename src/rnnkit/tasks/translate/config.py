"""TranslateConfig and ChatConfig: the settings of `rnnkit train translate` and `… chat`.

This module imports no torch, so that `rnnkit train … --help` lists the flags quickly;
`rnnkit.tasks.translate.train` builds and trains the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from rnnkit.errors import ConfigError
from rnnkit.models.configs.seq2seq import Seq2SeqConfig
from rnnkit.tasks.registry import TaskInfo

Corpus = Literal["auto", "multi30k", "dialogue", "custom"]


def _seq2seq() -> Seq2SeqConfig:
    """The task's own encoder–decoder defaults: a bidirectional GRU with general attention."""
    return Seq2SeqConfig(bidirectional=True, attention="general", dropout=0.3)


@dataclass(frozen=True, kw_only=True)
class TranslateConfig:
    """A translation run: corpus, languages, vocabulary and encoder–decoder (trainer apart).

    `model` is the Seq2Seq's own config (`--model.hidden-size`, alias `--hidden-size`); its
    vocabularies and special ids come from the data.
    """

    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {  # help groups of the flags
        "data": ("corpus", "source_lang", "target_lang", "test_split", "eval_split", "lowercase",
                 "min_freq", "max_tokens", "max_books", "batch_size"),
        "model": ("model", "teacher_forcing", "scheduled_sampling", "label_smoothing",
                  "eval_beam"),
    }  # fmt: skip

    task_family: ClassVar[str] = "translate"  # whose --data layouts `load_pairs` accepts
    shared_corpus: ClassVar[str] = "multi30k"  # what auto reads without --data
    corpus: Corpus = "auto"  # auto: from --data; custom: --data DIR with train.tsv, valid.tsv
    source_lang: str = "en"  # Multi30k: en, de, fr or cs
    target_lang: str = "de"  # Multi30k: en, de, fr or cs, other than source_lang
    test_split: str = "test_2016_flickr"  # Multi30k test set scored by the bench
    eval_split: Literal["valid", "test"] = "valid"  # scored while training
    lowercase: bool = False  # lower-case both sides (BLEU then scores lower-cased text)
    min_freq: int = 2  # rarer training words become <unk>
    max_tokens: int = 50  # training pairs with a longer side are dropped
    max_books: int | None = None  # dialogue: mine only the first N books of each split
    # the encoder–decoder: E 256, GRU, H 256, bidirectional, general attention, p 0.3
    model: Seq2SeqConfig = field(default_factory=_seq2seq)
    teacher_forcing: float = 1.0  # r, probability of feeding the reference token
    scheduled_sampling: float = 0.0  # k of r_i = max(r, k / (k + exp(i / k))) (0: fixed r)
    label_smoothing: float = 0.0  # ε of label smoothing in the loss
    batch_size: int = 64  # B sentence pairs per update
    eval_beam: int = 1  # beam size of the BLEU evaluation while training (1: greedy)

    def __post_init__(self) -> None:
        for name in ("min_freq", "max_tokens", "batch_size", "eval_beam"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 <= self.teacher_forcing <= 1.0:
            raise ConfigError(f"teacher_forcing must be in [0, 1], got {self.teacher_forcing}")
        if self.scheduled_sampling < 0:
            raise ConfigError(f"scheduled_sampling must be ≥ 0, got {self.scheduled_sampling}")
        if self.scheduled_sampling > 0 and self.teacher_forcing == 1.0:
            raise ConfigError("scheduled sampling decays r down to teacher_forcing, which is 1: "
                              "pass --teacher-forcing below 1 (e.g. 0.5) as the floor")  # fmt: skip
        corpus = self.shared_corpus if self.corpus == "auto" else self.corpus
        if self.source_lang == self.target_lang and corpus == "multi30k":
            raise ConfigError("source_lang and target_lang must differ for Multi30k")


@dataclass(frozen=True, kw_only=True)
class ChatConfig(TranslateConfig):
    """A chatbot run: the same model on (utterance, reply) pairs, one vocabulary for both."""

    task_family: ClassVar[str] = "chat"
    shared_corpus: ClassVar[str] = "dialogue"
    lowercase: bool = True
    min_freq: int = 3
    max_tokens: int = 25


# 10 epochs of Multi30k en-de (29,000 pairs, B = 64: 453 batches per epoch); Adam 1e-3 with
# clipping at 1 (measured in bench/seq2seq.py).
TRAINER_DEFAULTS = {
    "max_steps": 4530,
    "lr": 1e-3,
    "clip_norm": 1.0,
    "eval_every": 906,
    "checkpoint_every": 453,
    "log_every": 50,
    "monitor": "val_bleu",
    "monitor_mode": "max",
}

# Registration (read by rnnkit.tasks): the module that builds the task, the function that
# loads a trained run of it (rnnkit.load, rnnkit serve).
BUILDER = "rnnkit.tasks.translate.train"
LOADER = "rnnkit.tasks.translate.translator:load_translator"

TASK_INFO = {
    "translate": TaskInfo(
        TranslateConfig,
        "encoder–decoder translation (Multi30k en/de/fr/cs or your TSV pairs), BLEU and chrF",
        TRAINER_DEFAULTS,
        builder=BUILDER,
        loader=LOADER,
        verbs=("rnnkit.tasks.translate.cli:add_translate",),
    ),
    "chat": TaskInfo(
        ChatConfig,
        "encoder–decoder chatbot on (utterance, reply) pairs mined from the Gutenberg books",
        TRAINER_DEFAULTS,
        builder=BUILDER,
        loader=LOADER,
        verbs=("rnnkit.tasks.translate.cli:add_chat",),
    ),
}

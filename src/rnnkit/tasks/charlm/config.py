"""CharLMConfig: the settings of a `rnnkit train charlm` run, and its trainer defaults.

This module imports no torch, so that `rnnkit train … --help` lists the flags quickly;
`rnnkit.tasks.charlm.train` builds and trains the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

from rnnkit.errors import ConfigError
from rnnkit.models.configs.language_model import LanguageModelConfig
from rnnkit.tasks.registry import TaskInfo

if TYPE_CHECKING:
    from rnnkit.text.tokenize import Tokenizer


@dataclass(frozen=True, kw_only=True)
class CharLMConfig:
    """A language-model run: data, vocabulary, model and chunking (trainer options apart).

    The defaults are the main job's: a 2-layer LSTM over Tiny Shakespeare characters. `model`
    is the LanguageModel's own config (`--model.hidden-size`, alias `--hidden-size`); its
    vocab_size is filled in from the data (`model_config`).
    """

    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {  # help groups of the flags
        "data": ("level", "lowercase", "min_freq", "max_chars", "val_fraction", "batch_size",
                 "seq_len"),
        "model": ("model",),
        "output": ("samples", "sample_length", "sample_temperature"),
    }  # fmt: skip

    level: Literal["char", "word"] = "char"  # tokens: characters (code points) or words
    lowercase: bool = False  # lower-case the text before tokenising
    min_freq: int = 1  # word level: rarer words become <unk>
    max_chars: int | None = None  # use only the first characters of the corpus; None: all
    val_fraction: float = 0.1  # held-out tail of the corpus for validation
    model: LanguageModelConfig = field(default_factory=LanguageModelConfig)  # E 64, H 256, L 2
    batch_size: int = 32  # B parallel streams
    seq_len: int = 50  # T steps per chunk (one update each, unless tbptt_k1 cuts it)
    samples: int = 3  # samples printed while training (at start, middle, end); 0: none
    sample_length: int = 200  # tokens per sample
    sample_temperature: float = 0.8  # τ of the printed samples

    def __post_init__(self) -> None:
        for name in ("batch_size", "seq_len", "min_freq", "sample_length"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 < self.val_fraction < 0.5:
            raise ConfigError(f"val_fraction must be in (0, 0.5), got {self.val_fraction}")
        if self.max_chars is not None and self.max_chars < 1:
            raise ConfigError(f"max_chars must be positive or None, got {self.max_chars}")
        if self.samples < 0:
            raise ConfigError(f"samples must be ≥ 0, got {self.samples}")

    def model_config(self, vocab_size: int) -> LanguageModelConfig:
        """The LanguageModel's config for a vocabulary of `vocab_size` tokens (the data's)."""
        return dataclasses.replace(self.model, vocab_size=vocab_size)

    def tokenizer(self) -> Tokenizer:
        """Characters (code points) or words, as `level` says."""
        from rnnkit.text.tokenize import Tokenizer

        return Tokenizer(kind=self.level, lowercase=self.lowercase)


# The main job's trainer defaults: Adam at 8e-3 with warm-up and cosine decay, a validation pass
# and a checkpoint every 300 updates; max_steps sized for about 3 minutes on 2 CPU cores.
# bench/README.md ("charlm.py") holds the calibration runs behind seq_len 50 and lr 8e-3.
TRAINER_DEFAULTS = {
    "max_steps": 1800,
    "lr": 8e-3,
    "schedule": "cosine",
    "warmup_steps": 50,
    "min_lr": 8e-4,
    "clip_norm": 5.0,
    "eval_every": 300,
    "checkpoint_every": 300,
    "log_every": 20,
}
TASK_NAME = "charlm"

# Registration (read by rnnkit.tasks): the module that builds the task, the function that
# loads a trained run of it (rnnkit.load, rnnkit serve).
BUILDER = "rnnkit.tasks.charlm.train"
LOADER = "rnnkit.tasks.charlm.train:load_language_model"

TASK_INFO = {
    TASK_NAME: TaskInfo(
        CharLMConfig,
        "character- or word-level language model (default: embedded Tiny Shakespeare)",
        TRAINER_DEFAULTS,
        builder=BUILDER,
        loader=LOADER,
        handlers={"generate": "rnnkit.tasks.charlm.cli:generate_language"},
    ),
}

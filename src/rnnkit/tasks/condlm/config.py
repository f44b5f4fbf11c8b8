"""CondLMConfig: the settings of a `rnnkit train condlm` run, and its trainer defaults.

This module imports no torch, so that `rnnkit train … --help` lists the flags quickly;
`rnnkit.tasks.condlm.train` builds and trains the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from rnnkit.errors import ConfigError
from rnnkit.models.configs.conditioned_decoder import ConditionedDecoderConfig
from rnnkit.tasks.registry import TaskInfo


def _decoder() -> ConditionedDecoderConfig:
    """The task's own decoder defaults: v enters every step and the output layer."""
    return ConditionedDecoderConfig(
        embed_dim=256, hidden_size=512, dropout=0.3, conditioning="every_step",
        condition_output=True,
    )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class CondLMConfig:
    """A conditional language model run: labelled texts, vocabulary and decoder (`model`, the
    ConditionedDecoder's own config; its vocabulary and condition size C come from the data)."""

    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {  # help groups of the flags
        "data": ("dataset", "min_freq", "max_tokens", "split_seed", "batch_size"),
        "model": ("model",),
    }  # fmt: skip

    dataset: Literal["rt_polarity", "sms_spam", "csv"] = "rt_polarity"  # csv: --data FILE
    min_freq: int = 2  # rarer words become <unk>
    max_tokens: int = 40  # longer texts are cut (their <eos> is kept)
    split_seed: int = 0  # seed of the held-out tenth (as `rnnkit train sentiment`'s folds)
    model: ConditionedDecoderConfig = field(default_factory=_decoder)  # every_step, p 0.3
    batch_size: int = 64  # B texts per update

    def __post_init__(self) -> None:
        for name in ("min_freq", "max_tokens", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")


# 15 epochs of the 9,595 training sentences (B = 64: 149 batches per epoch; fold 0 of the
# stratified 10 holds out 1,067).
TRAINER_DEFAULTS = {
    "max_steps": 2235,
    "lr": 2e-3,
    "clip_norm": 5.0,
    "eval_every": 447,
    "checkpoint_every": 447,
    "log_every": 50,
    "monitor": "val_loss",
    "monitor_mode": "min",
}

# Registration (read by rnnkit.tasks): the module that builds the task, the function that
# loads a trained run of it (rnnkit.load, rnnkit serve).
BUILDER = "rnnkit.tasks.condlm.train"
LOADER = "rnnkit.tasks.condlm.train:load_condlm"

TASK_INFO = {
    "condlm": TaskInfo(
        CondLMConfig,
        "text given a class (generation from a vector): sentence polarity, SMS or your CSV",
        TRAINER_DEFAULTS,
        builder=BUILDER,
        loader=LOADER,
        handlers={"generate": "rnnkit.tasks.condlm.cli:generate_from_class"},
    ),
}

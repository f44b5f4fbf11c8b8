"""MusicConfig: the settings of a `rnnkit train music` run, and its trainer defaults.

This module imports no torch, so that `rnnkit train … --help` lists the flags quickly;
`rnnkit.tasks.music.train` builds and trains the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from rnnkit.errors import ConfigError
from rnnkit.models.configs.pianoroll import PianoRollConfig
from rnnkit.tasks.registry import TaskInfo

PIANO_KEYS = 88  # P: the piano roll's pitches, A0 … C8


@dataclass(frozen=True, kw_only=True)
class MusicConfig:
    """A polyphonic-music run: the Bach chorales as piano rolls, and the next-frame model.

    The defaults follow Boulanger-Lewandowski et al. (2012) for JSB Chorales: quarter-note
    frames over the 88 piano keys, every chorale moved to C major or C minor.
    """

    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {  # help groups of the flags
        "data": ("step", "transpose", "max_pieces", "batch_size"),
        "model": ("model",),
    }

    step: Literal["quarter", "eighth"] = "quarter"  # Δ, the time step of one frame
    transpose: Literal["c", "none"] = "c"  # c: to C major / C minor; none: as written
    max_pieces: int | None = None  # read only the first chorale files by name; None: all
    batch_size: int = 16  # B chorales per update (padded to the longest)
    model: PianoRollConfig = field(default_factory=PianoRollConfig)  # H 128, L 1, LSTM

    def __post_init__(self) -> None:
        for name in ("batch_size",):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.max_pieces is not None and self.max_pieces < 3:
            raise ConfigError(
                f"max_pieces must be at least 3 (pieces for train, valid and test) or None, "
                f"got {self.max_pieces}"
            )

    @property
    def step_quarters(self) -> float:
        """Δ in quarter notes: 1.0 or 0.5."""
        return 1.0 if self.step == "quarter" else 0.5

    def model_config(self) -> PianoRollConfig:
        """The PianoRollModel's config over the 88 piano keys."""
        return dataclasses.replace(self.model, num_pitches=PIANO_KEYS)


# Adam 1e-2, cosine to η/10, clip 1; 600 updates of B = 16 chorales (about 40 passes over the
# 238 training chorales), validation every 100 (bench/music.py holds the run behind them).
TRAINER_DEFAULTS = {
    "max_steps": 600,
    "lr": 1e-2,
    "schedule": "cosine",
    "min_lr": 1e-3,
    "clip_norm": 1.0,
    "eval_every": 100,
    "checkpoint_every": 100,
    "log_every": 20,
}

# Registration (read by rnnkit.tasks): the module that builds the task, the function that
# loads a trained run of it (rnnkit.load, rnnkit serve).
BUILDER = "rnnkit.tasks.music.train"
LOADER = "rnnkit.tasks.music.train:load_music_model"

TASK_INFO = {
    "music": TaskInfo(
        MusicConfig,
        "polyphonic music: the Bach chorales of music21's corpus as piano rolls (needs music21)",
        TRAINER_DEFAULTS,
        builder=BUILDER,
        loader=LOADER,
        handlers={"generate": "rnnkit.tasks.music.cli:generate_music"},
    ),
}

"""MusicConfig: the settings of a `rnnkit train music` run, and its trainer defaults.

This module imports no torch, so that `rnnkit train … --help` lists the flags quickly;
`rnnkit.tasks.music.train` builds and trains the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from rnnkit.errors import ConfigError
from rnnkit.tasks.registry import TaskInfo

if TYPE_CHECKING:
    from rnnkit.models.pianoroll import PianoRollConfig


@dataclass(frozen=True, kw_only=True)
class MusicConfig:
    """A polyphonic-music run: the Bach chorales as piano rolls, and the next-frame model.

    The defaults follow Boulanger-Lewandowski et al. (2012) for JSB Chorales: quarter-note
    frames over the 88 piano keys, every chorale moved to C major or C minor.
    """

    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {  # help groups of the flags
        "data": ("step", "transpose", "max_pieces", "batch_size"),
        "model": ("cell", "hidden_size", "num_layers", "dropout"),
    }

    step: Literal["quarter", "eighth"] = "quarter"  # Δ, the time step of one frame
    transpose: Literal["c", "none"] = "c"  # c: to C major / C minor; none: as written
    max_pieces: int | None = None  # read only the first chorale files by name; None: all
    batch_size: int = 16  # B chorales per update (padded to the longest)
    cell: Literal["lstm", "gru", "rnn"] = "lstm"  # recurrent cell: LSTM, GRU or Elman
    hidden_size: int = 128  # H, hidden units per layer
    num_layers: int = 1  # L, stacked recurrent layers
    dropout: float = 0.0  # p between recurrent layers

    def __post_init__(self) -> None:
        for name in ("batch_size", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.max_pieces is not None and self.max_pieces < 3:
            raise ConfigError(
                f"max_pieces must be at least 3 (pieces for train, valid and test) or None, "
                f"got {self.max_pieces}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def step_quarters(self) -> float:
        """Δ in quarter notes: 1.0 or 0.5."""
        return 1.0 if self.step == "quarter" else 0.5

    def model_config(self) -> PianoRollConfig:
        """The PianoRollModel's config over the 88 piano keys."""
        from rnnkit.models.pianoroll import PianoRollConfig

        return PianoRollConfig(
            num_pitches=88, hidden_size=self.hidden_size, num_layers=self.num_layers,
            cell=self.cell, dropout=self.dropout,
        )  # fmt: skip


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
    ),
}

"""Polyphonic music on the Bach chorales: `rnnkit train music`, `rnnkit generate RUN --out x.mid`.

The chorales of music21's corpus become binary piano rolls (`rnnkit.datasets.chorales`: 88
keys, quarter-note frames, moved to C major / C minor, split by piece). A recurrent net reads
frames x_0 = 0, x_1, …, x_{T−1} and gives at each step a sigmoid per pitch for the next frame
(`rnnkit.models.PianoRollModel`); it is trained on whole chorales, B at a time, padded to the
longest and masked, by the frame-level negative log-likelihood L of `rnnkit.losses.frames`,
in nats per frame (time step), the unit of Boulanger-Lewandowski et al. (2012, Table 1). On
their JSB Chorales (382 chorales, quarter notes, in C; split 229 / 76 / 77) the test
log-likelihood per time step is −8.71 for their RNN, −6.27 for the RNN-RBM and −5.56 for the
RNN-NADE; coin flips score −88 log 2 = −61.00. The figures are quoted as Krishnan et al. (2017,
Table 3: RNN 8.71) and Huang et al. (2017, Table 2: NADE 7.19, RNN-RBM 6.27, RNN-NADE 5.56)
report them; our chorales and split are not theirs (see the reader), so they are a guide,
not a like-for-like comparison. The trivial
baseline is the per-pitch marginal: each key on with its training-frame frequency, whatever
came before (`marginal_nll`).

References:
    Boulanger-Lewandowski, Bengio & Vincent. Modeling Temporal Dependencies in
        High-Dimensional Sequences: Application to Polyphonic Music Generation and
        Transcription. ICML 2012.
    Krishnan, Shalit & Sontag. Structured Inference Networks for Nonlinear State Space
        Models. AAAI 2017.
    Huang, Cooijmans, Roberts, Courville & Eck. Counterpoint by Convolution. ISMIR 2017.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from rnnkit.config import config_from_dict, config_to_dict
from rnnkit.console import console
from rnnkit.datasets.chorales import (
    NUM_PITCHES,
    Chorale,
    default_cache_dir,
    load_chorales,
    music21_module,
    roll_notes,
    split_chorales,
    write_midi,
)
from rnnkit.errors import ConfigError, DataError
from rnnkit.losses.frames import frame_log_loss, frame_nll
from rnnkit.models.pianoroll import PianoRollConfig, PianoRollModel
from rnnkit.tasks.load import load_run
from rnnkit.tasks.music.config import TRAINER_DEFAULTS as TRAINER_DEFAULTS  # re-exported
from rnnkit.tasks.music.config import MusicConfig
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.training import BatchSource, FitResult, Objective, StepResult, TrainingSetup

# Boulanger-Lewandowski et al. 2012, Table 1, JSB Chorales: −log-likelihood per time step (nats)
PUBLISHED_NLL = {"coin flips": 61.00, "RNN": 8.71, "RNN-RBM": 6.27, "RNN-NADE": 5.56}


class FrameBatch(NamedTuple):
    """B chorales padded to the longest: inputs x_0 … x_{T−1}, targets x_1 … x_T, mask."""

    inputs: Tensor  # (B, T, P) float, x_0 = 0
    targets: Tensor  # (B, T, P) float
    mask: Tensor  # (B, T) bool, True on real frames


def collate_rolls(rolls: Sequence[Tensor]) -> FrameBatch:
    """Pad piano rolls (T_i, P) to the longest; each input is its roll shifted right by one.

    A padded step still reads the roll's last frame, but its target is masked out.

    >>> batch = collate_rolls([torch.ones(2, 3), torch.ones(1, 3)])
    >>> batch.inputs[:, :, 0].tolist(), batch.targets[:, :, 0].tolist(), batch.mask.tolist()
    ([[0.0, 1.0], [0.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]], [[True, True], [True, False]])
    """
    T, P = max(len(roll) for roll in rolls), rolls[0].shape[1]
    targets = torch.zeros(len(rolls), T, P)  # (B, T, P)
    mask = torch.zeros(len(rolls), T, dtype=torch.bool)  # (B, T)
    for row, roll in enumerate(rolls):
        targets[row, : len(roll)] = roll
        mask[row, : len(roll)] = True
    inputs = torch.cat([torch.zeros(len(rolls), 1, P), targets[:, :-1]], dim=1)  # (B, T, P)
    return FrameBatch(inputs, targets, mask)


class MusicObjective(Objective):
    """Frame-level NLL of the next frame (nats per frame), over the real frames only."""

    unit = "frame"
    loss_name, loss_unit = "negative log-likelihood", "nats"

    def loss(
        self, model: nn.Module, batch: FrameBatch, state: Any, *, loss_from: int = 0
    ) -> StepResult:
        """L over the frames t ≥ loss_from (each chorale starts from the zero state)."""
        inputs, targets, mask = batch
        logits, state = model(inputs, state)  # (B, T, P)
        mask = mask.clone()
        mask[:, :loss_from] = False
        return StepResult(frame_nll(logits, targets, mask), int(mask.sum()), state)


def read_splits(config: MusicConfig, data: Path | None) -> dict[str, list[Chorale]]:
    """The chorales as piano rolls, split by piece; DataError for an empty train or valid split."""
    if data is not None:
        raise ConfigError(
            f"the music task reads the Bach chorales of music21's corpus; --data {data} is not "
            "used (limit the pieces with --max-pieces)"
        )
    chorales = load_chorales(
        config.step_quarters, transpose=config.transpose == "c", max_pieces=config.max_pieces,
        cache_dir=default_cache_dir(),
    )  # fmt: skip
    splits = split_chorales(chorales)
    empty = [name for name, pieces in splits.items() if not pieces]
    if empty:
        raise DataError(
            f"the first {config.max_pieces} chorale files leave no piece for {empty}; raise "
            "--max-pieces (or drop it to read them all)"
        )
    return splits


def roll_tensors(chorales: Iterable[Chorale]) -> list[Tensor]:
    """Each chorale's roll as a float tensor (T, P)."""
    return [torch.from_numpy(chorale.roll.astype(np.float32)) for chorale in chorales]


def build(config: MusicConfig, *, data: Path | None, seed: int) -> TrainingSetup:
    """Model, shuffled batches of training chorales, and the validation chorales in order."""
    splits = read_splits(config, data)
    train, valid = roll_tensors(splits["train"]), roll_tensors(splits["valid"])
    batch_size = min(config.batch_size, len(train))
    train_data = BatchSource(train, batch_size, collate=collate_rolls, seed=seed)
    eval_data = BatchSource(valid, batch_size, collate=collate_rolls, shuffle=False,
                            drop_last=False)  # fmt: skip
    model = PianoRollModel(config.model_config())
    return TrainingSetup(
        model, MusicObjective(), train_data, eval_data,
        artifacts={
            "pianoroll": config_to_dict(model.config),
            "chorales": {
                "music21": music21_module().__version__, "step_quarters": config.step_quarters,
                "transpose": config.transpose,
                **{name: len(pieces) for name, pieces in splits.items()},
                "train_frames": int(sum(len(roll) for roll in train)),
            },
        },
    )  # fmt: skip


@torch.no_grad()
def split_nll(model: PianoRollModel, chorales: Sequence[Chorale], batch_size: int = 32) -> float:
    """The model's mean NLL per frame (nats) over every frame of `chorales`."""
    model.eval()
    total, frames = 0.0, 0
    rolls = roll_tensors(chorales)
    for start in range(0, len(rolls), batch_size):
        inputs, targets, mask = collate_rolls(rolls[start : start + batch_size])
        logits, _ = model(inputs)  # (B, T, P)
        total += float(frame_log_loss(logits, targets)[mask].sum())
        frames += int(mask.sum())
    return total / max(frames, 1)


def marginal_nll(train: Sequence[Chorale], chorales: Sequence[Chorale]) -> float:
    """NLL per frame (nats) of the per-pitch marginal baseline fitted on `train`.

    q_p = (n_p + 1) / (N + 2), the add-one frequency of key p over the N training frames;
    each frame scores −Σ_p [x_p log q_p + (1 − x_p) log(1 − q_p)].
    """
    frames = np.concatenate([c.roll for c in train]).astype(np.float64)  # (N, P)
    q = (frames.sum(axis=0) + 1.0) / (len(frames) + 2.0)  # q_p (P,)
    held = np.concatenate([c.roll for c in chorales]).astype(np.float64)  # (M, P)
    log_likelihood = held @ np.log(q) + (1.0 - held) @ np.log1p(-q)  # (M,)
    return float(-log_likelihood.mean())


class LoadedMusicModel(NamedTuple):
    """A trained next-frame model in eval mode, its run's settings and checkpoint."""

    model: PianoRollModel
    config: MusicConfig
    checkpoint: Path

    def generate(
        self, frames: int = 64, *, temperature: float = 1.0, seed: int | None = None
    ) -> np.ndarray:
        """A new piano roll (frames, 88) bool, sampled frame by frame from x_0 = 0."""
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        sampled = self.model.sample(frames, temperature=temperature, generator=generator)
        return sampled.numpy().astype(bool)  # (frames, P)

    def write(
        self, roll: np.ndarray, out: str | Path, *, title: str = "sample"
    ) -> tuple[Path, Path]:
        """The roll as MIDI at `out` and as a piano-roll PNG beside it (same name, .png)."""
        from rnnkit.analysis.pianoroll_plot import plot_piano_roll  # matplotlib when drawing

        step = self.config.step_quarters
        midi = write_midi(roll, out, step)
        picture = plot_piano_roll(Path(out).with_suffix(".png"), roll, step=step, title=title)
        return midi, picture


def load_music_model(
    run_dir: str | Path, *, checkpoint: str = DEFAULT_CHECKPOINT
) -> LoadedMusicModel:
    """The model of a `music` run at a checkpoint ("best": the best on validation, else the
    latest; "latest"; or a path)."""
    run = load_run(
        run_dir, lambda config: PianoRollModel(
            config_from_dict(PianoRollConfig, config["pianoroll"])),
        tasks=("music",), needs="pianoroll", what="a music", checkpoint=checkpoint,
    )  # fmt: skip
    task_config = config_from_dict(MusicConfig, run.config["task_config"])
    return LoadedMusicModel(run.model, task_config, run.checkpoint)


def report(run_dir: Path, result: FitResult) -> None:
    """After training: validation and test NLL per frame beside the baseline and the paper's."""
    loaded = load_music_model(run_dir)
    splits = read_splits(loaded.config, None)
    rows = {
        f"{loaded.model.config.cell.upper()} (this run)": [
            split_nll(loaded.model, splits[name]) for name in ("valid", "test")
        ],
        "per-pitch marginal": [
            marginal_nll(splits["train"], splits[name]) for name in ("valid", "test")
        ],
    }
    console.print(f"[bold]negative log-likelihood per frame (nats), {len(splits['train'])} "
                  f"training chorales, {loaded.checkpoint.name}[/]")  # fmt: skip
    console.print(f"  {'model':<40}{'valid':>8}{'test':>8}", markup=False)
    for label, (valid, test) in rows.items():
        console.print(f"  {label:<40}{valid:8.2f}{test:8.2f}", markup=False)
    for label, value in PUBLISHED_NLL.items():
        console.print(f"  {'JSB, B-L et al. 2012: ' + label:<40}{'':>8}{value:8.2f}", markup=False)
    roll = loaded.generate(64, seed=0)
    midi, picture = loaded.write(roll, run_dir / "samples" / "sample.mid", title=f"{run_dir.name}")
    console.print(f"a 64-frame sample: {midi} ({len(roll_notes(roll))} notes), {picture}")
    console.print(f"sample more with:\n  rnnkit generate {run_dir} --out chorale.mid")


__all__ = [
    "NUM_PITCHES",
    "PUBLISHED_NLL",
    "FrameBatch",
    "LoadedMusicModel",
    "MusicConfig",
    "MusicObjective",
    "build",
    "collate_rolls",
    "load_music_model",
    "marginal_nll",
    "split_nll",
]

"""Piano rolls for the web API: key names, the MIDI file as bytes, the served checkpoint's NLL.

A music run's answer (`rnnkit.web.adapters.MusicAdapter`) carries the sampled roll (T, 88), the
names of its 88 keys for the page's axis (scientific pitch notation: MIDI 60 is C4, 21 is A0),
and the roll as a standard MIDI file, made by the reader's own `midi_bytes`
(`rnnkit.datasets.chorales`, which `write_midi` writes to disk) and sent base64 in the JSON,
so the page offers it for download without a second request or a file kept on the server.

References:
    The MIDI Association. Standard MIDI Files 1.0 (RP-001), 1996.
    Acoustical Society of America. ANSI S1.1-2013 (scientific pitch notation: C4 = MIDI 60).
"""

from __future__ import annotations

import base64
import math
from pathlib import Path

import numpy as np

from rnnkit.datasets.chorales import LOWEST_PITCH, NUM_PITCHES, midi_bytes
from rnnkit.errors import CheckpointError
from rnnkit.training.checkpoint import read_checkpoint

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def pitch_name(midi: int) -> str:
    """The name of MIDI pitch `midi` in scientific pitch notation (octaves start at C).

    >>> pitch_name(21), pitch_name(60), pitch_name(61), pitch_name(108)
    ('A0', 'C4', 'C#4', 'C8')
    """
    return f"{PITCH_CLASSES[midi % 12]}{midi // 12 - 1}"


def key_names() -> list[str]:
    """The names of the piano roll's 88 keys, p = 0 … 87: A0 … C8."""
    return [pitch_name(LOWEST_PITCH + p) for p in range(NUM_PITCHES)]


def midi_base64(roll: np.ndarray, step_quarters: float) -> str:
    """The roll (T, 88) as a standard MIDI file (`midi_bytes`: one note per run of on-frames,
    Δ = `step_quarters` quarter notes a frame), base64-encoded; nothing is written to disk."""
    return base64.b64encode(midi_bytes(roll, step_quarters)).decode("ascii")


def checkpoint_metric(checkpoint: Path, name: str) -> float | None:
    """The validation metric `name` that the checkpoint's state.json records for its weights
    (e.g. val_loss, a music run's NLL per frame in nats), or None when it records none, it is
    not finite, or the folder is not a checkpoint (an `rnnkit export` folder)."""
    try:
        metrics = read_checkpoint(checkpoint).state.get("metrics")
    except CheckpointError:
        return None
    value = metrics.get(name) if isinstance(metrics, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


__all__ = ["PITCH_CLASSES", "checkpoint_metric", "key_names", "midi_base64", "pitch_name"]

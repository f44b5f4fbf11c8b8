"""The Bach chorales of music21's corpus as piano rolls, split by piece, and piano rolls as MIDI.

Source: the `music21` wheel (`pip install 'rnnkit[music]'`, music21 ≥ 10.5, BSD-3-Clause) ships
its corpus inside the package; music21/corpus/bach holds 433 files, of which 413 are scores
(.mxl, .xml, .krn; the other 20 are roman-numeral analyses). Its corpus/license.txt: the
encodings are distributed with the encoders' permission, each work out of US copyright or
licensed for use.

What becomes a chorale (`chorale_paths`, `voice_parts`):
    - each score file once: bwv277, bwv281 and bwv366 come as .krn and .mxl, the .mxl is kept;
    - the four voices only: a score of exactly four parts is taken whole; in a larger one the
      parts named Soprano…, Alto…, Tenor…, Bass… are kept and the instruments (horns, timpani,
      continuo, …) dropped; a score without exactly one of each is left out (bwv227.3 and
      bwv27.6 have five voices, bwv846 is the C major prelude for keyboard). That leaves 407
      chorales of music21 10.5.0 (410 names), split 238 / 83 / 86 by the rule below.

The piano roll (`piano_roll`), as Boulanger-Lewandowski et al. (2012) lay out JSB Chorales:

    x_t[p] = 1  if a voice sounds MIDI pitch 21 + p at time t·Δ, else 0    p = 0 … 87

a binary frame over the 88 piano keys A0 … C8 at a fixed step Δ (a quarter note, as their JSB
Chorales; or an eighth note), sampled at each frame's start: a note held over several frames is
on in each, a note shorter than Δ that starts and ends between two frame starts is dropped, and
a repeated note is indistinguishable from a held one. Transposition policy (theirs): every
chorale is moved to tonic C, major to C major and minor to C minor, by the smallest shift
(−6 … +5 semitones) from the key music21's Krumhansl–Schmuckler analysis finds
(`Score.analyze('key')`); `transpose="none"` keeps the written keys.

Split by piece (`split_of`): a chorale's split depends on its name alone — sha256(name) mod 100
< 60 is train, < 80 validation, else test — so it is deterministic and never changes when
pieces are added; Boulanger-Lewandowski et al. split their 382 chorales 229 / 76 / 77.

References:
    Boulanger-Lewandowski, Bengio & Vincent. Modeling Temporal Dependencies in
        High-Dimensional Sequences: Application to Polyphonic Music Generation and
        Transcription. ICML 2012.
    Cuthbert & Ariza. music21: A Toolkit for Computer-Aided Musicology and Symbolic Music
        Data. ISMIR 2010. https://www.music21.org/music21docs/
    Krumhansl. Cognitive Foundations of Musical Pitch. Oxford University Press, 1990.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

from rnnkit.errors import DataError, ShapeError

logger = logging.getLogger(__name__)

LOWEST_PITCH = 21  # MIDI A0, pitch index p = 0
NUM_PITCHES = 88  # P, the piano's keys A0 … C8 (MIDI 21 … 108)
STEPS: dict[str, float] = {"quarter": 1.0, "eighth": 0.5}  # Δ in quarter notes
VOICES = ("soprano", "alto", "tenor", "bass")
SCORE_SUFFIXES = (".mxl", ".xml", ".krn")  # preferred in this order for a name given twice
Split = Literal["train", "valid", "test"]
INSTALL_HINT = "install it with `pip install 'rnnkit[music]'` (music21>=10.5)"
EPSILON = 1e-6  # offsets are fractions of a quarter; compare them with this slack
CACHE_VERSION = 1  # bump when the reading rules change: older caches are then not read


class Chorale(NamedTuple):
    """One chorale: its name (bwv66.6), piano roll (T, 88) bool and transposition."""

    name: str
    roll: np.ndarray  # (T, P) bool
    shift: int  # semitones added to every pitch (0 with transpose="none")
    key: str  # the key found before transposing, e.g. "f# minor"


def music21_module() -> Any:
    """music21, imported; DataError with the install line when it is missing."""
    try:
        import music21
    except ImportError as err:
        raise DataError(f"the Bach chorales come from the music21 package; {INSTALL_HINT}") from err
    return music21


def chorale_paths() -> list[Path]:
    """The score files of music21's corpus/bach, one per name, sorted by name."""
    music21 = music21_module()
    by_name: dict[str, Path] = {}
    for path in sorted(music21.corpus.getComposer("bach")):
        path = Path(path)
        if path.suffix not in SCORE_SUFFIXES:
            continue
        kept = by_name.get(path.stem)
        if kept is None or SCORE_SUFFIXES.index(path.suffix) < SCORE_SUFFIXES.index(kept.suffix):
            by_name[path.stem] = path
    return [by_name[name] for name in sorted(by_name)]


def voice_parts(score: Any) -> list[Any] | None:
    """The soprano, alto, tenor and bass parts of a score; None when it has not one of each."""
    parts = list(score.parts)
    if len(parts) == 4:
        return parts
    chosen = []
    for voice in VOICES:
        named = [p for p in parts if (p.partName or "").strip().lower().startswith(voice)]
        if len(named) != 1:
            return None
        chosen.append(named[0])
    return chosen


def tonic_shift(tonic_pitch_class: int) -> int:
    """Semitones that move a tonic (pitch class, C = 0) to C by the smallest step, in −6 … +5.

    Major and minor keys alike: G major goes up 5 to C major, D minor down 2 to C minor.

    >>> tonic_shift(7), tonic_shift(2), tonic_shift(6), tonic_shift(0)
    (5, -2, -6, 0)
    """
    return (-tonic_pitch_class + 6) % 12 - 6


def piano_roll(
    notes: Sequence[tuple[float, float, int]], step: float, *, shift: int = 0, name: str = "?"
) -> np.ndarray:
    """Binary frames (T, 88) from (onset, duration, MIDI pitch) triples in quarter notes.

    x_t[p] = 1 when some note has onset ≤ t·Δ < onset + duration and pitch + shift = 21 + p.

    >>> roll = piano_roll([(0.0, 2.0, 60), (1.0, 0.5, 64), (1.5, 1.5, 67)], 1.0)
    >>> roll.shape, [np.flatnonzero(frame).tolist() for frame in roll]
    ((3, 88), [[39], [39, 43], [46]])
    """
    if not notes:
        raise DataError(f"{name}: no notes to make a piano roll of")
    end = max(onset + duration for onset, duration, _ in notes)
    roll = np.zeros((max(1, math.ceil(end / step - EPSILON)), NUM_PITCHES), dtype=bool)  # (T, P)
    for onset, duration, pitch in notes:
        index = pitch + shift - LOWEST_PITCH  # p
        if not 0 <= index < NUM_PITCHES:
            raise DataError(f"{name}: MIDI pitch {pitch + shift} is off the 88 keys 21 … 108")
        first = math.ceil(onset / step - EPSILON)  # first frame start at or after the onset
        stop = math.ceil((onset + duration) / step - EPSILON)  # frames starting before the end
        roll[first:stop, index] = True
    return roll


def read_chorale(path: str | Path, step: float = 1.0, *, transpose: bool = True) -> Chorale | None:
    """One chorale file as a piano roll; None when it is not four voices (see `voice_parts`)."""
    music21 = music21_module()
    path = Path(path)
    score = music21.converter.parse(str(path))
    parts = voice_parts(score)
    if parts is None:
        logger.info("%s: not four voices (%d parts), left out", path.name, len(score.parts))
        return None
    notes = []
    for part in parts:
        for element in part.flatten().notes:  # Notes and Chords; grace notes have duration 0
            onset, duration = float(element.offset), float(element.quarterLength)
            if duration <= 0:
                continue
            notes.extend((onset, duration, pitch.midi) for pitch in element.pitches)
    key = score.analyze("key")
    shift = tonic_shift(key.tonic.pitchClass) if transpose else 0
    roll = piano_roll(notes, step, shift=shift, name=path.name)
    return Chorale(path.stem, roll, shift, str(key))


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/rnnkit (default ~/.cache/rnnkit): parsed chorales are kept there."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rnnkit"


def _cache_file(cache_dir: Path, step: float, transpose: bool) -> Path:
    version = music21_module().__version__
    key = "c" if transpose else "as-written"
    return cache_dir / f"chorales-v{CACHE_VERSION}-music21-{version}-step{step:g}-{key}.npz"


def load_chorales(
    step: float = 1.0,
    *,
    transpose: bool = True,
    max_pieces: int | None = None,
    cache_dir: Path | None = None,
) -> list[Chorale]:
    """Every chorale (or the first `max_pieces` files by name), as piano rolls.

    Reading all 413 files takes about half a minute; with `cache_dir` (or the default cache)
    the rolls are written once to an .npz named after the music21 version, Δ and the
    transposition, and read from it afterwards. A cache that cannot be written is skipped.
    """
    if step not in STEPS.values():
        raise DataError(f"step must be one of {sorted(STEPS.values())} quarter notes, got {step}")
    paths = chorale_paths()
    if max_pieces is not None:
        paths = paths[:max_pieces]
    cache = None if cache_dir is None else _cache_file(cache_dir, step, transpose)
    if cache is not None and cache.is_file():
        chorales = _read_cache(cache)
        wanted = {path.stem for path in paths}
        return [chorale for chorale in chorales if chorale.name in wanted]
    chorales = [c for path in paths if (c := read_chorale(path, step, transpose=transpose))]
    if cache is not None and max_pieces is None:
        _write_cache(cache, chorales)
    return chorales


def _write_cache(path: Path, chorales: Sequence[Chorale]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial.npz")
        np.savez_compressed(
            partial,
            names=np.array([c.name for c in chorales]),
            keys=np.array([c.key for c in chorales]),
            shifts=np.array([c.shift for c in chorales], dtype=np.int64),
            lengths=np.array([len(c.roll) for c in chorales], dtype=np.int64),
            frames=np.concatenate([c.roll for c in chorales]),  # (ΣT, P)
        )
        os.replace(partial, path)
    except OSError as err:  # a read-only home: parse again next time
        logger.info("could not cache the chorales at %s: %s", path, err)


def _read_cache(path: Path) -> list[Chorale]:
    with np.load(path, allow_pickle=False) as data:
        bounds = np.cumsum(np.concatenate([[0], data["lengths"]]))
        frames = data["frames"].astype(bool)
        return [
            Chorale(str(name), frames[start:stop], int(shift), str(key))
            for name, key, shift, start, stop in zip(
                data["names"], data["keys"], data["shifts"], bounds[:-1], bounds[1:], strict=True
            )
        ]


def split_of(name: str) -> Split:
    """A piece's split from its name alone: sha256 mod 100 < 60 train, < 80 valid, else test.

    >>> [split_of(name) for name in ("bwv66.6", "bwv1.6", "bwv10.7")]
    ['test', 'train', 'train']
    """
    bucket = int(hashlib.sha256(name.encode("utf-8")).hexdigest(), 16) % 100
    return "train" if bucket < 60 else "valid" if bucket < 80 else "test"


def split_chorales(chorales: Sequence[Chorale]) -> dict[Split, list[Chorale]]:
    """{"train": […], "valid": […], "test": […]} by `split_of`, each in name order."""
    splits: dict[Split, list[Chorale]] = {"train": [], "valid": [], "test": []}
    for chorale in chorales:
        splits[split_of(chorale.name)].append(chorale)
    return splits


def roll_notes(roll: np.ndarray) -> list[tuple[int, int, int]]:
    """The notes of a piano roll as (first frame, frames held, MIDI pitch), by onset then pitch.

    A run of consecutive on-frames of one pitch is one note.

    >>> roll = np.zeros((4, 88), dtype=bool)
    >>> roll[0:2, 39] = roll[3, 39] = roll[1:4, 43] = True
    >>> roll_notes(roll)
    [(0, 2, 60), (1, 3, 64), (3, 1, 60)]
    """
    if roll.ndim != 2 or roll.shape[1] != NUM_PITCHES:
        raise ShapeError(f"a piano roll must be (T, {NUM_PITCHES}); got {roll.shape}")
    notes = []
    padded = np.pad(roll.astype(np.int8), ((1, 1), (0, 0)))  # (T + 2, P)
    changes = np.diff(padded, axis=0)  # (T + 1, P): +1 at an onset, −1 after the last frame
    for index in range(NUM_PITCHES):
        starts = np.flatnonzero(changes[:, index] == 1)
        stops = np.flatnonzero(changes[:, index] == -1)
        pitch = LOWEST_PITCH + index
        notes += [(int(a), int(b - a), pitch) for a, b in zip(starts, stops, strict=True)]
    return sorted(notes)


def _variable_length(value: int) -> bytes:
    """A MIDI variable-length quantity: 7 bits a byte, high bit set on all but the last.

    >>> _variable_length(0).hex(), _variable_length(480).hex(), _variable_length(0x4000).hex()
    ('00', '8360', '818000')
    """
    groups = [value & 0x7F]
    while value > 0x7F:
        value >>= 7
        groups.append(0x80 | (value & 0x7F))
    return bytes(reversed(groups))


def write_midi(roll: np.ndarray, path: str | Path, step: float = 1.0, *, tempo: int = 80) -> Path:
    """Write a piano roll (T, 88) as a standard MIDI file (`midi_bytes`); returns the path.

    The file's folder is created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(midi_bytes(roll, step, tempo=tempo))
    return path


def midi_bytes(roll: np.ndarray, step: float = 1.0, *, tempo: int = 80) -> bytes:
    """A piano roll (T, 88) as the bytes of a standard MIDI file (format 0, one track, piano).

    Each run of consecutive on-frames of a pitch is one note (`roll_notes`), so a repeated
    note comes out held. The file is written byte by byte: header chunk MThd (format 0, one
    track, 480 ticks per quarter note), then the track chunk MTrk: the tempo, the piano
    program, note-on / note-off events (velocity 80) at their delta times, end of track.

    Args:
        roll: binary frames (T, 88), pitch index p being MIDI pitch 21 + p.
        step: Δ, quarter notes per frame.
        tempo: quarter notes per minute.

    References:
        The MIDI Association. Standard MIDI Files 1.0 (RP-001), 1996.
    """
    ticks = 480  # per quarter note
    events = []  # (tick, 0 = off before 1 = on, pitch)
    for first, frames, pitch in roll_notes(np.asarray(roll, dtype=bool)):
        events.append((round(first * step * ticks), 1, pitch))
        events.append((round((first + frames) * step * ticks), 0, pitch))
    track = bytearray(b"\x00\xff\x51\x03" + (60_000_000 // tempo).to_bytes(3, "big"))  # μs / ♩
    track += b"\x00\xc0\x00"  # program change, channel 1: acoustic grand piano
    now = 0
    for tick, on, pitch in sorted(events):
        track += _variable_length(tick - now) + bytes(
            [0x90 if on else 0x80, pitch, 80 if on else 0]
        )
        now = tick
    track += b"\x00\xff\x2f\x00"  # end of track
    header = b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big")
    header += ticks.to_bytes(2, "big")
    return header + b"MTrk" + len(track).to_bytes(4, "big") + bytes(track)


def read_midi_roll(path: str | Path, step: float = 1.0) -> np.ndarray:
    """A MIDI file back as a piano roll (T, 88), by the same frame rule as `piano_roll`.

    The events are read with music21's own MIDI parser (`music21.midi.MidiFile`), not its
    score translation (which splits long notes into tied pieces at bar lines): a note runs
    from its note-on to the next note-off (or note-on of velocity 0) of the same pitch.
    """
    music21 = music21_module()
    midi_file = music21.midi.MidiFile()
    midi_file.open(str(path))
    try:
        midi_file.read()
    finally:
        midi_file.close()
    per_quarter = midi_file.ticksPerQuarterNote
    notes, sounding = [], {}  # (onset, duration, pitch); pitch -> onset tick
    for track in midi_file.tracks:
        tick = 0
        for event in track.events:
            if isinstance(event, music21.midi.DeltaTime):
                tick += event.time
            elif event.type in (0x90, 0x80) and event.pitch is not None:
                if event.type == 0x90 and event.velocity > 0:
                    sounding.setdefault(event.pitch, tick)
                elif event.pitch in sounding:
                    onset = sounding.pop(event.pitch)
                    notes.append((onset / per_quarter, (tick - onset) / per_quarter, event.pitch))
    return piano_roll(notes, step, name=Path(path).name)


__all__ = [
    "LOWEST_PITCH",
    "NUM_PITCHES",
    "STEPS",
    "Chorale",
    "chorale_paths",
    "default_cache_dir",
    "load_chorales",
    "midi_bytes",
    "piano_roll",
    "read_chorale",
    "read_midi_roll",
    "roll_notes",
    "split_chorales",
    "split_of",
    "tonic_shift",
    "voice_parts",
    "write_midi",
]

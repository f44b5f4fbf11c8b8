"""The chorale reader on music21's real corpus files: counts, frames by hand, split, MIDI."""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnkit.datasets import chorales
from rnnkit.datasets.chorales import (
    LOWEST_PITCH,
    NUM_PITCHES,
    chorale_paths,
    load_chorales,
    piano_roll,
    read_chorale,
    read_midi_roll,
    roll_notes,
    split_chorales,
    split_of,
    write_midi,
)
from rnnkit.errors import DataError, ShapeError

# bwv66.6 ("Christ unser Herr zum Jordan kam"), f# minor, from its MusicXML by hand: the MIDI
# pitches sounding at each quarter note of the pickup and the first two bars (S, A, T, B; the
# tenor and bass share A3 on beats 0, 3 and 5).
BWV66_6_QUARTERS = [
    {73, 64, 57},  # C#5 E4 A3 A3 (pickup; the soprano's B4 and bass's G#3 fall between frames)
    {69, 66, 61, 54},  # A4 F#4 C#4 F#3
    {71, 64, 59, 56},  # B4 E4 B3 G#3
    {73, 64, 57},  # C#5 E4 A3 A3
    {76, 64, 59, 56},  # E5 E4 B3 G#3
    {73, 64, 57},  # C#5 E4 A3 A3
    {71, 68, 64, 52},  # B4 G#4 E4 E3
    {69, 64, 61, 45},  # A4 E4 C#4 A2
]


def pitches(frame: np.ndarray) -> set[int]:
    return {LOWEST_PITCH + int(p) for p in np.flatnonzero(frame)}


@pytest.fixture(scope="module")
def bwv66_6() -> Path:
    return next(path for path in chorale_paths() if path.stem == "bwv66.6")


def test_the_corpus_holds_the_chorale_files() -> None:
    import music21

    files = music21.corpus.getComposer("bach")
    assert len(files) == 433  # music21 10.5: 408 .mxl, 2 .xml, 3 .krn and 20 .rntxt analyses
    paths = chorale_paths()
    assert len(paths) == 410  # score files, bwv277/281/366 once (as .mxl)
    assert collections.Counter(path.suffix for path in paths) == {".mxl": 408, ".xml": 2}
    assert [path.stem for path in paths] == sorted(path.stem for path in paths)


def test_first_bars_of_bwv66_6_match_the_score_by_hand(bwv66_6: Path) -> None:
    chorale = read_chorale(bwv66_6, 1.0, transpose=False)
    assert chorale is not None
    assert (chorale.name, chorale.key, chorale.shift) == ("bwv66.6", "f# minor", 0)
    assert chorale.roll.shape == (36, NUM_PITCHES)  # 9 bars of 4/4, pickup included
    assert chorale.roll.dtype == bool
    assert [pitches(frame) for frame in chorale.roll[:8]] == BWV66_6_QUARTERS


def test_transposition_moves_the_tonic_to_c(bwv66_6: Path) -> None:
    written = read_chorale(bwv66_6, 1.0, transpose=False)
    moved = read_chorale(bwv66_6, 1.0, transpose=True)
    assert moved.shift == -6  # F# down a tritone to C (the smaller of −6 and +6)
    assert [pitches(frame) for frame in moved.roll[:8]] == [
        {pitch - 6 for pitch in frame} for frame in BWV66_6_QUARTERS
    ]
    assert np.array_equal(np.roll(written.roll, -6, axis=1)[:, :-6], moved.roll[:, :-6])


def test_eighth_note_frames_double_the_rate(bwv66_6: Path) -> None:
    quarter = read_chorale(bwv66_6, 1.0, transpose=False).roll
    eighth = read_chorale(bwv66_6, 0.5, transpose=False).roll
    assert len(eighth) == 2 * len(quarter) == 72
    assert np.array_equal(eighth[::2], quarter)  # the on-beat frames are the same
    assert pitches(eighth[1]) == {71, 64, 59, 56}  # B4 (S), E4 held (A), B3 (T), G#3 (B)
    assert pitches(eighth[11]) == {73, 69, 64, 49}  # C#5 held, A4, E4, C#3


def test_instrument_parts_are_dropped_and_five_voices_left_out() -> None:
    import music21

    by_name = {path.stem: path for path in chorale_paths()}
    with_horn = music21.converter.parse(str(by_name["bwv1.6"]))  # Horn 2 + S A T B
    assert [p.partName for p in chorales.voice_parts(with_horn)] == [
        "Soprano", "Alto", "Tenor", "Bass",
    ]  # fmt: skip
    assert read_chorale(by_name["bwv27.6"]) is None  # Soprano 1, Soprano 2, A, T, B
    assert read_chorale(by_name["bwv846"]) is None  # the keyboard prelude


def test_frames_sample_each_frame_start() -> None:
    roll = piano_roll([(0.0, 1.5, 60), (0.25, 0.5, 62), (2.0, 1.0, 108)], 1.0)
    assert [pitches(frame) for frame in roll] == [{60}, {60}, {108}]  # D4 falls between frames
    with pytest.raises(DataError, match="off the 88 keys"):
        piano_roll([(0.0, 1.0, 20)], 1.0, name="low.mxl")
    with pytest.raises(DataError, match="no notes"):
        piano_roll([], 1.0)


def test_split_is_by_piece_deterministic_and_near_60_20_20() -> None:
    names = [path.stem for path in chorale_paths()]
    first = [split_of(name) for name in names]
    assert first == [split_of(name) for name in names]  # the name alone decides
    counts = collections.Counter(first)
    assert counts == {"train": 240, "valid": 83, "test": 87}  # 410 names; 407 are four voices
    fake = [chorales.Chorale(name, np.zeros((1, NUM_PITCHES), bool), 0, "C major")
            for name in names]  # fmt: skip
    splits = split_chorales(fake)
    assert sum(len(pieces) for pieces in splits.values()) == len(names)
    assert not {c.name for c in splits["train"]} & {c.name for c in splits["test"]}


def test_midi_round_trip_keeps_the_roll(bwv66_6: Path, tmp_path: Path) -> None:
    roll = read_chorale(bwv66_6, 1.0).roll
    path = write_midi(roll, tmp_path / "out" / "bwv66.6.mid")
    assert path.read_bytes()[:4] == b"MThd"
    assert np.array_equal(read_midi_roll(path, 1.0), roll)
    import music21

    notes = music21.converter.parse(str(path)).flatten().notes  # its score reading ties
    assert {p.midi for n in notes for p in n.pitches} == {pitch for *_, pitch in roll_notes(roll)}
    assert sum(len(n.pitches) for n in notes) >= len(roll_notes(roll)) == 89  # long notes tied


def test_roll_notes_refuses_a_roll_of_the_wrong_width() -> None:
    with pytest.raises(ShapeError, match=r"\(T, 88\)"):
        roll_notes(np.zeros((3, 12), bool))


def test_missing_music21_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "music21", None)
    with pytest.raises(DataError, match=r"rnnkit\[music\]"):
        chorale_paths()


def test_a_step_other_than_quarter_or_eighth_is_refused() -> None:
    with pytest.raises(DataError, match="step must be one of"):
        load_chorales(0.25)


@pytest.mark.slow
def test_every_chorale_reads_with_its_range_and_cache(tmp_path: Path) -> None:
    read = load_chorales(1.0, cache_dir=tmp_path)
    assert len(read) == 407
    assert len(list(tmp_path.glob("chorales-*.npz"))) == 1
    cached = load_chorales(1.0, cache_dir=tmp_path)
    assert [c.name for c in cached] == [c.name for c in read]
    assert all(np.array_equal(a.roll, b.roll) for a, b in zip(cached, read, strict=True))
    frames = np.concatenate([c.roll for c in read])  # (ΣT, P)
    used = np.flatnonzero(frames.any(axis=0)) + LOWEST_PITCH
    assert (used.min(), used.max()) == (31, 84)  # G1 … C6 once in C major / C minor
    assert len(frames) == 23045  # quarter-note frames
    assert {c.shift for c in read} <= set(range(-6, 6))
    assert collections.Counter(split_of(c.name) for c in read) == {
        "train": 238, "valid": 83, "test": 86,
    }  # fmt: skip

"""Japanese Vowels: speaker identification from LPC cepstra of spoken vowels (UCI), via sktime.

Nine Japanese men each said the vowels /ae/ (one after the other); each utterance became a
series of 7-29 frames of 12 LPC cepstrum coefficients (12-degree linear prediction analysis,
sampled at 10 kHz, 25.6 ms frames every 6.4 ms). The task is to name the speaker (classes
1-9) from the whole series. UCI's split: 270 training utterances (30 per speaker) and 370
test utterances (24-88 per speaker), recorded at different times.

This is real speech, but speaker identification, not speech recognition: every utterance says
the same vowels, so it carries no phoneme or word labels for framewise tagging (Graves &
Schmidhuber 2005 used TIMIT, which no registry package ships).

Source: the sktime wheel (BSD-3-Clause; 8.2 MB, version 1.2.0 checked) ships UCI's split as
`sktime/datasets/data/JapaneseVowels/JapaneseVowels_{TRAIN,TEST}.ts` (also in aeon's wheel,
`aeon/datasets/data/JapaneseVowels/`). The data set itself is from the UCI Machine Learning
Repository (CC BY 4.0), donated by Kudo, Toyama & Shimbo. This module reads the files where
the package is installed without importing the package (`importlib.util.find_spec`).

The `.ts` format (sktime / the UEA-UCR archive): `#` comment lines, `@key value` header lines
up to `@data`, then one case a line: each dimension's comma-separated values, dimensions
separated by `:`, and the class label last.

References:
    Kudo, Toyama & Shimbo. Multidimensional Curve Classification Using Passing-Through
        Regions. Pattern Recognition Letters 20(11-13), 1999.
    Bagnall, Dau, Lines et al. The UEA Multivariate Time Series Classification Archive, 2018.
        arXiv:1811.00075 (the .ts files).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from rnnkit.errors import DataError

NUM_FEATURES = 12  # LPC cepstrum coefficients per frame
NUM_SPEAKERS = 9
PACKAGES = ("sktime", "aeon")  # wheels that ship datasets/data/JapaneseVowels/*.ts
Split = Literal["train", "test"]


@dataclass(frozen=True)
class LabelledSeries:
    """Variable-length multivariate series (each (T_i, F) float64) and their class labels."""

    series: list[np.ndarray]
    labels: list[str]
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.series)

    def padded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Right-padded values (N, T_max, F) with zeros, lengths (N,), class ids (N,)."""
        lengths = np.array([len(s) for s in self.series], dtype=np.int64)
        F = self.series[0].shape[1] if self.series else 0
        values = np.zeros((len(self), int(lengths.max(initial=0)), F))
        for i, s in enumerate(self.series):
            values[i, : len(s)] = s
        ids = np.array([self.class_names.index(c) for c in self.labels], dtype=np.int64)
        return values, lengths, ids


def parse_ts(text: str, *, source: str = "<ts>") -> LabelledSeries:
    """Parse a classification `.ts` file (no timestamps) into series of shape (T_i, dims)."""
    header: dict[str, str] = {}
    series: list[np.ndarray] = []
    labels: list[str] = []
    in_data = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if not line.startswith("@"):
                raise DataError(f"{source}:{number}: expected an @ header line before @data")
            key, _, value = line[1:].partition(" ")
            if key.lower() == "data":
                in_data = True
            else:
                header[key.lower()] = value.strip()
            continue
        *dims, label = line.split(":")
        if not dims:
            raise DataError(f"{source}:{number}: a case needs values and a class label")
        try:
            columns = [np.array([float(v) for v in d.split(",")]) for d in dims]
        except ValueError as exc:
            raise DataError(f"{source}:{number}: not a number: {exc}") from exc
        if len({len(c) for c in columns}) != 1:
            raise DataError(f"{source}:{number}: dimensions of one case differ in length")
        if any(np.isnan(c).any() for c in columns):
            raise DataError(f"{source}:{number}: missing values are not supported")
        series.append(np.stack(columns, axis=1))  # (T, dims)
        labels.append(label.strip())
    if not in_data:
        raise DataError(f"{source}: no @data section")
    if header.get("timestamps", "false").lower() != "false":
        raise DataError(f"{source}: series with timestamps are not supported")
    declared = header.get("classlabel", "").split()
    if not declared or declared[0].lower() != "true":
        raise DataError(f"{source}: not a classification file (@classLabel true …)")
    class_names = tuple(declared[1:])
    unknown = sorted(set(labels) - set(class_names))
    if unknown:
        raise DataError(f"{source}: labels {unknown} are not among @classLabel {class_names}")
    if "dimensions" in header and series:
        dims_declared = int(header["dimensions"])
        if any(s.shape[1] != dims_declared for s in series):
            raise DataError(f"{source}: a case does not have @dimensions {dims_declared}")
    return LabelledSeries(series, labels, class_names)


def find_japanese_vowels() -> Path | None:
    """The JapaneseVowels folder inside an installed sktime or aeon, or None."""
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)  # locates it without importing it
        for root in (spec.submodule_search_locations or []) if spec else []:
            folder = Path(root) / "datasets" / "data" / "JapaneseVowels"
            if (folder / "JapaneseVowels_TRAIN.ts").is_file():
                return folder
    return None


def read_japanese_vowels(split: Split, folder: str | Path | None = None) -> LabelledSeries:
    """UCI's train (270) or test (370) utterances, each (T, 12) with T in 7 … 29."""
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    where = Path(folder) if folder is not None else find_japanese_vowels()
    if where is None:
        raise DataError("Japanese Vowels needs sktime (or aeon) installed: pip install sktime")
    path = where / f"JapaneseVowels_{split.upper()}.ts"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    data = parse_ts(text, source=str(path))
    if any(s.shape[1] != NUM_FEATURES for s in data.series):
        raise DataError(f"{path}: every frame must have {NUM_FEATURES} coefficients")
    return data

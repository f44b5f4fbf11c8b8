"""Japanese Vowels from the sktime wheel; the .ts parser on small made-up files."""

from __future__ import annotations

import collections
import os

import numpy as np
import pytest

from rnnkit.datasets.japanese_vowels import find_japanese_vowels, parse_ts, read_japanese_vowels
from rnnkit.errors import DataError

FOLDER = find_japanese_vowels()
# CI installs the dev extra, which holds sktime: there a skip would hide a broken reader
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
needs_sktime = pytest.mark.skipif(
    FOLDER is None and not IN_CI,
    reason="sktime (or aeon) is not installed; it ships JapaneseVowels_*.ts: pip install sktime",
)

TS = """# a comment
@problemName Toy
@timeStamps false
@univariate false
@dimensions 2
@equalLength false
@classLabel true a b
@data
1,2,3:4,5,6:a
7,8:9,10:b
"""


def test_parse_ts_reads_cases_as_time_by_dimension_arrays() -> None:
    data = parse_ts(TS)
    assert data.labels == ["a", "b"]
    assert data.class_names == ("a", "b")
    assert data.series[0].tolist() == [[1, 4], [2, 5], [3, 6]]
    values, lengths, ids = data.padded()
    assert values.shape == (2, 3, 2)
    assert lengths.tolist() == [3, 2]
    assert ids.tolist() == [0, 1]
    assert values[1, 2].tolist() == [0.0, 0.0]  # padding


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (TS.replace("@data\n", ""), "no @data|header"),
        (TS.replace("1,2,3:4,5,6:a", "1,2,3:4,5:a"), "differ in length"),
        (TS.replace("1,2,3:4,5,6:a", "1,x,3:4,5,6:a"), "not a number"),
        (TS.replace("1,2,3:4,5,6:a", "1,?,3:4,5,6:a"), "not a number"),
        (TS.replace("7,8:9,10:b", "7,8:9,10:c"), "not among"),
        (TS.replace("@classLabel true a b", "@classLabel false"), "classification"),
        (TS.replace("@dimensions 2", "@dimensions 3"), "@dimensions 3"),
        ("1,2:a\n", "header"),
    ],
)
def test_parse_ts_rejects_bad_files_with_a_data_error(text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_ts(text)


def test_bad_split_and_missing_folder_are_data_errors(tmp_path) -> None:
    with pytest.raises(DataError, match="split"):
        read_japanese_vowels("dev")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="cannot read"):
        read_japanese_vowels("train", tmp_path)


@needs_sktime
def test_real_japanese_vowels_has_ucis_split() -> None:
    train = read_japanese_vowels("train", FOLDER)
    test = read_japanese_vowels("test", FOLDER)
    assert (len(train), len(test)) == (270, 370)
    assert train.class_names == tuple("123456789")
    assert set(collections.Counter(train.labels).values()) == {30}  # 30 per speaker
    test_counts = collections.Counter(test.labels)
    assert min(test_counts.values()) == 24
    assert max(test_counts.values()) == 88
    lengths = [len(s) for s in train.series + test.series]
    assert min(lengths) == 7
    assert max(lengths) == 29
    assert all(s.shape[1] == 12 and np.isfinite(s).all() for s in train.series)

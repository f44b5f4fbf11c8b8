"""Time-series readers: every real file with its length, user CSVs good and bad, the split."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from rnnkit.datasets.shared import locate_shared
from rnnkit.datasets.timeseries import (
    SERIES,
    holdout_split,
    infer_season,
    load_series,
    read_csv_series,
)
from rnnkit.errors import DataError

# the tests that read it carry @pytest.mark.shared_data("timeseries"): skipped where it is absent
ROOT = locate_shared("timeseries") or Path("../shared/data/timeseries")
LENGTHS = {"sunspots": 309, "co2": 2284, "nile": 100, "elec_equip": 257, "macrodata": 203,
           "airline": 144, "lynx": 114, "shampoo": 36}  # fmt: skip
FIRST = {"sunspots": ("1700", 5.0), "nile": ("1871", 1120.0), "airline": ("1949-01", 112.0),
         "lynx": ("1821", 269.0), "elec_equip": ("Jan-1-1995", 66.19),
         "shampoo": ("1991-01", 266.0), "co2": ("19580329", 316.1)}  # fmt: skip


@pytest.mark.shared_data("timeseries")
@pytest.mark.parametrize("name", sorted(SERIES))
def test_each_real_series_loads_with_its_length(name: str) -> None:
    series = load_series(name, ROOT)
    assert len(series) == LENGTHS[name] == len(series.timestamps)
    assert series.values.dtype == np.float64
    assert np.isfinite(series.values).all()  # co2's gaps are interpolated
    if name in FIRST:
        assert (series.timestamps[0], series.values[0, 0]) == FIRST[name]


@pytest.mark.shared_data("timeseries")
def test_co2_gaps_are_interpolated_linearly() -> None:
    series = load_series("co2", ROOT)
    # 19580503 = 316.9, 19580510 empty, 19580517 = 317.5
    assert series.timestamps[6] == "19580510"
    assert series.values[6, 0] == pytest.approx((316.9 + 317.5) / 2)


@pytest.mark.shared_data("timeseries")
def test_macrodata_is_multivariate_and_columns_can_be_chosen() -> None:
    default = load_series("macrodata", ROOT)
    assert default.values.shape == (203, 3)
    assert default.timestamps[:2] == ("1959Q1", "1959Q2")
    chosen = load_series("macrodata", ROOT, columns=["unemp", "infl"])
    assert chosen.columns == ("unemp", "infl")
    assert chosen.values[0].tolist() == [5.8, 0.0]


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "series.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_csv_reads_named_columns(tmp_path: Path) -> None:
    path = _csv(tmp_path, "when,a,b\nd1,1,10\nd2,2,20\nd3,3,30\n")
    series = read_csv_series(path, time_column="when", value_columns=["b", "a"])
    assert series.values.tolist() == [[10, 1], [20, 2], [30, 3]]
    assert series.timestamps == ("d1", "d2", "d3")
    assert series.name == "series"


def test_missing_column_lists_the_found_ones(tmp_path: Path) -> None:
    path = _csv(tmp_path, "when,a\nd1,1\nd2,2\n")
    with pytest.raises(DataError, match=r"no column 'value'; found columns \['when', 'a'\]"):
        read_csv_series(path, time_column="when", value_columns="value")


def test_non_numeric_value_names_the_line(tmp_path: Path) -> None:
    path = _csv(tmp_path, "when,a\nd1,1\nd2,two\nd3,3\n")
    with pytest.raises(DataError, match=r"series.csv:3: 'two' is not a number"):
        read_csv_series(path, time_column="when", value_columns="a")


def test_gap_is_an_error_that_names_the_fill_option(tmp_path: Path) -> None:
    path = _csv(tmp_path, "when,a\nd1,1\nd2,\nd3,3\nd4,\n")
    with pytest.raises(DataError, match=r"series.csv:3: missing value ''.*fill='interpolate'"):
        read_csv_series(path, time_column="when", value_columns="a")
    filled = read_csv_series(path, time_column="when", value_columns="a", fill="interpolate")
    assert filled.values[:, 0].tolist() == [1.0, 2.0, 3.0, 3.0]  # the end gap keeps 3


@pytest.mark.parametrize("cell", ["nan", "NaN", "NA", "N/A", "null", "None", "#N/A"])
def test_na_strings_are_gaps_like_empty_cells(tmp_path: Path, cell: str) -> None:
    path = _csv(tmp_path, f"when,a\nd1,1\nd2,{cell}\nd3,3\n")
    with pytest.raises(DataError, match=rf"series.csv:3: missing value '{cell}'"):
        read_csv_series(path, time_column="when", value_columns="a")
    filled = read_csv_series(path, time_column="when", value_columns="a", fill="interpolate")
    assert filled.values[:, 0].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("cell", ["inf", "-Infinity", "1e999"])
def test_infinite_values_are_refused(tmp_path: Path, cell: str) -> None:
    path = _csv(tmp_path, f"when,a\nd1,1\nd2,{cell}\n")
    with pytest.raises(DataError, match=rf"series.csv:3: '{cell}' is not a finite number"):
        read_csv_series(path, time_column="when", value_columns="a", fill="interpolate")


def test_line_numbers_count_blank_and_multi_line_rows(tmp_path: Path) -> None:
    path = _csv(tmp_path, 'when,a\nd1,1\n\n"d\n2",2\nd3,x\n')
    with pytest.raises(DataError, match=r"series.csv:6: 'x' is not a number"):
        read_csv_series(path, time_column="when", value_columns="a")


def test_too_short_series_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "when,a\nd1,1\nd2,2\nd3,3\n")
    with pytest.raises(DataError, match=r"holds 3 time steps; this run needs at least 10"):
        read_csv_series(path, time_column="when", value_columns="a", min_length=10)


def test_missing_file_and_unknown_series(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        read_csv_series(tmp_path / "none.csv", time_column="t", value_columns="v")
    with pytest.raises(DataError, match=r"unknown series 'tides'; known series: \['airline'"):
        load_series("tides", ROOT)


@pytest.mark.shared_data("timeseries")
def test_holdout_split_is_chronological() -> None:
    series = load_series("airline", ROOT)
    train, test = holdout_split(series, 12)
    assert (len(train), len(test)) == (132, 12)
    assert train.timestamps[-1] == "1959-12"
    assert test.timestamps[0] == "1960-01"
    np.testing.assert_array_equal(np.concatenate([train.values, test.values]), series.values)
    with pytest.raises(DataError, match=r"k must be in \[1, 143\]"):
        holdout_split(series, 144)


# -- regressions found by fuzzing (tests/reliability, bench/reliability/fuzz.py) -----------------
def test_a_short_row_has_empty_time_cells_like_its_value_cells(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"  # the fuzzer's input: the last row ends after one cell
    path.write_bytes(b"t,q,v,w\n398,1,1.5,2\n1990,2,,3\n\n19")
    series = read_csv_series(
        path, time_column=("t", "q"), value_columns=("v", "w"), fill="interpolate"
    )
    assert series.timestamps == ("398-1", "1990-2", "19-")  # was an IndexError
    np.testing.assert_array_equal(series.values, [[1.5, 2.0], [1.5, 3.0], [1.5, 3.0]])


def test_an_unclosed_quote_raises_data_error(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('t,v\n1,"' + "9" * 140_000, encoding="utf-8")
    with pytest.raises(DataError, match="line 2 is not valid CSV"):  # was csv.Error
        read_csv_series(path, time_column="t", value_columns="v")


# -- duplicate timestamps and the season m of a user CSV (issue 20, item 8) ----------------------
def test_a_repeated_timestamp_is_refused_with_its_lines(tmp_path: Path) -> None:
    path = _csv(tmp_path, "when,a\n2020-01,1\n2020-02,2\n2020-03,3\n2020-02,4\n2020-03,5\n")
    with pytest.raises(
        DataError, match=r"series.csv: timestamp '2020-02' appears 2 times \(lines 3, 5\)"
    ):
        read_csv_series(path, time_column="when", value_columns="a")


def _dated(tmp_path: Path, stamps: list[str]) -> Path:
    return _csv(tmp_path, "when,a\n" + "".join(f"{s},{i % 5}\n" for i, s in enumerate(stamps)))


MONTHS = [f"{1949 + i // 12}-{i % 12 + 1:02d}" for i in range(30)]
SPACINGS = {
    "monthly": (MONTHS, 12),
    "month ends": ([f"2001-{m:02d}-{d}" for m, d in [(1, 31), (2, 28), (3, 31), (4, 30)]], 12),
    "quarterly": ([f"{1959 + i // 4}Q{i % 4 + 1}" for i in range(12)], 4),
    "weekly": ([f"2024-01-{d:02d}" for d in (1, 8, 15, 22, 29)], 52),
    "daily": ([f"2024-02-{d:02d}" for d in range(1, 29)], 7),
    "hourly": ([f"2024-03-01 {h:02d}:00" for h in range(24)], 24),
    "yearly": ([str(1700 + i) for i in range(10)], 1),
    "irregular": (["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-06"], 1),
    "not dates": (["d1", "d2", "d3"], 1),
}


@pytest.mark.parametrize("spacing", SPACINGS)
def test_the_season_of_a_csv_comes_from_its_timestamps(
    tmp_path: Path, spacing: str, caplog: pytest.LogCaptureFixture
) -> None:
    stamps, season = SPACINGS[spacing]
    with caplog.at_level(logging.INFO, logger="rnnkit.datasets.timeseries"):
        series = read_csv_series(_dated(tmp_path, stamps), time_column="when", value_columns="a")
    assert series.season == season
    [note] = [record.getMessage() for record in caplog.records]
    assert note.startswith("series.csv: ")
    assert f"m = {season}" in note
    if season == 1:
        assert "set --season M" in note
    explicit = read_csv_series(tmp_path / "series.csv", time_column="when", value_columns="a",
                               season=3)  # fmt: skip
    assert explicit.season == 3


@pytest.mark.shared_data("timeseries")
@pytest.mark.parametrize("name", ["airline", "shampoo", "elec_equip", "macrodata", "co2"])
def test_inferred_season_matches_the_documented_calendar_period(name: str) -> None:
    series = load_series(name, ROOT)
    assert infer_season(series.timestamps)[0] == SERIES[name].season

"""Readers for the real time series of `shared/data/timeseries` and for your own CSV series.

Every series becomes a `TimeSeries`: values (N, F) float64, one timestamp string per row, the
column names and the season length m used by the seasonal-naive forecast and MASE. Files
(`shared/data/README.md` §6; copied unchanged from the statsmodels 0.15.0 and sktime 1.2.0
wheels, both BSD-3-Clause):

    name        file                        columns                  N      m   source
    sunspots    statsmodels/sunspots.csv    YEAR, SUNACTIVITY        309   11   NOAA NGDC
    co2         statsmodels/co2.csv         date, co2 (has gaps)     2284  52   Scripps / CDIAC
    nile        statsmodels/nile.csv        year, volume             100    1   Cobb 1978
    elec_equip  statsmodels/elec_equip.csv  DATE, STS.M.I7.…         257   12   Eurostat
    macrodata   statsmodels/macrodata.csv   year, quarter, realgdp…  203    4   FRED, BLS
    airline     sktime/Airline.csv          Date, Passengers         144   12   Box & Jenkins 1976
    lynx        sktime/Lynx.csv             (unnamed), 0             114   10   Campbell & Walker
    shampoo     sktime/ShampooSales.csv     Time, Sales              36    12   Makridakis et al.

The statsmodels series are public domain (US and EU agencies, Cobb 1978); the sktime ones are
classic textbook series, also shipped with R's `datasets`.
m is the calendar period (12 months, 52 weeks, 4 quarters), the ≈ 11-year solar cycle for the
sunspots, the ≈ 10-year lynx cycle, and 1 (no season) for the Nile. No series has a published
split: `holdout_split` keeps the last k points for testing.

A CSV of your own gets m from the spacing of its timestamps (`infer_season`): hourly 24,
daily 7, weekly 52, monthly 12, quarterly 4; yearly, irregular or unrecognised timestamps get
m = 1 with a logged note. A timestamp may appear only once.

References:
    https://www.statsmodels.org/stable/datasets/index.html
    https://www.sktime.net/en/stable/api_reference/datasets.html
    Box, Jenkins & Reinsel. Time Series Analysis: Forecasting and Control. 1976 (airline).
    Campbell & Walker. A Survey of Statistical Work on the Mackenzie River Series of Annual
        Canadian Lynx Trappings. JRSS A 140(4), 1977.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np

from rnnkit.errors import DataError
from rnnkit.text import files

logger = logging.getLogger(__name__)

Fill = Literal["error", "interpolate"]

# m of each sampling frequency: the calendar period one step belongs to
SEASONS = {"hourly": 24, "daily": 7, "weekly": 52, "monthly": 12, "quarterly": 4, "yearly": 1}
# date formats tried after ISO 8601 (datetime.fromisoformat): 19580329, 1/31/1995, Jan-1-1995 …
DATE_FORMATS = ("%Y%m%d", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%b-%d-%Y", "%d-%b-%Y", "%b-%Y",
                "%Y-%b", "%b %Y", "%Y/%m")  # fmt: skip


@dataclass(frozen=True)
class TimeSeries:
    """A regularly sampled series: values (N, F) float64, timestamps (N,), columns (F,), m."""

    name: str
    values: np.ndarray  # (N, F)
    timestamps: tuple[str, ...]  # (N,)
    columns: tuple[str, ...]  # (F,)
    season: int = 1  # m, the seasonal period (1: no season)

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def slice(self, start: int | None, stop: int | None) -> TimeSeries:
        """Rows [start, stop) as a new series with the same name, columns and m."""
        return TimeSeries(
            self.name, self.values[start:stop], self.timestamps[start:stop], self.columns,
            self.season,
        )  # fmt: skip


@dataclass(frozen=True)
class SeriesSpec:
    """Where a built-in series lives and how to read it."""

    path: str  # under the timeseries folder
    time_columns: tuple[str, ...]  # joined with `join` into the timestamp
    value_columns: tuple[str, ...]
    season: int  # m
    fill: Fill = "error"
    join: str = "-"


SERIES: dict[str, SeriesSpec] = {
    "sunspots": SeriesSpec("statsmodels/sunspots.csv", ("YEAR",), ("SUNACTIVITY",), 11),
    "co2": SeriesSpec("statsmodels/co2.csv", ("date",), ("co2",), 52, fill="interpolate"),
    "nile": SeriesSpec("statsmodels/nile.csv", ("year",), ("volume",), 1),
    "elec_equip": SeriesSpec(
        "statsmodels/elec_equip.csv", ("DATE",), ("STS.M.I7.W.TOVT.NS0016.4.000",), 12
    ),
    "macrodata": SeriesSpec(
        "statsmodels/macrodata.csv",
        ("year", "quarter"),
        ("realgdp", "realcons", "realinv"),
        4,
        join="Q",
    ),
    "airline": SeriesSpec("sktime/Airline.csv", ("Date",), ("Passengers",), 12),
    "lynx": SeriesSpec("sktime/Lynx.csv", ("",), ("0",), 10),
    "shampoo": SeriesSpec("sktime/ShampooSales.csv", ("Time",), ("Sales",), 12),
}


# cells read as gaps: empty, or one of pandas' default NA strings (lower-cased)
MISSING = frozenset(
    {"", "nan", "-nan", "na", "n/a", "#n/a", "null", "none", "<na>", "#na", "-1.#ind", "1.#ind",
     "-1.#qnan", "1.#qnan", "#n/a n/a"}
)  # fmt: skip


def _read_rows(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows as strings, and the line number where each row ends.

    The file is read through `rnnkit.text.files.read_text` (a regular file, bounded, a leading
    UTF-8 byte order mark dropped).
    """
    text = files.read_text(path, what="series file", encoding="utf-8-sig")
    csv.field_size_limit(files.CSV_FIELD_LIMIT)  # a cell may be as long as a file may be
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)  # an unclosed quote: error
    rows, lines = [], []
    try:
        for row in reader:
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as err:  # e.g. an unclosed quote runs past csv's field size limit
        raise DataError(f"{path}: line {reader.line_num} is not valid CSV: {err}") from err
    if not rows:
        raise DataError(f"{path} is empty; expected a header row and one row per time step")
    return [name.strip() for name in rows[0]], rows[1:], lines[1:]


def _column_index(header: list[str], name: str, path: Path) -> int:
    if name not in header:
        raise DataError(
            f"{path} has no column {name!r}; found columns {header}. Name the columns with "
            "--time-column and --value-column"
        )
    return header.index(name)


def _parse_values(
    rows: list[list[str]], lines: list[int], indices: list[int], path: Path, fill: Fill
) -> np.ndarray:
    """(N, F) finite float64; empty and NA cells are gaps (NaN) until `fill` decides."""
    values = np.empty((len(rows), len(indices)), dtype=np.float64)
    for r, row in enumerate(rows):
        for f, index in enumerate(indices):
            cell = row[index].strip() if index < len(row) else ""
            if cell.lower() in MISSING:
                if fill == "error":
                    raise DataError(
                        f"{path}:{lines[r]}: missing value {cell!r} (a gap in the series); fill"
                        " gaps with fill='interpolate' (--fill interpolate) or remove the row"
                    )
                values[r, f] = np.nan
                continue
            try:
                values[r, f] = float(cell)
            except ValueError as err:
                raise DataError(f"{path}:{lines[r]}: {cell!r} is not a number") from err
            if not np.isfinite(values[r, f]):  # "inf", "1e999"
                raise DataError(f"{path}:{lines[r]}: {cell!r} is not a finite number")
    return _interpolate(values) if fill == "interpolate" else values


def _interpolate(values: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN gaps of each column; end gaps take the nearest value."""
    filled = values.copy()
    steps = np.arange(values.shape[0])
    for f in range(values.shape[1]):
        known = ~np.isnan(values[:, f])
        if not known.any():
            raise DataError(f"column {f} holds no value at all; nothing to interpolate from")
        filled[:, f] = np.interp(steps, steps[known], values[known, f])
    return filled


def parse_timestamp(text: str) -> datetime | None:
    """A timestamp as a datetime: ISO 8601, 1949-01, 1959Q1, 1700, 19580329, Jan-1-1995 …

    >>> parse_timestamp("1959Q3"), parse_timestamp("1949-02"), parse_timestamp("d1")
    (datetime.datetime(1959, 7, 1, 0, 0), datetime.datetime(1949, 2, 1, 0, 0), None)
    """
    text = text.strip()
    if quarter := re.fullmatch(r"(\d{4})[-\s]?Q([1-4])", text, re.IGNORECASE):
        return datetime(int(quarter[1]), 3 * int(quarter[2]) - 2, 1)
    if month := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        return datetime(int(month[1]), int(month[2]), 1) if 1 <= int(month[2]) <= 12 else None
    if re.fullmatch(r"\d{4}", text):
        return datetime(int(text), 1, 1)
    if not re.fullmatch(r"\d{8}", text):  # fromisoformat would read 19580329 as a date too
        try:
            return datetime.fromisoformat(text).replace(tzinfo=None)
        except ValueError:
            pass
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def _frequency(earlier: datetime, later: datetime) -> str | None:
    """The sampling frequency one step from `earlier` to `later` shows, or None."""
    seconds = (later - earlier).total_seconds()
    days = seconds / 86400
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    steps = {"hourly": seconds == 3600, "daily": days == 1, "weekly": days == 7,
             "monthly": months == 1 and 28 <= days <= 31,
             "quarterly": months == 3 and 89 <= days <= 92,
             "yearly": months == 12 and 365 <= days <= 366}  # fmt: skip
    return next((name for name, matches in steps.items() if matches), None)


def infer_season(timestamps: Sequence[str]) -> tuple[int, str]:
    """m from the spacing of the timestamps, and a note saying how it was found.

    Every step between consecutive timestamps must show the same frequency: hourly → 24,
    daily → 7, weekly → 52, monthly → 12, quarterly → 4, yearly → 1. Anything else (gaps,
    mixed spacing, text that is not a date) gives m = 1, and the note says why.

    >>> infer_season(["1949-01", "1949-02", "1949-03"])
    (12, 'monthly timestamps: season m = 12')
    >>> infer_season(["2024-01-01", "2024-01-02", "2024-01-04"])[0]
    1
    """
    times = [parse_timestamp(stamp) for stamp in timestamps]
    if len(times) < 2 or any(time is None for time in times):
        first = next((s for s, t in zip(timestamps, times, strict=True) if t is None), None)
        why = "fewer than two timestamps" if first is None else f"{first!r} is not a date"
        return 1, f"season m = 1 (no season): {why}; set --season M if the series has one"
    frequencies = {_frequency(a, b) for a, b in itertools.pairwise(times)}  # type: ignore[arg-type]
    if len(frequencies) != 1 or None in frequencies:
        return 1, (
            "season m = 1 (no season): the timestamps are not evenly spaced hours, days, weeks, "
            "months, quarters or years; set --season M if the series has one"
        )
    (frequency,) = frequencies
    if frequency == "yearly":
        return 1, "yearly timestamps: season m = 1 (no calendar season); set --season M for a cycle"
    return SEASONS[frequency], f"{frequency} timestamps: season m = {SEASONS[frequency]}"


def _check_unique(timestamps: Sequence[str], lines: list[int], path: Path) -> None:
    """DataError naming the first timestamp that repeats and every line holding it."""
    seen: set[str] = set()
    for stamp in timestamps:
        if stamp in seen:
            where = [str(line) for line, other in zip(lines, timestamps, strict=True)
                     if other == stamp]  # fmt: skip
            raise DataError(
                f"{path}: timestamp {stamp!r} appears {len(where)} times (lines "
                f"{', '.join(where)}); a series needs one row per time step: remove or merge "
                "the duplicate rows"
            )
        seen.add(stamp)


def read_csv_series(
    path: str | Path,
    *,
    time_column: str | Sequence[str],
    value_columns: str | Sequence[str],
    fill: Fill = "error",
    min_length: int = 2,
    name: str | None = None,
    season: int | None = None,
    join: str = "-",
) -> TimeSeries:
    """A series from a CSV file with a header: a timestamp column and one or more value columns.

    Args:
        path: the CSV file (UTF-8, header row, one row per time step, oldest first).
        time_column: the timestamp column, or several joined with `join` (year, quarter).
        value_columns: the value column(s), giving F features in this order.
        fill: "error" refuses gaps (empty cells or pandas' NA strings: NaN, NA, N/A, null,
            None, …); "interpolate" fills them linearly.
        min_length: fewest rows accepted (a run needs window + horizon + 1).
        name: the series name (default: the file stem).
        season: m, the seasonal period; None infers it from the timestamps (`infer_season`)
            and logs how.
        join: separator between several time columns.

    Raises:
        DataError: missing file or column (the message lists the columns found), a value that
            is not a finite number or a gap with fill="error" (file:line), a timestamp that
            appears twice (with its lines), or fewer than `min_length` rows.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "s.csv"
    >>> _ = path.write_text("day,temp\\nmon,1.5\\ntue,\\nwed,2.5\\n")
    >>> read_csv_series(path, time_column="day", value_columns="temp", fill="interpolate").values
    array([[1.5],
           [2. ],
           [2.5]])
    """
    path = Path(path)
    time_names = [time_column] if isinstance(time_column, str) else list(time_column)
    value_names = [value_columns] if isinstance(value_columns, str) else list(value_columns)
    if not value_names:
        raise DataError("read_csv_series needs at least one value column")
    header, rows, lines = _read_rows(path)
    time_indices = [_column_index(header, column, path) for column in time_names]
    value_indices = [_column_index(header, column, path) for column in value_names]
    kept = [r for r, row in enumerate(rows) if any(cell.strip() for cell in row)]  # not blank
    rows, lines = [rows[r] for r in kept], [lines[r] for r in kept]
    if len(rows) < min_length:
        raise DataError(
            f"{path} holds {len(rows)} time steps; this run needs at least {min_length} "
            "(window + horizon + 1). Use a shorter --window or --horizon, or a longer series"
        )
    values = _parse_values(rows, lines, value_indices, path, fill)
    timestamps = tuple(  # a short row lacks its last cells: empty, as for the values
        join.join(row[i].strip() if i < len(row) else "" for i in time_indices) for row in rows
    )
    _check_unique(timestamps, lines, path)
    if season is None:
        season, note = infer_season(timestamps)
        logger.info("%s: %s", path.name, note)
    return TimeSeries(name or path.stem, values, timestamps, tuple(value_names), season)


def load_series(
    name: str,
    root: str | Path,
    *,
    columns: Sequence[str] | None = None,
    min_length: int = 2,
) -> TimeSeries:
    """A built-in series by name from the `timeseries` folder `root` (see the module table).

    `columns` picks value columns of a multivariate file (macrodata). co2 is read with its
    gaps interpolated.

    Raises:
        DataError: an unknown name (the message lists the known ones), a column the file lacks,
            or the file is missing under `root`.
    """
    if name not in SERIES:
        raise DataError(f"unknown series {name!r}; known series: {sorted(SERIES)}")
    spec = SERIES[name]
    chosen = tuple(columns) if columns else spec.value_columns
    return read_csv_series(
        Path(root) / spec.path, time_column=spec.time_columns, value_columns=chosen,
        fill=spec.fill, min_length=min_length, name=name, season=spec.season, join=spec.join,
    )  # fmt: skip


def holdout_split(series: TimeSeries, k: int) -> tuple[TimeSeries, TimeSeries]:
    """Chronological split: the first N − k points train, the last k are held out.

    >>> s = TimeSeries("s", np.arange(5.0)[:, None], tuple("abcde"), ("v",))
    >>> [part.timestamps for part in holdout_split(s, 2)]
    [('a', 'b', 'c'), ('d', 'e')]
    """
    if not 1 <= k < len(series):
        raise DataError(
            f"hold-out size k must be in [1, {len(series) - 1}] for {series.name}; got {k}"
        )
    return series.slice(None, len(series) - k), series.slice(len(series) - k, None)

"""History: every row a training run logs, kept in memory as Keras's `History` keeps every epoch's.

A run logs a row to metrics.jsonl every `log_every` updates ("kind": "train": loss, lr,
grad_norm, throughput …), at every evaluation ("kind": "eval": val_loss, val_<metric> …) and
for every skipped update ("kind": "nonfinite"). `History` holds the same rows, so that
`Trainer.fit` can return them (`FitResult.history`):

    history.rows                     the rows, in order, exactly as metrics.jsonl holds them
    history.history["val_loss"][i]   the value of val_loss in the i-th row that has it
    history.steps["val_loss"][i]     the update after which that row was logged

A metric is any numeric entry of a row other than its coordinates "kind", "step" and "epoch";
train and eval rows are logged at different steps, so each metric has its own list of steps.
A resumed run reads the rows up to its checkpoint's step back from metrics.jsonl
(`runs.read_history`), so its history equals that of the run it continues, never interrupted.

References:
    Keras, `keras.callbacks.History`: `History.history` maps a metric name to the list of its
    values, one per epoch, https://keras.io/api/models/model_training_apis/#fit-method
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any, Literal

from rnnkit.errors import ConfigError

COORDINATES = ("kind", "step", "epoch")  # where a row was logged, not what it measured
NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}  # as JSON holds them


def json_value(value: Any) -> Any:
    """A row entry as metrics.jsonl holds it: a NumPy or torch scalar as a number, nan as "nan".

    Non-finite floats are the strings "nan", "inf" and "-inf" (JSON has no such numbers).
    """
    if not isinstance(value, str | int | float | None) and callable(getattr(value, "item", None)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def json_line(row: dict[str, Any]) -> str:
    """The line of metrics.jsonl that holds `row`."""
    return json.dumps({key: json_value(value) for key, value in row.items()})


def json_row(row: dict[str, Any]) -> dict[str, Any]:
    """`row` as it reads back from its line of metrics.jsonl (nan as "nan", tuples as lists)."""
    return json.loads(json_line(row))


def _metric_value(value: Any) -> float | None:
    """The number a row entry holds (nan and ±inf from their strings), or None for text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and value in NONFINITE:
        return NONFINITE[value]
    return None


class History:
    """The logged rows of a training run, and per metric its values and their steps.

    Example:
        >>> history = History([{"kind": "train", "step": 1, "epoch": 0, "loss": 2.0},
        ...                    {"kind": "train", "step": 2, "epoch": 0, "loss": 1.5},
        ...                    {"kind": "eval", "step": 2, "epoch": 0, "val_loss": 1.75}])
        >>> history.history
        {'loss': [2.0, 1.5], 'val_loss': [1.75]}
        >>> history.steps["val_loss"], history.last("loss"), history.best("loss")
        ([2], 1.5, (2, 1.5))
    """

    def __init__(self, rows: Iterable[dict[str, Any]] = ()) -> None:
        self.rows: list[dict[str, Any]] = []
        self.history: dict[str, list[float]] = {}  # metric -> values, in logging order
        self.steps: dict[str, list[int]] = {}  # metric -> step of each value
        for row in rows:
            self.append(row)

    def append(self, row: dict[str, Any]) -> None:
        """Add one logged row (copied as metrics.jsonl holds it)."""
        row = json_row(row)
        self.rows.append(row)
        for key, value in row.items():
            number = None if key in COORDINATES else _metric_value(value)
            if number is not None:
                self.history.setdefault(key, []).append(number)
                self.steps.setdefault(key, []).append(row.get("step", 0))

    def _values(self, metric: str) -> list[float]:
        if metric not in self.history:
            logged = ", ".join(sorted(self.history)) or "none (no row has been logged)"
            raise ConfigError(f"no metric {metric!r} was logged; the logged metrics: {logged}")
        return self.history[metric]

    def last(self, metric: str) -> float:
        """The value of `metric` in the last row that has it."""
        return self._values(metric)[-1]

    def best(self, metric: str, mode: Literal["min", "max"] = "min") -> tuple[int, float]:
        """(step, value) of the lowest (`mode="min"`) or highest value of `metric`.

        The earliest of equal values wins, and nan never does.
        """
        if mode not in ("min", "max"):
            raise ConfigError(f"mode must be 'min' or 'max', got {mode!r}")
        values = self._values(metric)
        sign = 1.0 if mode == "min" else -1.0
        finite = [(sign * v, i) for i, v in enumerate(values) if not math.isnan(v)]
        if not finite:
            raise ConfigError(f"every logged value of {metric!r} is nan")
        index = min(finite)[1]
        return self.steps[metric][index], values[index]

    def __len__(self) -> int:
        return len(self.rows)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, History) and self.rows == other.rows

    __hash__ = None  # type: ignore[assignment]  (mutable, compared by its rows)

    def __repr__(self) -> str:
        return f"History({len(self.rows)} rows; metrics: {', '.join(self.history) or 'none'})"

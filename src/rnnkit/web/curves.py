"""A run's training curves for the page: loss, learning rate, ‖g‖ and validation metrics per step.

The rows come from RUN_DIR/metrics.jsonl (`rnnkit.training.runs.read_metrics`), read at each
request, so a run still training shows its latest rows. Training rows ("kind": "train") give
one curve per key of TRAIN_KEYS; evaluation rows ("kind": "eval") one curve per numeric key
but the cells of a confusion matrix (val_cm_i_j). A curve longer than `points` is thinned to
`points` rows evenly spread over it, its last row kept; NaN and ±inf values are left out
(JSON has no such numbers).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rnnkit.training.runs import METRICS_FILE, read_metrics
from rnnkit.web import schemas

TRAIN_KEYS = ("loss", "lr", "grad_norm", "grad_norm_clipped")
NOT_CURVES = ("kind", "step", "epoch")


def thin(count: int, points: int) -> list[int]:
    """At most `points` indices of `count` rows, evenly spread, the first and last kept.

    >>> thin(10, 4), thin(3, 5), thin(5, 1)
    ([0, 3, 6, 9], [0, 1, 2], [4])
    """
    if count <= points:
        return list(range(count))
    if points == 1:
        return [count - 1]
    return [round(i * (count - 1) / (points - 1)) for i in range(points)]


def _curve(rows: list[dict[str, Any]], kind: str, key: str, points: int) -> schemas.Curve | None:
    found = [(int(row["step"]), float(row[key])) for row in rows
             if isinstance(row.get(key), int | float) and not isinstance(row[key], bool)
             and math.isfinite(row[key])]  # fmt: skip
    if not found:
        return None
    kept = [found[i] for i in thin(len(found), points)]
    return schemas.Curve(
        name=key, kind=kind, steps=[s for s, _ in kept], values=[v for _, v in kept],
        total=len(found),
    )  # fmt: skip


def run_curves(run_dir: Path, points: int) -> schemas.CurvesResponse:
    """The curves of the run in `run_dir`, each at most `points` long (none if nothing is
    logged yet); DataError (422) if metrics.jsonl cannot be read."""
    if not (run_dir / METRICS_FILE).is_file():
        return schemas.CurvesResponse(run=run_dir.name, curves=[])
    rows = read_metrics(run_dir)
    train = [row for row in rows if row.get("kind") == "train"]
    evaluations = [row for row in rows if row.get("kind") == "eval"]
    eval_keys = sorted({key for row in evaluations for key in row
                        if key not in NOT_CURVES and "_cm_" not in key})  # fmt: skip
    curves = [_curve(train, "train", key, points) for key in TRAIN_KEYS]
    curves += [_curve(evaluations, "eval", key, points) for key in eval_keys]
    return schemas.CurvesResponse(run=run_dir.name, curves=[c for c in curves if c is not None])


__all__ = ["TRAIN_KEYS", "run_curves", "thin"]

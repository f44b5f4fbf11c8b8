"""`plot_run`: PNG training curves from metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnkit.errors import DataError
from rnnkit.training.plots import plot_run

PNG = b"\x89PNG\r\n\x1a\n"


def _write_metrics(run_dir: Path, rows: list[dict]) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_three_pngs_from_train_and_eval_rows(tmp_path: Path) -> None:
    rows = [
        {"kind": "train", "step": s, "loss": 3.0 / s, "lr": 0.01 * s / 10,
         "grad_norm": 2.0 + s, "grad_norm_clipped": 1.0}
        for s in range(1, 11)
    ]  # fmt: skip
    rows[4]["grad_norm"] = "nan"  # written as a string for non-finite numbers: skipped
    rows.append({"kind": "eval", "step": 10, "val_loss": 0.4})
    _write_metrics(tmp_path, rows)
    paths = plot_run(tmp_path, tmp_path / "figures")
    assert [p.name for p in paths] == ["loss.png", "lr.png", "grad_norm.png"]
    for path in paths:
        data = path.read_bytes()
        assert data[:8] == PNG
        assert len(data) > 5000  # an actual figure, not an empty canvas
    assert plot_run(tmp_path)[0] == tmp_path / "plots" / "loss.png"


def test_missing_or_empty_metrics_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"metrics\.jsonl not found"):
        plot_run(tmp_path)
    _write_metrics(tmp_path, [{"kind": "eval", "step": 1, "val_loss": 1.0}])
    with pytest.raises(DataError, match="no training rows"):
        plot_run(tmp_path)


def test_a_torn_last_line_from_a_killed_run_is_ignored(tmp_path: Path) -> None:
    _write_metrics(tmp_path, [{"kind": "train", "step": 1, "loss": 1.0, "lr": 0.1,
                              "grad_norm": 1.0, "grad_norm_clipped": 1.0}])  # fmt: skip
    with open(tmp_path / "metrics.jsonl", "a") as handle:
        handle.write('{"kind": "train", "st')
    assert len(plot_run(tmp_path)) == 3
    with open(tmp_path / "metrics.jsonl", "a") as handle:
        handle.write('\n{"kind": "train", "step": 3}\n')
    with pytest.raises(DataError, match=r"metrics\.jsonl:2 is not a JSON object"):
        plot_run(tmp_path)

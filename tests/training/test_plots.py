"""`plot_run`: PNG training curves from metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnkit.errors import DataError
from rnnkit.training.plots import grad_norm_figure, plot_run, run_figures

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


def _norm_rows(norms: list[float], clip_norm: float | None) -> list[dict]:
    """Train rows as the trainer writes them: the norm after clipping is min(‖g‖, θ₀)."""
    return [
        {"kind": "train", "step": step, "loss": 1.0, "lr": 0.1, "grad_norm": norm,
         "grad_norm_clipped": norm if clip_norm is None else min(norm, clip_norm)}
        for step, norm in enumerate(norms, start=1)
    ]  # fmt: skip


def _lines(figure) -> dict[str, list[float]]:
    return {line.get_label(): list(line.get_ydata()) for line in figure.axes[0].get_lines()}


def test_grad_norm_shows_before_after_and_the_clip_threshold() -> None:
    rows = _norm_rows([0.5, 3.0, 1.5, 8.0, 2.5], clip_norm=2.0)
    figure = grad_norm_figure(rows, {"clip_norm": 2.0, "clip_value": None})
    lines = _lines(figure)
    assert lines == {
        "before clipping ‖g‖": [0.5, 3.0, 1.5, 8.0, 2.5],
        "after clipping min(‖g‖, θ₀)": [0.5, 2.0, 1.5, 2.0, 2.0],
        "threshold θ₀ = 2": [2.0, 2.0],  # a horizontal line across the axes
    }
    axes = figure.axes[0]
    assert [text.get_text() for text in axes.get_legend().get_texts()] == list(lines)
    assert (
        axes.get_title() == "gradient norm, clipped to ‖g‖ ≤ θ₀ = 2\n3 of 5 logged updates clipped"
    )


def test_grad_norm_without_clipping_is_one_line_and_the_title_says_so() -> None:
    rows = _norm_rows([0.5, 3.0, 1.5], clip_norm=None)
    figure = grad_norm_figure(rows, {"clip_norm": None, "clip_value": None})
    assert _lines(figure) == {"‖g‖ (not clipped)": [0.5, 3.0, 1.5]}
    assert figure.axes[0].get_title() == "gradient norm: no clipping configured"


def test_labels_come_from_the_run_config(tmp_path: Path) -> None:
    _write_metrics(tmp_path, _norm_rows([0.5, 9.0], clip_norm=5.0))
    config = {
        "task": "sentiment",
        "trainer": {"clip_norm": 5.0, "clip_value": None},
        "objective": {"unit": "example", "loss": "mean cross-entropy per example (nats)"},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))  # fmt: skip
    figures = run_figures(tmp_path)
    assert figures["loss.png"].axes[0].get_ylabel() == "mean cross-entropy per example (nats)"
    assert "threshold θ₀ = 5" in _lines(figures["grad_norm.png"])
    (tmp_path / "config.json").unlink()  # an older run: generic labels, both norms drawn
    figures = run_figures(tmp_path)
    assert figures["loss.png"].axes[0].get_ylabel() == "mean training loss"
    assert "no config.json" in figures["grad_norm.png"].axes[0].get_title()
    assert len(_lines(figures["grad_norm.png"])) == 2

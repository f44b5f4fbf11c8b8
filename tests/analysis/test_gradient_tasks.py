"""`rnnkit analyze tasks` and `heatmap`: quick runs through the API and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit.analysis.experiments.gradient_tasks import (
    HeatmapConfig,
    TasksConfig,
    run_heatmap,
    run_tasks,
    success_rates,
)
from rnnkit.analysis.experiments.long_range import TrainOutcome
from rnnkit.cli import main
from rnnkit.errors import ConfigError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _outcome(variant: str, solved: bool, seed: int) -> TrainOutcome:
    return TrainOutcome(
        problem="adding", length=50, variant=variant, seed=seed, solved=solved, steps=100,
        metric=0.1, diverged=False, seconds=1.0,
    )  # fmt: skip


def test_success_rates_count_seeds() -> None:
    outcomes = [_outcome("rnn", False, 0), _outcome("rnn", True, 1), _outcome("gru", True, 0)]
    assert success_rates(outcomes) == {("adding", 50, "rnn"): 0.5, ("adding", 50, "gru"): 1.0}


@pytest.mark.slow
def test_quick_tasks_write_table_plot_and_results(tmp_path: Path) -> None:
    config = TasksConfig(quick=True, variants=("rnn", "rnn_clip_omega", "lstm"))
    result = run_tasks(config, tmp_path)
    assert len(result.outcomes) == 2 * 3  # 2 problems × T = 25 × 3 variants × 1 seed
    assert (tmp_path / "tasks.png").read_bytes()[:8] == PNG_MAGIC
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    rows = [json.loads(line)["outcome"] for line in lines]
    assert {row["variant"] for row in rows} == {"rnn", "rnn_clip_omega", "lstm"}
    assert all(row["steps"] == 20 or row["solved"] for row in rows)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| problem | T | rnn | rnn_clip_omega | lstm |" in report
    assert "| temporal_order | 25 |" in report
    assert json.loads((tmp_path / "config.json").read_text())["quick"] is True
    # a rerun into the same folder trains nothing again: the outcomes come from results.jsonl
    (tmp_path / "results.jsonl").write_text("\n".join([*lines[:-1], "{not json"]) + "\n")
    again = run_tasks(config, tmp_path)
    assert again.outcomes[:-1] == result.outcomes[:-1]
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == len(lines) + 1


@pytest.mark.slow
def test_quick_heatmap_maps_and_cli(tmp_path: Path) -> None:
    result = run_heatmap(HeatmapConfig(quick=True), tmp_path / "api")
    assert set(result.maps) == {"rnn", "lstm"}
    assert result.training_steps == [0, 10, 20, 30]
    assert result.maps["rnn"].shape == (4, 25)  # (measurements, T)
    assert np.isfinite(result.maps["lstm"]).all()
    assert (tmp_path / "api" / "heatmap.png").read_bytes()[:8] == PNG_MAGIC
    out = tmp_path / "cli"
    code = main(
        ["analyze", "tasks", "--quick", "--problems", "adding", "--variants", "gru",
         "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    assert "| adding | 25 |" in (out / "report.md").read_text(encoding="utf-8")


def test_bad_configs() -> None:
    with pytest.raises(ConfigError, match="variants must be among"):
        TasksConfig(variants=("rnn", "tcn"))
    with pytest.raises(ConfigError, match="problems must be among"):
        TasksConfig(problems=("copy",))
    with pytest.raises(ConfigError, match="every must be"):
        HeatmapConfig(steps=10, every=20)
    assert main(["analyze", "tasks", "--variants", "tcn", "--out", "unused"]) == 2

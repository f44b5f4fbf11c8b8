"""analysis/experiments/trees.py and trees_config.py: the tree study and `rnnkit analyze trees`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnkit.analysis.experiments.trees import (
    DEPTH_BUCKETS,
    build,
    depth_key,
    matched_hidden_size,
    run_trees,
    size,
)
from rnnkit.analysis.experiments.trees_config import MODELS, TreeStudyConfig
from rnnkit.cli import main
from rnnkit.config import load_config
from rnnkit.errors import ConfigError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY = {"steps": 3, "num_train": 48, "num_test": 32, "batch_size": 16, "hidden_size": 8,
        "embed_dim": 8, "max_tokens": 30, "speed_repeats": 1, "threads": 1}  # fmt: skip


def test_run_trees_writes_its_files_and_a_row_per_model(tmp_path: Path) -> None:
    config = TreeStudyConfig(**TINY)
    result = run_trees(config, tmp_path)
    names = [path.name for path in result.files]
    assert names == ["report.md", "trees.json", "accuracy_by_depth.png", "config.json"]
    assert (tmp_path / "accuracy_by_depth.png").read_bytes()[:8] == PNG_MAGIC
    assert load_config(TreeStudyConfig, tmp_path / "config.json") == config
    assert [row["model"] for row in result.rows] == list(MODELS)
    assert result.counts["all"] == 32
    assert sum(n for key, n in result.counts.items() if key != "all") == 32
    budget = result.rows[0]["parameters"]  # child_sum at H = 8 sets the budget
    for row in result.rows:
        assert set(row["accuracy"]) == set(result.counts)
        assert all(0.0 <= value <= 1.0 for value in row["accuracy"].values())
        assert abs(row["parameters"] - budget) / budget < 0.1  # equal size, within 10 %
        assert row["trees_per_second_level"] > 0
        assert (row["trees_per_second_node"] is None) == (row["model"] == "lstm")
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    for row in result.rows:
        assert f"| {row['model']} | {row['hidden_size']} | {row['parameters']} |" in report
    assert "test acc (n=32)" in report
    saved = json.loads((tmp_path / "trees.json").read_text(encoding="utf-8"))
    assert saved["rows"] == json.loads(json.dumps(result.rows))


def test_the_same_seed_gives_the_same_accuracies(tmp_path: Path) -> None:
    config = TreeStudyConfig(**{**TINY, "models": ("binary", "lstm")})
    first = run_trees(config, tmp_path / "a").rows
    second = run_trees(config, tmp_path / "b").rows
    assert [row["accuracy"] for row in first] == [row["accuracy"] for row in second]


def test_matched_hidden_size_is_the_closest_count() -> None:
    budget = size(build("child_sum", 16, 8))
    for name in ("binary", "recursive", "lstm"):
        found = matched_hidden_size(name, budget, 8)
        distance = abs(size(build(name, found, 8)) - budget)
        for other in (found - 1, found + 1):  # its neighbours are no closer
            assert abs(size(build(name, other, 8)) - budget) >= distance


def test_depth_buckets() -> None:
    assert [depth_key(d) for d in (1, 2, 3, 4, 5, 6, 20)] == ["1", "2", "3", "4-5", "4-5",
                                                               "6-20", "6-20"]  # fmt: skip
    assert DEPTH_BUCKETS[-1][1] == 20  # MAX_DEPTH of ListOps


def test_quick_preset() -> None:
    sized = TreeStudyConfig(quick=True, steps=5).sized()
    assert (sized.steps, sized.num_train, sized.num_test, sized.quick) == (600, 6000, 1000, False)


@pytest.mark.parametrize(
    ("values", "match"),
    [({"models": ("gru",)}, "models must be among"), ({"models": ()}, "got none"),
     ({"steps": 0}, "steps"), ({"lr": 0.0}, "lr"), ({"threads": -1}, "threads")],
)  # fmt: skip
def test_bad_config_is_a_config_error(values: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        TreeStudyConfig(**values)


def test_cli_help_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["analyze", "trees", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "usage: rnnkit analyze trees" in out
    assert "--models" in out
    argv = ["analyze", "trees", "--models", "recursive", "--steps", "2", "--num-train", "32",
            "--num-test", "16", "--hidden-size", "8", "--max-tokens", "20", "--speed-repeats",
            "1", "--threads", "1", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    assert "report.md" in capsys.readouterr().out
    assert "| recursive |" in (tmp_path / "report.md").read_text(encoding="utf-8")

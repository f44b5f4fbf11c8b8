"""`rnnkit train / resume / eval / plot` through `rnnkit.cli.main` with a registered test task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models import register_tiny_task
from rnnkit.cli import main
from rnnkit.training import read_metrics

FAST = ["--quiet", "--device", "cpu", "--log-every", "1"]


@pytest.fixture(autouse=True)
def _tiny_task() -> None:
    register_tiny_task()


def _train(run_dir: Path, *extra: str) -> int:
    return main(["train", "tiny", "--run-dir", str(run_dir), *FAST, *extra])


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    out = capsys.readouterr().out.strip()
    assert out.startswith("error:")
    assert "\n" not in out
    return out


def test_train_writes_a_run_with_flags_from_both_configs(tmp_path: Path) -> None:
    run = tmp_path / "run"
    code = _train(run, "--max-steps", "4", "--checkpoint-every", "2", "--hidden-size", "12",
                  "--lr", "0.02", "--seed", "5", "--data", str(tmp_path))  # fmt: skip
    assert code == 0
    config = json.loads((run / "config.json").read_text())
    assert config["task"] == "tiny"
    assert config["task_config"]["hidden_size"] == 12
    assert config["trainer"]["lr"] == 0.02
    assert config["trainer"]["seed"] == 5
    assert config["data"] == str(tmp_path.resolve())
    assert sorted(p.name for p in (run / "checkpoints").glob("step-*")) == [
        "step-00000002", "step-00000004"
    ]  # fmt: skip


def test_config_file_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text('hidden_size = 10\nlr = 0.5\n[trainer]\nmax_steps = 3\noptimizer = "sgd"\n')
    run = tmp_path / "run"
    assert _train(run, "--config", str(config), "--lr", "0.25") == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["task_config"]["hidden_size"] == 10
    assert (saved["trainer"]["lr"], saved["trainer"]["optimizer"]) == (0.25, "sgd")
    assert [row["step"] for row in read_metrics(run) if row["kind"] == "train"] == [1, 2, 3]


def test_resume_eval_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert _train(run, "--max-steps", "3", "--eval-every", "3") == 0
    assert main(["resume", str(run), "--max-steps", "5", "--quiet"]) == 0
    assert [r["step"] for r in read_metrics(run) if r["kind"] == "train"] == [1, 2, 3, 4, 5]
    capsys.readouterr()
    assert main(["eval", str(run)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["checkpoint"].endswith("step-00000005")
    assert result["val_loss"] == pytest.approx(read_metrics(run)[-1]["val_loss"])
    assert main(["eval", str(run), "--checkpoint", "best", "--device", "cpu"]) == 0
    assert "val_perplexity" in json.loads(capsys.readouterr().out)
    assert main(["plot", str(run)]) == 0
    paths = capsys.readouterr().out.split()
    assert [Path(p).name for p in paths] == ["loss.png", "lr.png", "grad_norm.png"]
    assert all(Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "tiny", "--hidden-size", "0"], "hidden_size must be a positive integer"),
        (["train", "tiny", "--tbptt-k1", "4", "--tbptt-k2", "2"], "tbptt_k2 must be"),
        (["resume", "{tmp}/nowhere"], "not an rnnkit run directory"),
        (["eval", "{tmp}/nowhere"], "not an rnnkit run directory"),
        (["plot", "{tmp}"], "no metrics have been logged"),
    ],
)
def test_errors_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    if argv[0] == "train":
        argv += ["--run-dir", str(tmp_path / "run"), *FAST]
    assert main(argv) == 2
    assert message in _one_error_line(capsys)


def test_run_dir_reuse_bad_config_keys_and_unknown_tasks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert _train(run, "--max-steps", "2") == 0
    capsys.readouterr()
    assert _train(run, "--max-steps", "2") == 2
    assert "already holds a run; continue it with `rnnkit resume" in _one_error_line(capsys)
    bad = tmp_path / "bad.json"
    bad.write_text('{"hiden_size": 3}')
    assert _train(tmp_path / "other", "--config", str(bad)) == 2
    assert "unknown config key 'hiden_size'" in _one_error_line(capsys)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "task": "gone"}))
    assert main(["resume", str(run)]) == 2
    assert "unknown task 'gone'; known tasks:" in _one_error_line(capsys)
    with pytest.raises(SystemExit):
        main(["train", "gone"])
    assert "invalid choice: 'gone'" in capsys.readouterr().err


def test_a_corrupt_latest_checkpoint_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert _train(run, "--max-steps", "2") == 0
    weights = run / "checkpoints" / "step-00000002" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    capsys.readouterr()
    assert main(["resume", str(run), "--max-steps", "4"]) == 2
    assert "model.safetensors is truncated" in _one_error_line(capsys)


def test_train_help_lists_task_and_trainer_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["train", "tiny", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--hidden-size", "--tbptt-k1", "--clip-norm", "--data", "--run-dir", "--config"):
        assert flag in text

"""analysis/experiments/act.py and act_config.py: the ACT study and `rnnkit analyze act`."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnkit.analysis.experiments.act import addition_scores, run_act
from rnnkit.analysis.experiments.act_config import ACTStudyConfig
from rnnkit.cli import main
from rnnkit.config import load_config
from rnnkit.datasets.act_tasks import END_OF_NUMBER, NO_TARGET
from rnnkit.errors import ConfigError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY = {"quick": True, "steps": 2, "bits": 4, "taus": (0.001, 0.01)}  # seconds, not minutes


def test_addition_scores_by_hand() -> None:
    # two sequences, T = 2, S = 2 sum digits; t = 0 has no target (as in addition_batch)
    targets = torch.full((2, 2, 2), NO_TARGET)
    targets[:, 1] = torch.tensor([[3, END_OF_NUMBER], [7, END_OF_NUMBER]])
    predicted = targets.clamp(min=0).clone()
    predicted[1, 1, 0] = 4  # sequence 1 gets one digit wrong
    logits = torch.nn.functional.one_hot(predicted, END_OF_NUMBER + 1).double()  # (B, T, S, 11)
    error, digits = addition_scores(logits, targets)
    assert error == pytest.approx(0.5)  # 1 of 2 sequences wrong
    assert digits == pytest.approx(3 / 4)  # 3 of 4 scored digits right
    one_number = targets.clone()
    one_number[1] = NO_TARGET  # a sequence without targets is left out of the error rate
    assert addition_scores(logits, one_number)[0] == pytest.approx(0.0)


def test_run_act_synthetic_parts_write_their_files_and_tables(tmp_path: Path) -> None:
    config = ACTStudyConfig(parts=("parity", "addition"), **TINY)
    result = run_act(config, tmp_path)
    assert [path.name for path in result.files] == ["report.md", "act.json", "config.json"]
    assert all(path.is_file() for path in result.files)
    assert load_config(ACTStudyConfig, tmp_path / "config.json") == config
    saved = json.loads((tmp_path / "act.json").read_text(encoding="utf-8"))
    assert saved["rows"] == json.loads(json.dumps(result.rows))
    assert saved["runs"]["parity"]["bits"] == 4
    assert saved["runs"]["addition"]["steps"] == 2
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    for part, metrics in (("parity", ("accuracy",)),
                          ("addition", ("sequence_error", "digit_accuracy"))):  # fmt: skip
        rows = result.rows[part]
        assert [(r["model"], r["tau"]) for r in rows] == [
            ("no ACT", None), ("ACT", 0.001), ("ACT", 0.01)
        ]  # fmt: skip
        assert rows[0]["ponder"] == 1.0  # the plain cell takes one step per input
        for row in rows:
            assert all(0.0 <= row[name] <= 1.0 for name in metrics)
            assert 1.0 <= row["ponder"] <= (20 if part == "parity" else 10)  # 1 … M
        assert report.count(f"| ACT | 0.01 | {rows[2][metrics[0]]:.3f} |") == 1
    assert "parity: 4 bits" in report
    assert "addition: D_max=2" in report


def test_run_act_is_repeatable(tmp_path: Path) -> None:
    config = ACTStudyConfig(parts=("parity",), quick=True, steps=2, bits=4, taus=(0.01,))
    first = run_act(config, tmp_path / "a").rows["parity"]
    second = run_act(config, tmp_path / "b").rows["parity"]
    for row in (*first, *second):
        row.pop("seconds")
    assert first == second


def test_run_act_charlm_writes_the_ponder_plot(tmp_path: Path) -> None:
    result = run_act(ACTStudyConfig(parts=("charlm",), quick=True, steps=2), tmp_path)
    assert (tmp_path / "ponder_charlm.png").read_bytes()[:8] == PNG_MAGIC
    assert tmp_path / "ponder_charlm.png" in result.files
    plain, act = result.rows["charlm"]
    assert (plain["model"], act["model"], act["tau"]) == ("LSTM", "ACT LSTM", 0.01)
    assert plain["ponder"] == plain["ponder_space"] == plain["ponder_other"] == 1.0
    for row in (plain, act):
        assert 0.0 < row["bpc"] < math.log2(128)  # at most a little above uniform over ~65 chars
        assert 1.0 <= row["ponder"] <= 20
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| LSTM | – |" in report
    assert "| ACT LSTM | 0.01 |" in report


def test_presets_apply_steps_bits_and_seed() -> None:
    parity, addition, chars = ACTStudyConfig(quick=True, steps=7, bits=5, seed=3).presets()
    assert (parity.bits, parity.steps, addition.steps, chars.steps) == (5, 7, 7, 7)
    assert {parity.seed, addition.seed, chars.seed} == {3}
    parity, addition, chars = ACTStudyConfig().presets()
    assert (parity.bits, parity.steps, addition.max_digits, chars.steps) == (8, 8000, 3, 1500)


@pytest.mark.parametrize(
    ("values", "match"),
    [({"parts": ("parity", "sorting")}, "parts must be among"), ({"parts": ()}, "got none"),
     ({"taus": (-0.1,)}, "τ"), ({"steps": 0}, "steps"), ({"threads": 0}, "threads")],
)  # fmt: skip
def test_bad_config_is_a_config_error(values: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        ACTStudyConfig(**values)


def test_cli_help_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["analyze", "act", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "usage: rnnkit analyze act" in out
    assert "--taus" in out
    assert "--out" in out
    argv = ["analyze", "act", "--parts", "parity", "--quick", "--steps", "2", "--bits", "4",
            "--taus", "0.01", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    assert "report.md" in capsys.readouterr().out
    assert json.loads((tmp_path / "config.json").read_text())["parts"] == ["parity"]


def test_cli_bad_part_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["analyze", "act", "--parts", "sorting", "--out", str(tmp_path)])
    assert code == 2
    assert "parts must be among" in " ".join(capsys.readouterr().out.split())


def test_the_study_helps_load_no_torch() -> None:
    """`rnnkit analyze act|trees|variants --help` read the torch-free config modules only."""
    code = (
        "import contextlib, io, sys\n"
        "from rnnkit.cli import main\n"
        "for name in ('act', 'trees', 'variants'):\n"
        "    with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "        try:\n"
        "            main(['analyze', name, '--help'])\n"
        "        except SystemExit:\n"
        "            pass\n"
        "    assert f'usage: rnnkit analyze {name}' in out.getvalue(), name\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'matplotlib', 'numpy'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"

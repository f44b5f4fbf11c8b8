"""A short kill-and-resume campaign in CI: `bench/reliability/kill_resume.py`, 2 tasks × 2 trials.

Each trial SIGKILLs `rnnkit train` (seed 0: trial 0 after a random step, trial 1 when a
`.tmp-step-*` checkpoint directory appears), resumes, and must match the unbroken run's train
losses bit for bit with every checkpoint intact. The campaign's own check for lost checkpoints
is shown to fire on a checkpoint corrupted by hand, so a silent check cannot pass.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "reliability" / "kill_resume.py"

pytestmark = pytest.mark.slow


def _campaign_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kill_resume_campaign", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("task", ["charlm", "forecast"])
def test_killed_runs_resume_to_the_unbroken_losses(task: str, tmp_path: Path) -> None:
    campaign = _campaign_module()
    tally = campaign._campaign(task, 2, 0, 9, tmp_path)
    assert (tally.trials, tally.differing, tally.lost) == (2, 0, 0), tally.notes
    assert tally.notes == []
    trial = max((tmp_path / task).glob("trial-*/checkpoints/step-*"))
    assert campaign._lost(trial.parents[1], set()) == ""
    (trial / "state.json").write_text("{}", encoding="utf-8")  # a torn write, by hand
    assert campaign._lost(trial.parents[1], set()).startswith("a checkpoint does not load")


def test_a_checkpoint_gone_after_the_kill_counts_as_lost(tmp_path: Path) -> None:
    campaign = _campaign_module()
    (tmp_path / "checkpoints").mkdir()
    assert campaign._lost(tmp_path, {6}).startswith(
        "step-6 was complete before the kill and is gone"
    )

"""A short kill-and-resume campaign in CI: `bench/reliability/kill_resume.py`, 2 tasks × 2 trials.

Each trial SIGKILLs `rnnkit train` (seed 0: trial 0 after a random step, trial 1 when a
`.tmp-step-*` checkpoint directory appears), resumes, and must match the unbroken run's train
losses bit for bit with every checkpoint intact. The campaign's own check for lost checkpoints
is shown to fire on a checkpoint corrupted by hand, so a silent check cannot pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.reliability import kill_resume as campaign

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("task", ["charlm", "forecast"])
def test_killed_runs_resume_to_the_unbroken_losses(task: str, tmp_path: Path) -> None:
    tally = campaign._campaign(task, 2, 0, 9, tmp_path)
    assert (tally.trials, tally.differing, tally.lost) == (2, 0, 0), tally.notes
    assert tally.notes == []
    trial = max((tmp_path / task).glob("trial-*/checkpoints/step-*"))
    assert campaign._lost(trial.parents[1], set()) == ""
    (trial / "state.json").write_text("{}", encoding="utf-8")  # a torn write, by hand
    assert campaign._lost(trial.parents[1], set()).startswith("a checkpoint does not load")


def test_a_checkpoint_gone_after_the_kill_counts_as_lost(tmp_path: Path) -> None:
    (tmp_path / "checkpoints").mkdir()
    assert campaign._lost(tmp_path, {6}).startswith(
        "step-6 was complete before the kill and is gone"
    )

"""The distributed kill campaign in CI (`bench/reliability/distributed_kill.py`): one trial.

A two-process torchrun charlm run (gloo, CPU) loses rank 1 to SIGKILL the moment rank 0
starts writing its step-6 checkpoint (seed 16: `write after step 5`). Rank 0 must finish that
write, fail the barrier after it within the bound, with its one error line and no traceback;
every checkpoint must load, the run lock must be free, and `torchrun … rnnkit resume` must
train on to the last step. Before `rnnkit.training.distributed` turned the backend's error
into a LostProcessError, the survivor ended in a traceback of some 40 lines (exit 1).

The silent-peer half of the bound (the collective timeout) is tested without torchrun in
`tests/training/test_distributed.py::test_a_dead_or_silent_peer_ends_a_collective_in_one_line`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.reliability import distributed_kill as campaign

pytestmark = pytest.mark.slow


def test_a_sigkilled_rank_leaves_a_bounded_exit_and_a_run_that_resumes(tmp_path: Path) -> None:
    trial = campaign.run_trial(16, 9, tmp_path, reference=None)
    assert trial.failures == [], campaign.table([trial])
    assert (trial.signal, trial.rank, trial.moment) == ("KILL", 1, "write after step 5")
    assert trial.survivor_s < campaign.BOUND_S
    assert trial.survivor_status in (2, -15)  # its own exit, or torchrun's SIGTERM after it
    assert trial.survivor_line.startswith("error: process 0 of 2 stopped: another process")
    assert "rnnkit resume RUN_DIR" in trial.survivor_line
    assert not trial.restarted
    assert campaign.lock_released(tmp_path / "trial-16")

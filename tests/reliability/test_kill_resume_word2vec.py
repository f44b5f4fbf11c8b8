"""The kill-and-resume campaign's word2vec task in CI: `bench/reliability/kill_resume.py`, 2 trials.

Each trial SIGKILLs `rnnkit word2vec train` (seed 0: trial 0 after a random round, trial 1 when
a `.tmp-step-*` checkpoint directory appears), resumes it with `rnnkit resume`, and must match
the unbroken run's round rows and final vectors byte for byte with every checkpoint intact.
The comparison of the vectors is shown to fire on a changed byte, so it cannot pass silently.
(tests/reliability/test_kill_resume_campaign.py, the other tasks, already takes ~56 s.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.reliability import kill_resume as campaign


@pytest.mark.slow
def test_killed_word2vec_runs_resume_to_the_unbroken_run(tmp_path: Path) -> None:
    tally = campaign._campaign("word2vec", 2, 0, 4, tmp_path)
    assert (tally.trials, tally.differing, tally.lost) == (2, 0, 0), tally.notes
    assert tally.notes == []
    reference, trial = tmp_path / "word2vec/reference", tmp_path / "word2vec/trial-0"
    rows = campaign._losses(trial)
    assert [k for k, _ in rows] == list(range(1, 5))  # 2 epochs of 2 rounds, each logged once
    assert rows[-1][1]["step"] == 4 * 65536
    assert campaign._outputs(trial) == campaign._outputs(reference)
    assert len(campaign._outputs(trial)) == 2
    vectors = bytearray((trial / "vectors.safetensors").read_bytes())
    vectors[-1] ^= 0x01
    (trial / "vectors.safetensors").write_bytes(bytes(vectors))
    assert campaign._outputs(trial) != campaign._outputs(reference)

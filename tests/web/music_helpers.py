"""A tiny trained music run for the web tests: 20 updates of an 8-unit LSTM on 8 real chorales.

The chorales come from music21's corpus (a dev dependency, as for tests/tasks/test_music.py);
parsing the first 8 files and training take about 5 s on 2 cores.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rnnkit import tasks
from rnnkit.config import make_config
from rnnkit.tasks.music.config import MusicConfig
from rnnkit.training import TrainerConfig

TINY_MUSIC = make_config(MusicConfig, max_pieces=8, hidden_size=8, batch_size=3)  # 6/1/1 pieces


def train_music(run_dir: Path) -> Path:
    """The run, on one torch thread, with the chorale cache kept beside it (not in ~/.cache)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("XDG_CACHE_HOME", str(run_dir.parent / f"{run_dir.name}-cache"))
            trainer = TrainerConfig(max_steps=20, lr=0.03, eval_every=10, checkpoint_every=10,
                                    log_every=1, quiet=True, device="cpu")  # fmt: skip
            tasks.train("music", TINY_MUSIC, trainer, run_dir=run_dir)
    finally:
        torch.set_num_threads(threads)
    return run_dir

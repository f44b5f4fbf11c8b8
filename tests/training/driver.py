"""Runs `rnnkit.cli.main` with the test task registered: `python driver.py train tiny ...`.

The kill/resume, signal and DDP tests launch this script in a subprocess (or under torchrun).
"""

from __future__ import annotations

import sys

import torch

from models import register_tiny_task
from rnnkit.cli import main

if __name__ == "__main__":
    torch.set_num_threads(1)  # two runs side by side on two cores
    torch.use_deterministic_algorithms(True, warn_only=True)
    register_tiny_task()
    sys.exit(main(sys.argv[1:]))

"""Seeds and deterministic switches, and RNG state capture for exact resume.

`seed_everything` seeds Python's `random`, NumPy and torch (init, dropout). Data order and
sampling use their own `torch.Generator`s made from the same seed (`make_generator`).
"""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int, *, deterministic: bool = True) -> None:
    """Seed `random`, NumPy and torch; optionally ask torch for deterministic algorithms."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A torch.Generator seeded with `seed`, for data order or sampling."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


def rng_state() -> dict[str, object]:
    """JSON-serialisable snapshot of the global Python, NumPy and torch (CPU) RNG states."""
    py_version, py_state, py_gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    return {
        "python": [py_version, list(py_state), py_gauss],
        "numpy": [np_name, np_keys.tolist(), int(np_pos), int(np_has_gauss), float(np_gauss)],
        "torch": torch.get_rng_state().tolist(),
    }


def set_rng_state(state: dict[str, object]) -> None:
    """Restore a snapshot made by `rng_state`."""
    py_version, py_state, py_gauss = state["python"]  # type: ignore[misc]
    random.setstate((py_version, tuple(py_state), py_gauss))
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = state["numpy"]  # type: ignore[misc]
    np.random.set_state(
        (np_name, np.asarray(np_keys, dtype=np.uint32), np_pos, np_has_gauss, np_gauss)
    )
    torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))

"""Suite-wide fixtures: a seed for every test, deterministic algorithms, float64 helper."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import torch

from rnnkit.seeding import seed_everything

torch.use_deterministic_algorithms(True, warn_only=True)


@pytest.fixture(autouse=True)
def _seed() -> None:
    seed_everything(1234)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Undo a CLI test's `setup_logging`, so later doctests see no log lines on stdout."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Run a test on one torch thread: small models are faster so on shared cores."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def float64() -> Iterator[torch.dtype]:
    """Run a test with float64 as the default dtype (gradcheck, 1e-10 parity)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch.float64
    torch.set_default_dtype(previous)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `gpu` tests when CUDA is absent."""
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)

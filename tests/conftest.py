"""Suite-wide fixtures: a seed for every test, deterministic algorithms, float64 helper.

It also runs the `shared_data` marker: `@pytest.mark.shared_data("sms_spam", ...)` on a test (or
`pytestmark = pytest.mark.shared_data(...)` on a module) names the folders of ../shared/data it
reads. Where one is absent the test is skipped with the reason below, so `make test` passes in a
bare clone; with RNNKIT_REQUIRE_SHARED_DATA=1 (set by .ci/run) the same test fails instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping

import pytest
import torch

from rnnkit.datasets.shared import locate_shared
from rnnkit.seeding import seed_everything
from tiny_runs import runs, tiny_runs  # noqa: F401  (session fixtures: a tiny run of every task)

REQUIRE_SHARED_DATA = "RNNKIT_REQUIRE_SHARED_DATA"  # "1" turns a shared_data skip into a failure

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


def missing_shared_data(item: pytest.Item) -> str | None:
    """Why `item` cannot run here (its shared_data folders that are absent), or None if it can."""
    folders: list[str] = []
    for mark in item.iter_markers(name="shared_data"):
        if not mark.args or not all(isinstance(folder, str) for folder in mark.args):
            raise pytest.UsageError(
                f"{item.nodeid}: shared_data needs folder names of ../shared/data, e.g. "
                f'@pytest.mark.shared_data("sms_spam"); got {mark.args!r}'
            )
        folders += mark.args
    missing = [folder for folder in dict.fromkeys(folders) if locate_shared(folder) is None]
    if not missing:
        return None
    needs = ", ".join(f"../shared/data/{folder}" for folder in missing)
    return f"needs {needs} (absent here; CI sets {REQUIRE_SHARED_DATA}=1)"


def shared_data_required(environ: Mapping[str, str] | None = None) -> bool:
    """True when RNNKIT_REQUIRE_SHARED_DATA is set to anything but "", "0", "false" or "no"."""
    value = (os.environ if environ is None else environ).get(REQUIRE_SHARED_DATA, "")
    return value.strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under RNNKIT_REQUIRE_SHARED_DATA=1, fail a test whose shared data is absent."""
    reason = missing_shared_data(item)
    if reason is not None and shared_data_required():
        pytest.fail(f"{reason}; {REQUIRE_SHARED_DATA} is set, so this fails", pytrace=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `gpu` tests when CUDA is absent, and shared_data tests whose folders are absent."""
    skip_gpu = None if torch.cuda.is_available() else pytest.mark.skip(reason="needs CUDA")
    required = shared_data_required()
    for item in items:
        if skip_gpu is not None and "gpu" in item.keywords:
            item.add_marker(skip_gpu)
        reason = missing_shared_data(item)
        if reason is not None and not required:
            item.add_marker(pytest.mark.skip(reason=reason))

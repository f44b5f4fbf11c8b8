"""The app serving the tiny trained runs of every task (`runs`, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rnnkit.web.app import create_app


@pytest.fixture(scope="session")
def app_runs(runs: dict[str, Path]) -> list[Path]:
    """Every run, served by one app (the charlm LSTM first)."""
    return list(runs.values())


@pytest.fixture(scope="session")
def client(app_runs: list[Path]) -> Iterator[TestClient]:
    """A client of the app serving every run, with the default settings."""
    with TestClient(create_app(app_runs)) as test_client:
        yield test_client

"""A short fuzzing run in CI: the atheris harnesses of bench/reliability, and their bodies alone.

`test_atheris_run_over_the_ci_targets` runs `python -m bench.reliability.fuzz` (atheris, libFuzzer)
for a fixed number of inputs in a subprocess (libFuzzer ends its process) and requires every
target to run, load its seeds and crash nowhere. Where atheris is not installed it drives the
same harness bodies with hypothesis instead, so nothing is skipped. The parametrised test runs
each body in-process on its seed files mutated by hypothesis (flipped, inserted, deleted,
truncated bytes): a crash there names the target and gives a shrunk input.

`resume` (a state.json whose digest was made to match, as a hand edit would) crashed in
seeding.py and training/data.py until `training.snapshot` turned malformed entries into
CheckpointError; it now runs here with the others.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.reliability.harnesses import TARGETS, run_one

ROOT = Path(__file__).resolve().parents[2]  # `python -m bench.reliability.fuzz` runs from here

CI_TARGETS = list(TARGETS)
RUNS = 1500  # inputs of the atheris run, shared by all CI targets (the first byte picks one)
Edit = tuple[str, int, bytes]


@cache
def _seeds(name: str) -> tuple[bytes, ...]:
    return tuple(TARGETS[name].seeds())


def _apply(seed: bytes, edits: list[Edit]) -> bytes:
    """`seed` with each edit applied: flip (xor), insert, delete or truncate at a position."""
    data = bytearray(seed)
    for kind, position, payload in edits:
        at = position % (len(data) + 1)
        if kind == "flip" and at < len(data):
            data[at] ^= payload[0] or 1
        elif kind == "insert":
            data[at:at] = payload
        elif kind == "delete":
            del data[at : at + len(payload)]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


EDITS = st.lists(
    st.tuples(
        st.sampled_from(["flip", "insert", "delete", "truncate"]),
        st.integers(0, 2**16),
        st.binary(min_size=1, max_size=8),
    ),
    max_size=4,
)


def _mutated_seeds(name: str, data: st.DataObject, scratch: Path) -> None:
    seed = data.draw(st.sampled_from(_seeds(name)), label="seed")
    run_one(name, _apply(seed, data.draw(EDITS, label="edits")), scratch)


@pytest.mark.parametrize("name", CI_TARGETS)
def test_each_harness_body_survives_mutated_seeds(tmp_path: Path, name: str) -> None:
    assert any(run_one(name, seed, tmp_path) for seed in _seeds(name)), "a seed must load"

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def mutated(data: st.DataObject) -> None:
        _mutated_seeds(name, data, tmp_path)

    mutated()


@pytest.mark.slow
def test_atheris_run_over_the_ci_targets(tmp_path: Path) -> None:
    if importlib.util.find_spec("atheris") is None:  # no wheel: the same bodies, by hypothesis

        @settings(max_examples=RUNS // 4, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.sampled_from(CI_TARGETS), st.data())
        def fallback(name: str, data: st.DataObject) -> None:
            _mutated_seeds(name, data, tmp_path)

        fallback()
        return
    targets = [arg for name in CI_TARGETS for arg in ("--target", name)]
    command = [sys.executable, "-m", "bench.reliability.fuzz", *targets, "--runs", str(RUNS),
               "--seed", "1", "--out", str(tmp_path / "fuzz")]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = dict(re.findall(r"^(\w+)\s+(\d+\s+\d+\s+\d+\s+\d+)$", done.stdout, re.MULTILINE))
    assert sorted(rows) == sorted(CI_TARGETS)
    for name, row in rows.items():
        runs, loaded, refused, crashes = map(int, row.split())
        assert runs == loaded + refused + crashes
        assert loaded >= 1, f"{name}: not even its seeds loaded"
        assert crashes == 0, name
    assert f"total {RUNS} runs" in done.stdout

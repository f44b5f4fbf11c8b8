"""Generation: the length and time limits, the events, and grad mode across the pool's threads."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from rnnkit.web import generation as module
from rnnkit.web.generation import Generation, sse_events


def _counting() -> Iterator[str]:
    with torch.no_grad():  # held across the yields, as any user's generator may
        for k in itertools.count():
            yield str(k)


def test_the_time_limit_is_checked_before_every_token(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 0.5, 1.5, 2.5, 3.5])  # start, then one reading before each token
    monkeypatch.setattr(module.time, "monotonic", lambda: next(clock))
    generation = Generation(_counting(), length=10, seconds=3.0)
    assert list(generation) == ["0", "1", "2"]
    assert (generation.tokens, generation.stopped) == (3, "time_limit")


def test_events_end_with_done_or_error() -> None:
    done = list(sse_events(Generation(iter(["a", "b"]), length=5, seconds=10.0)))
    assert done == [
        'event: token\ndata: {"text": "a"}\n\n',
        'event: token\ndata: {"text": "b"}\n\n',
        'event: done\ndata: {"tokens": 2, "stopped": "eos"}\n\n',
    ]

    def failing() -> Iterator[str]:
        yield "é"
        raise ValueError("bad step")

    failed = list(sse_events(Generation(failing(), length=5, seconds=10.0)))
    assert failed[0] == 'event: token\ndata: {"text": "é"}\n\n'
    detail = "generation failed after 1 tokens: bad step"
    assert failed[1] == f'event: error\ndata: {{"detail": "{detail}"}}\n\n'
    assert len(failed) == 2


def test_grad_mode_is_restored_in_every_thread_that_steps_the_generation() -> None:
    tokens = iter(Generation(_counting(), length=3, seconds=10.0))
    seen: list[tuple[str | None, bool]] = []

    def step() -> None:  # Starlette calls next() like this, each time from a pool thread
        seen.append((next(tokens, None), torch.is_grad_enabled()))

    with ThreadPoolExecutor(max_workers=3) as pool:
        for _ in range(4):
            pool.submit(step).result()
    assert seen == [("0", True), ("1", True), ("2", True), (None, True)]

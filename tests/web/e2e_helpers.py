"""Helpers of the browser test: tiny trained runs, the app served by uvicorn in a thread, Chromium.

The browser is Debian's `chromium` driven by Playwright's Python package; Playwright's own
browser download (`playwright install`) is never used.

References:
    https://playwright.dev/python/docs/api/class-browsertype#browser-type-launch
    https://www.uvicorn.org/deployment/#running-programmatically
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi import FastAPI

from rnnkit import tasks
from rnnkit.config import make_config
from rnnkit.tasks.charlm.config import CharLMConfig
from rnnkit.tasks.classify.config import ClassifyConfig
from rnnkit.training import TrainerConfig

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = (
    "as root: `apt-get update && apt-get install -y chromium` (Debian's browser at "
    "/usr/bin/chromium), and `pip install playwright` (the `dev` extra); "
    "do not run `playwright install`"
)
POSITIVE, NEGATIVE = ["good", "great", "superb", "fun"], ["bad", "awful", "dull", "boring"]
FILLER = ["the", "film", "was", "plot", "acting", "and", "very", "a", "really", "story"]


def train_charlm(run_dir: Path, *, steps: int = 10, hidden_size: int = 16) -> Path:
    """A tiny character LSTM on the embedded corpus (a few seconds on 2 cores)."""
    config = make_config(CharLMConfig,
        max_chars=30_000, batch_size=4, seq_len=16, embed_dim=8, hidden_size=hidden_size,
        num_layers=1, samples=0,
    )  # fmt: skip
    trainer = TrainerConfig(
        max_steps=steps, eval_every=0, checkpoint_every=0, log_every=steps, quiet=True,
        device="cpu", lr=1e-2,
    )  # fmt: skip
    tasks.train("charlm", config, trainer, run_dir=run_dir)
    return run_dir


def write_reviews(path: Path, count: int = 96) -> Path:
    """A separable CSV: a "pos" text holds a positive word, a "neg" text a negative one."""
    rng = random.Random(0)
    lines = ["text,label"]
    for i in range(count):
        words = rng.choices(FILLER, k=rng.randint(2, 9))
        words.insert(rng.randint(0, len(words)), rng.choice(POSITIVE if i % 2 else NEGATIVE))
        lines.append(f"{' '.join(words)},{'pos' if i % 2 else 'neg'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def train_sentiment(
    run_dir: Path, *, steps: int = 60, hidden_size: int = 8, max_tokens: int | None = None
) -> Path:
    """A tiny GRU sentiment classifier on `write_reviews` data (a few seconds on 2 cores);
    with `max_tokens`, it reads only the first max_tokens tokens of a text."""
    data = write_reviews(run_dir.parent / f"{run_dir.name}-reviews.csv")
    config = make_config(ClassifyConfig,
        dataset="csv", folds=4, cell="gru", embed_dim=8, hidden_size=hidden_size,
        batch_size=8, dropout=0.0, pooling="max", max_tokens=max_tokens,
    )  # fmt: skip
    trainer = TrainerConfig(
        max_steps=steps, eval_every=0, checkpoint_every=0, log_every=1, quiet=True,
        device="cpu", lr=0.03,
    )  # fmt: skip  # a row per step: the page draws its training curves
    tasks.train("sentiment", config, trainer, data=data, run_dir=run_dir)
    return run_dir


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def live_server(app: FastAPI, *, timeout: float = 30.0) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 in a daemon thread; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="rnnkit-e2e-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"uvicorn did not start on 127.0.0.1:{port} within {timeout} s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium under Playwright; fails (never skips) with how to install it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; the browser test needs it. Install it {INSTALL_HINT}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"the Playwright package is missing. Install it {INSTALL_HINT}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()

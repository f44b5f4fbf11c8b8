"""The web server as a whole under abuse that stays inside every per-request limit (issue 22).

Each test failed before its fix, as noted: a body of unknown keys validated key by key (a 39 MB
422 after 50 s of CPU), generations holding every worker thread of the pool (GET /api/models
waited for them), a 16-bit PNG decoded through float64 arrays (936 MB), any Host answered (DNS
rebinding), other sites' pages answered, and connections that never finish their headers held
for ever. docs/RELIABILITY.md, "The web server", has the figures and their commands.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from rnnkit.web.app import create_app
from rnnkit.web.handlers import MAX_ERRORS
from rnnkit.web.limits import Slots
from rnnkit.web.server import HeaderTimeout, uvicorn_options
from rnnkit.web.settings import ServeSettings

pytestmark = pytest.mark.usefixtures("one_thread")
LM, GRU = "/api/models/charlm-lstm", "/api/models/charlm-gru"
SMALL = 2048  # bytes: every refusal below is at most this long


@pytest.fixture(scope="module")
def client(runs: dict[str, Path]) -> TestClient:
    return TestClient(create_app(list(runs.values())))  # the default ServeSettings


def unknown_keys(count: int) -> bytes:
    """{"k000000":0,"k000001":0,…}: 12 bytes a key."""
    return ("{" + ",".join(f'"k{i:06d}":0' for i in range(count)) + "}").encode()


def post_json(client: TestClient, path: str, body: bytes, **headers: str) -> Any:
    return client.post(path, content=body, headers={"content-type": "application/json", **headers})


# -- validation as a denial of service ------------------------------------------------------------
def test_390000_unknown_keys_get_a_small_413_before_any_parsing(client: TestClient) -> None:
    body = unknown_keys(390_000)  # 4.68 MB, under the 5 MB upload cap every route had
    response = post_json(client, f"{LM}/generate", body)
    assert response.status_code == 413  # was 422 with 390,000 errors: 39 MB after ~60 s
    assert len(response.content) < SMALL
    assert "over 28096 bytes" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "count"), [(f"{LM}/generate", 2_000), ("/api/models/forecast-run/forecast", 25_000)]
)
def test_many_unknown_keys_under_the_cap_are_one_small_error(
    client: TestClient, path: str, count: int
) -> None:
    response = post_json(client, path, unknown_keys(count))
    assert response.status_code == 422
    assert len(response.content) < SMALL  # was one error per key
    [error] = response.json()["detail"]
    assert error["type"] == "extra_forbidden"
    assert error["msg"].startswith(f"{count} unknown fields: 'k000000', 'k000001'")
    assert error["input"] == f"{count} items"


def test_a_few_unknown_keys_are_still_named_one_by_one(client: TestClient) -> None:
    response = client.post(f"{LM}/generate", json={"length": 5, "colour": 1, "size": 2})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "colour"], ["body", "size"]]


def test_a_422_is_cut_to_a_small_size(client: TestClient) -> None:
    long = {"text": "a", "x" * 5000: "y" * 20_000}  # a long key and a long value
    response = client.post("/api/models/sentiment-gru/classify", json=long)
    assert response.status_code == 422
    assert len(response.content) < SMALL  # the key and the value were echoed whole
    [error] = response.json()["detail"]
    assert error["loc"][1] == "x" * 100 + "…"
    assert error["input"] == "y" * 100 + "…"
    bad_points = {"history": ["a"] * 5000}  # 5,000 errors, one per point
    response = client.post("/api/models/forecast-run/forecast", json=bad_points)
    assert response.status_code == 422
    assert len(response.content) < 4 * SMALL  # was 5,000 errors
    errors = response.json()["detail"]
    assert len(errors) == MAX_ERRORS + 1
    assert errors[-1] == {"type": "too_many_errors", "loc": ["body"], "input": None,
                          "msg": f"{5000 - MAX_ERRORS} more errors not listed"}  # fmt: skip


# -- thread-pool starvation -----------------------------------------------------------------------
@pytest.fixture
def blocked(runs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """An app of the two charlm runs whose generations wait for `release` before their first
    token; `started` counts the generations that began. Released at teardown."""
    settings = ServeSettings(max_generations=2, max_generations_per_model=1, max_image_decodes=1)
    app = create_app([runs["charlm"], runs["charlm-gru"], runs["caption"]], settings)
    release, started = threading.Event(), threading.Semaphore(0)

    def wait_then(result: Any) -> Any:
        started.release()
        assert release.wait(60), "the test never released its generations"
        return result

    def pieces(body: Any) -> Iterator[str]:
        yield wait_then("a")

    def blocking(caption: Any) -> Any:
        return lambda *args: wait_then(caption(*args))

    for served in app.state.models.values():
        if "generate" in served.adapter.offers():
            monkeypatch.setattr(served.adapter, "pieces", pieces)
        else:
            monkeypatch.setattr(served.adapter, "caption", blocking(served.adapter.caption))
    try:
        yield {"app": app, "release": release, "started": started}
    finally:
        release.set()


def wait_started(blocked: dict[str, Any], count: int) -> None:
    for _ in range(count):
        assert blocked["started"].acquire(timeout=60), "a generation did not start"


def test_cheap_requests_are_answered_while_generations_run(blocked: dict[str, Any]) -> None:
    with TestClient(blocked["app"]) as client, ThreadPoolExecutor(max_workers=46) as pool:
        bodies = [{"length": 1000, "seed": i} for i in range(45)]
        generations = [pool.submit(client.post, f"{LM}/generate", json=b) for b in bodies]
        wait_started(blocked, 1)
        cheap = pool.submit(client.get, "/api/models")
        try:  # before: the 40 worker threads all waited in a generation, and so did this
            assert cheap.result(timeout=30).status_code == 200
        finally:
            blocked["release"].set()
        statuses = [future.result(timeout=60).status_code for future in generations]
    assert sorted(set(statuses)) == [200, 503]  # at most one at a time, the others at once 503
    assert blocked["app"].state.generations.in_use() == 0


def test_past_the_bounds_a_generation_is_503_with_retry_after(blocked: dict[str, Any]) -> None:
    with TestClient(blocked["app"]) as client, ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(client.post, f"{LM}/generate", json={"length": 3})
        wait_started(blocked, 1)
        same_model = client.get(f"{LM}/generate/stream", params={"length": 3})
        assert same_model.status_code == 503
        assert same_model.headers["retry-after"] == "1"
        assert "model 'charlm-lstm' runs 1 generations at once" in same_model.json()["detail"]
        second = pool.submit(client.post, f"{GRU}/generate", json={"length": 3})
        wait_started(blocked, 1)
        blocked["app"].state.generations.per_key = 2  # only the overall bound is left
        over_all = client.post(f"{LM}/generate", json={"length": 3})
        assert over_all.status_code == 503
        assert "2 generations are running" in over_all.json()["detail"]
        blocked["release"].set()
        assert first.result(timeout=60).json()["text"] == "a"
        assert second.result(timeout=60).status_code == 200
        assert client.post(f"{LM}/generate", json={"length": 3}).status_code == 200
    assert blocked["app"].state.generations.in_use() == 0


def test_a_slot_dropped_unreleased_is_given_back() -> None:
    slots = Slots(total=1, per_key=1, what="generations")
    slot = slots.take("m")  # a stream's response that never started drops its slot
    assert slots.in_use("m") == 1
    del slot
    assert slots.in_use() == 0
    with slots.take("m"):
        pass
    assert slots.in_use() == 0


def png(size: tuple[int, int] = (20, 16)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_image_decodes_are_bounded(blocked: dict[str, Any]) -> None:
    path = "/api/models/caption-run/caption"
    upload = {"image": ("r.png", png(), "image/png")}
    with TestClient(blocked["app"]) as client, ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(client.post, path, files=upload)
        wait_started(blocked, 1)
        busy = client.post(path, files=upload)
        assert busy.status_code == 503  # was decoded at once, however many came
        assert busy.headers["retry-after"] == "1"
        blocked["release"].set()
        assert first.result(timeout=60).status_code == 200
    assert blocked["app"].state.decodes.in_use() == 0


# -- image memory ---------------------------------------------------------------------------------
PEAK = """
import resource, sys
from pathlib import Path
from rnnkit.datasets.images import load_image
raw = Path(sys.argv[1]).read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
load_image(raw)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_a_large_16_bit_png_decodes_in_bounded_memory(tmp_path: Path) -> None:
    pixels = np.zeros((7000, 7000), dtype=np.uint16)
    pixels[::7] = 40_000  # stripes: it compresses to ~100 KB
    path = tmp_path / "grey16.png"
    Image.fromarray(pixels).save(path, "PNG")
    del pixels
    assert Image.open(path).mode == "I;16"
    assert path.stat().st_size < 200_000
    out = subprocess.run([sys.executable, "-c", PEAK, str(path)], capture_output=True,
                         text=True, timeout=300, check=True)  # fmt: skip
    peak_mb = int(out.stdout.split()[-1])
    assert peak_mb < 300  # was 936 MB (float64 copies of 49 M pixels); 164 MB now


# -- hosts and other sites ------------------------------------------------------------------------
@pytest.mark.parametrize(("host", "status"), [
    ("evil.example", 400), ("evil.example:8000", 400), ("127.0.0.1.evil.example", 400),
    ("localhost:8000", 200), ("127.0.0.1", 200), ("[::1]:8000", 200), ("testserver", 200),
])  # fmt: skip
def test_only_this_servers_host_names_are_answered(
    client: TestClient, host: str, status: int
) -> None:
    response = client.get("/api/models", headers={"host": host})
    assert response.status_code == status  # before: 200 for every Host (DNS rebinding)
    if status == 400:
        assert "does not serve the host" in response.json()["detail"]


def test_a_configured_host_name_is_answered(runs: dict[str, Path]) -> None:
    app = create_app([runs["charlm"]], ServeSettings(allowed_hosts=("Box.Local",)))
    response = TestClient(app).get("/api/models", headers={"host": "box.local:8000"})
    assert response.status_code == 200


def test_requests_from_other_sites_pages_are_refused(client: TestClient) -> None:
    body = json.dumps({"text": "good"}).encode()
    path = "/api/models/sentiment-gru/classify"
    # a cross-site "simple" request: text/plain needs no preflight; it was (and is) a 422
    plain = client.post(path, content=body, headers={"content-type": "text/plain"})
    assert plain.status_code == 422
    other_site = post_json(client, path, body, origin="http://evil.example")
    assert other_site.status_code == 403  # was 200: an Origin was never looked at
    fetched = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors"}
    assert client.get(f"{LM}/generate/stream", headers=fetched).status_code == 403
    same_site = post_json(client, path, body, origin="http://testserver")
    assert same_site.status_code == 200
    link = client.get("/", headers={"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"})
    assert link.status_code == 200  # a link to the page from another site still opens it


# -- slow clients ---------------------------------------------------------------------------------
class QuickHeaderTimeout(HeaderTimeout):
    header_seconds = 0.5


@pytest.fixture
def live(runs: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """The app under uvicorn (`uvicorn_options`, a 0.5 s header timeout) on 127.0.0.1."""
    app: FastAPI = create_app([runs["charlm"]])
    options = {**uvicorn_options(), "http": QuickHeaderTimeout}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           **options))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped"
        time.sleep(0.05)
    [sock] = [s for srv in server.servers for s in srv.sockets]
    yield sock.getsockname()[:2]
    server.should_exit = True
    thread.join(timeout=30)


def test_a_client_that_never_finishes_its_headers_is_disconnected(live: tuple[str, int]) -> None:
    with socket.create_connection(live, timeout=10) as slow:
        slow.sendall(b"GET /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and no more
        assert slow.recv(1024) == b""  # closed; before: held for ever (recv timed out)
    with socket.create_connection(live, timeout=10) as prompt:  # a whole request is answered
        prompt.sendall(b"GET /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert prompt.recv(1024).startswith(b"HTTP/1.1 200")

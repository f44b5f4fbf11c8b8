"""The web API under hostile input and concurrent use: a 4xx JSON answer or a right one, no 500.

Hostile input: bodies over the cap, the wrong content type, invalid UTF-8 and lone surrogates,
invalid and deeply nested JSON, numbers too large for their field or for float32, NaN and
Infinity literals, path traversal in the model id and the static paths, models whose numbers
overflow. Concurrency: generation, stream, inspect and gradient requests sent together from
threads answer exactly what each answers alone. The runs are the tiny ones of
tests/web/conftest.py, served under small limits (LIMITS). Defects these tests pin (each a
plain-text 500 before, unless said otherwise):

    a non-JSON body (text/plain, no Content-Type) holding invalid UTF-8
    a lone surrogate ("\\ud800") in a text that the answer repeats, or in any refused input
    a forecast from values past float32's range (200 with null), a model whose numbers overflow
    (null in inspect, gradients, classify; a 500 in generate)
    a client leaving a stream switched autograd off in the thread that collected it (not a 500)

The server-wide bounds (body caps per route, generation slots, decodes, hosts, slow clients)
are tested in tests/reliability/test_web_limits.py; a stream left early gives its slot back here.
    vague 400s for bodies that are not UTF-8 or nested too deeply; a 413 for a bad Content-Length
    an upload typed "image/png; charset=binary" refused (415)
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from rnnkit.errors import CheckpointError
from rnnkit.web import models
from rnnkit.web.app import create_app
from rnnkit.web.limits import body_cap
from rnnkit.web.settings import ServeSettings

pytestmark = pytest.mark.usefixtures("one_thread")

LIMITS = ServeSettings(
    max_text_chars=200, max_generate_tokens=40, max_beam=3, max_upload_bytes=4000,
    max_horizon=20, max_history_points=50, max_inspect_units=8,
    max_generations=12, max_generations_per_model=12,  # the 12 threads below never see a 503
)  # fmt: skip
CAP = LIMITS.max_upload_bytes + 65_536  # the body cap of BodyLimit for an upload
LM, CLASSIFIER = "/api/models/charlm-lstm", "/api/models/sentiment-gru"
POSTS = {  # every POST route, with a valid body
    f"{LM}/generate": {"length": 5, "seed": 1}, f"{LM}/inspect": {"text": "ab"},
    f"{LM}/gradients": {"text": "abc"}, f"{CLASSIFIER}/classify": {"text": "good"},
    "/api/models/ner-run/tag": {"text": "Ron met Harry"},
    "/api/models/translate-run/translate": {"text": "one two", "beam": 2},
    "/api/models/forecast-run/forecast": {"horizon": 3},
}  # fmt: skip
CAPTION = "/api/models/caption-run/caption"


@pytest.fixture(scope="module")
def client(runs: dict[str, Path]) -> TestClient:
    return TestClient(create_app(list(runs.values()), LIMITS))


def png(size: tuple[int, int] = (20, 16)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def strict_json(response: Any) -> Any:
    """The body as JSON without NaN or Infinity literals; fails on a non-JSON answer."""
    assert response.headers["content-type"] == "application/json", response.text[:200]

    def refuse(literal: str) -> None:
        raise AssertionError(f"the answer holds {literal}")

    return json.loads(response.text, parse_constant=refuse)


def raw(client: TestClient, path: str, body: bytes, content_type: str | None) -> Any:
    headers = {"content-type": content_type} if content_type is not None else {}
    return client.post(path, content=body, headers=headers)


# -- sizes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [*POSTS, CAPTION])
def test_a_body_over_the_cap_is_413_on_every_route(client: TestClient, path: str) -> None:
    if path in POSTS:
        assert client.post(path, json=POSTS[path]).status_code == 200  # the route itself works
    cap = body_cap(path, LIMITS)  # the route's own: 6,496 bytes for text, 5,696 for forecast
    assert cap <= 8192 if path in POSTS else cap == CAP
    response = raw(client, path, b"{" + b" " * cap + b"}", "application/json")
    assert response.status_code == 413
    assert f"over {cap} bytes" in strict_json(response)["detail"]


def test_a_chunked_body_over_the_cap_is_413(client: TestClient) -> None:
    chunks = iter([b'{"text": "', b"a" * CAP, b'"}'])
    response = client.post(f"{LM}/inspect", content=chunks, headers={"content-type": "text/json"})
    assert response.status_code == 413


def test_uploads_at_and_over_the_limit(client: TestClient) -> None:
    def upload(data: bytes, kind: str = "image/png") -> Any:
        return client.post(CAPTION, files={"image": ("x.png", data, kind)})

    over = upload(b"\x89PNG" + b"\0" * LIMITS.max_upload_bytes)
    assert over.status_code == 413
    at = upload(b"\x89PNG" + b"\0" * (LIMITS.max_upload_bytes - 4))
    assert at.status_code == 415  # read in full, then found not to be an image
    assert "not an image" in strict_json(at)["detail"]


def test_a_content_length_that_is_not_a_number_is_400(client: TestClient) -> None:
    headers = {"content-type": "application/json", "content-length": "ab"}
    response = client.post(f"{LM}/inspect", content=b'{"text": "ab"}', headers=headers)
    assert response.status_code == 400  # was 413 "over … bytes"
    assert "must be a number of bytes" in strict_json(response)["detail"]


# -- content types and encodings ------------------------------------------------------------------
@pytest.mark.parametrize("content_type", ["text/plain", None, "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])  # fmt: skip
@pytest.mark.parametrize("body", [b'{"text": "ab"}', b'{"text": "\xff\xfe\xfa"}', b"\xc3\x28"])
def test_a_body_not_sent_as_json_is_422_naming_the_content_type(
    client: TestClient, content_type: str | None, body: bytes
) -> None:
    response = raw(client, f"{LM}/inspect", body, content_type)
    assert response.status_code == 422  # invalid UTF-8 in it was a 500
    [error] = strict_json(response)["detail"]
    assert "Content-Type: application/json" in error["msg"]


def test_uploads_by_content_type(client: TestClient) -> None:
    typed = client.post(CAPTION, files={"image": ("r.png", png(), "image/png; charset=binary")})
    assert typed.status_code == 200, typed.text  # was 415: the parameter was not ignored
    shouting = client.post(CAPTION, files={"image": ("r.png", png(), "IMAGE/PNG")})
    assert shouting.status_code == 200
    part = b'--b\r\nContent-Disposition: form-data; name="image"; filename="r"\r\n\r\n'
    untyped = raw(
        client, CAPTION, part + png() + b"\r\n--b--\r\n", "multipart/form-data; boundary=b"
    )
    assert untyped.status_code == 415
    assert "without a content type" in strict_json(untyped)["detail"]
    json_body = client.post(CAPTION, json={"image": "aGVsbG8="})
    assert json_body.status_code == 422


NOT_UTF8 = [
    (b'{"text": "a\xffb"}', "0xff at offset 11"),
    (b'{"text": "\xe9t\xe9"}', "0xe9 at offset 10"),
]


@pytest.mark.parametrize(("body", "byte"), NOT_UTF8)
def test_json_that_is_not_utf8_is_400_saying_where(
    client: TestClient, body: bytes, byte: str
) -> None:
    response = raw(client, f"{LM}/inspect", body, "application/json")
    assert response.status_code == 400
    assert f"not UTF-8 text (byte {byte})" in strict_json(response)["detail"]


def test_invalid_utf8_in_a_query_reads_as_replacement_characters(client: TestClient) -> None:
    url = f"{LM}/generate/stream?length=8&seed=5&prime="
    broken, replaced = client.get(url + "%FF%C3%28"), client.get(url + "%EF%BF%BD%EF%BF%BD%28")
    assert broken.status_code == 200
    assert broken.text == replaced.text
    unknown = client.post("/api/models/%FF%FE/generate", json={})
    assert unknown.status_code == 404
    assert "\ufffd" in strict_json(unknown)["detail"]


ECHOING = [f"{LM}/inspect", f"{LM}/gradients", f"{CLASSIFIER}/classify", "/api/models/ner-run/tag"]


@pytest.mark.parametrize("path", [*ECHOING, "/api/models/translate-run/translate"])
def test_a_lone_surrogate_reads_as_u_fffd(client: TestClient, path: str) -> None:
    lone = raw(client, path, b'{"text": "one \\ud800 two"}', "application/json")
    assert lone.status_code == 200, lone.text  # a 500 where the answer repeats the text
    same = client.post(path, json={"text": "one \ufffd two"})
    assert strict_json(lone) == strict_json(same)


@pytest.mark.parametrize(
    "body",
    [b'{"text": ["\\udfff"]}', b'{"text": "ok", "\\ud800": 1}', b'{"prime": "\\ud800", "x": 1}',
     b'{"text": {"\\udc80": NaN}}'],
)  # fmt: skip
def test_a_refused_input_with_lone_surrogates_is_a_json_422(
    client: TestClient, body: bytes
) -> None:
    response = raw(client, f"{LM}/inspect", body, "application/json")
    assert response.status_code == 422  # repeating the input was a 500
    assert "\ufffd" in json.dumps(strict_json(response), ensure_ascii=False)


# -- JSON: syntax, depth, numbers -----------------------------------------------------------------
@pytest.mark.parametrize("body", [b'{"text": "ab"', b'{"text": "ab"} x', b"{'text': 'ab'}", b"{,}"])
def test_invalid_json_is_422_json_invalid(client: TestClient, body: bytes) -> None:
    response = raw(client, f"{LM}/inspect", body, "application/json")
    assert response.status_code == 422
    assert strict_json(response)["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(("depth", "status"), [(40, 422), (3_000, 400)])  # 6 KB: under the cap
def test_deeply_nested_json(client: TestClient, depth: int, status: int) -> None:
    body = b'{"text": ' + b"[" * depth + b"]" * depth + b"}"
    response = raw(client, f"{LM}/inspect", body, "application/json")
    assert response.status_code == status
    if status == 400:  # was "There was an error parsing the body"
        assert "nested too deeply" in strict_json(response)["detail"]


@pytest.mark.parametrize(
    ("field", "literal", "status", "shown"),
    [
        ("length", b"9" * 5000, 400, "4300 digits"),
        ("length", b"9" * 4000, 422, "less than or equal"),
        ("seed", str(2**63).encode(), 422, "less than or equal"),
        ("temperature", b"1e400", 422, "finite"),
        ("top_k", b"-1e400", 422, "finite"),
        ("length", b"1e20", 422, "integer"),
        ("temperature", b"-0.0", 200, ""),
        ("temperature", b"5e-324", 200, ""),
    ],
)
def test_huge_and_tiny_numbers(client: TestClient, field: str, literal: bytes, status: int,
                               shown: str) -> None:  # fmt: skip
    body = b'{"length": 3, "seed": 1, "' + field.encode() + b'": ' + literal + b"}"
    response = raw(client, f"{LM}/generate", body, "application/json")
    assert response.status_code == status, response.text[:300]
    assert shown in json.dumps(strict_json(response))


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
@pytest.mark.parametrize(
    ("path", "template"),
    [(f"{LM}/generate", b'{"temperature": %s}'), (f"{LM}/generate", b'{"length": %s}'),
     (f"{LM}/generate", b'{"top_k": %s}'), (f"{LM}/generate", b'{"seed": %s}'),
     (f"{LM}/inspect", b'{"text": "ab", "units": %s}'), (f"{LM}/inspect", b'{"text": %s}'),
     ("/api/models/translate-run/translate", b'{"text": "one", "beam": %s}'),
     ("/api/models/forecast-run/forecast", b'{"horizon": %s}'),
     ("/api/models/forecast-run/forecast", b'{"history": [1.0, %s]}')],
)  # fmt: skip
def test_nan_and_infinity_literals_are_422(
    client: TestClient, literal: bytes, path: str, template: bytes
) -> None:
    response = raw(client, path, template % literal, "application/json")
    assert response.status_code == 422
    strict_json(response)  # the input is repeated as a string, never as a literal


@pytest.mark.parametrize("history", [[1e308], [-3.5e38, 1.0], [3.4e38, -3.4e38], [1e38] * 5])
def test_forecasts_from_huge_values_are_numbers_or_422(client: TestClient, history: list) -> None:
    body = {"history": history, "horizon": 3}
    response = client.post("/api/models/forecast-run/forecast", json=body)
    assert response.status_code in (200, 422)  # was 200 with null
    body = strict_json(response)
    if response.status_code == 200:
        assert all(isinstance(v, float) for v in body["history"] + body["forecast"])


# -- paths ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    ["/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/..%5capp.py",
     "/static/%2e%2e%2f%2e%2e%2fweb%2fapp.py", "/static//etc/passwd", "/static/app.js%00.png",
     "/static/%2e%2e/%2e%2e/%2e%2e/pyproject.toml", "/api/models/..%2F..%2Fpyproject.toml/tag",
     "/api/models/%2e%2e/generate", "/api/models/../../static/app.js/generate",
     "/api/models/..%5C..%5Cconftest.py/inspect", "/api/models/charlm-lstm%2F..%2Fner-run/tag"],
)  # fmt: skip
def test_path_traversal_finds_nothing(client: TestClient, path: str) -> None:
    response = client.post(path, json={"text": "Ron"}) if "/api/" in path else client.get(path)
    assert response.status_code in (404, 405, 422)  # 422: ".." is no model, and the body no text
    assert "detail" in strict_json(response)
    if response.status_code == 404 and "/api/" in path:
        assert "no model" in response.json()["detail"] or response.json()["detail"] == "Not Found"


# -- numbers that overflow inside the model -------------------------------------------------------
@pytest.fixture
def overflowing(runs: dict[str, Path]) -> Callable[[str], TestClient]:
    """A client whose model `name` computes in weights made ±inf (float32 overflow everywhere)."""

    def client_for(name: str) -> TestClient:
        app: FastAPI = create_app([runs[name]], LIMITS)
        [served] = app.state.models.values()
        with torch.no_grad():
            for value in served.adapter.loaded.model.parameters():
                value.fill_(float("inf"))
        return TestClient(app)

    return client_for


@pytest.mark.parametrize(
    ("name", "path", "body"),
    [("charlm", "charlm-lstm/inspect", {"text": "abc"}),
     ("charlm", "charlm-lstm/gradients", {"text": "abc"}),
     ("charlm", "charlm-lstm/generate", {"length": 3, "seed": 1}),
     ("condlm", "condlm-run/generate", {"length": 3, "condition": "good"}),
     ("sentiment", "sentiment-gru/classify", {"text": "good film"}),
     ("sentiment", "sentiment-gru/inspect", {"text": "good film"}),
     ("forecast", "forecast-run/forecast", {"horizon": 3})],
)  # fmt: skip
def test_a_model_that_overflows_answers_422_not_null(
    overflowing: Callable[[str], TestClient], name: str, path: str, body: dict
) -> None:
    response = overflowing(name).post(f"/api/models/{path}", json=body)
    assert response.status_code == 422, response.text[:300]  # was null in a 200, or a 500
    assert "NaN" in strict_json(response)["detail"] or "nan" in response.json()["detail"]


def test_a_stream_from_a_model_that_overflows_ends_with_an_error_event(
    overflowing: Callable[[str], TestClient],
) -> None:
    response = overflowing("charlm").get(f"{LM}/generate/stream", params={"length": 3, "seed": 1})
    assert response.status_code == 200
    assert response.text.startswith("event: error\n")
    assert "generation failed after 0 tokens" in response.text


def test_a_run_with_non_finite_weights_is_not_served(
    runs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    loader_of = models.loader_of  # the registry's task -> loader, as the server reads it

    def load_broken(run_dir: Path, **options: Any) -> Any:  # options: the checkpoint to read
        loaded = loader_of("forecast")(run_dir, **options)
        next(loaded.model.parameters()).data[0] = float("nan")
        return loaded

    monkeypatch.setattr(
        models, "loader_of", lambda task: load_broken if task == "forecast" else loader_of(task)
    )
    with pytest.raises(CheckpointError, match="NaN or ±inf in"):
        create_app([runs["forecast"]], LIMITS)


# -- clients that leave ---------------------------------------------------------------------------
async def leave_after(app: FastAPI, query: bytes, events: int) -> list[bytes]:
    """GET the charlm's stream over raw ASGI and disconnect after `events` body chunks."""
    path = "/api/models/charlm-lstm/generate/stream"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
             "root_path": "", "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 1),
             "server": ("testserver", 80)}  # fmt: skip
    chunks: list[bytes] = []
    gone, asked = asyncio.Event(), False

    async def receive() -> dict:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            chunks.append(message["body"])
            if len(chunks) >= events:
                gone.set()

    await app(scope, receive, send)
    return chunks


def test_a_stream_left_early_leaves_autograd_on(runs: dict[str, Path]) -> None:
    app = create_app([runs["charlm"]], LIMITS)
    for seed in range(4):
        chunks = asyncio.run(leave_after(app, b"length=40&seed=%d" % seed, events=3))
        assert len(chunks) == 3
        assert chunks[0].startswith(b"event: token\n")
    gc.collect()  # what the server's garbage collector would do, in any of its threads
    assert torch.is_grad_enabled()  # was False: the stream's no_grad ended in this thread


def test_a_stream_left_early_gives_back_its_generation_slot(runs: dict[str, Path]) -> None:
    one = ServeSettings(max_generations=1, max_generations_per_model=1)
    app = create_app([runs["charlm"]], one)
    for seed in range(3):  # one slot: each stream needs the one the stream before left
        chunks = asyncio.run(leave_after(app, b"length=40&seed=%d" % seed, events=3))
        assert chunks[0].startswith(b"event: token\n")  # not a 503
        assert app.state.generations.in_use() == 0  # given back once its generation closed


# -- concurrency ----------------------------------------------------------------------------------
def _requests() -> list[tuple[str, str, dict]]:
    """Seeded generations and streams of every generator, and inspect / gradient reads."""
    found = []
    for seed in range(6):
        condition = ("good", "bad")[seed % 2]
        found += [
            ("POST", f"{LM}/generate", {"length": 30, "seed": seed, "temperature": 1.2}),
            ("GET", f"{LM}/generate/stream", {"length": 30, "seed": seed, "top_k": 5}),
            ("GET", "/api/models/charlm-gru/generate/stream", {"length": 20, "seed": seed}),
            (
                "POST",
                "/api/models/condlm-run/generate",
                {"length": 9, "seed": seed, "condition": condition},
            ),
        ]
    found += [
        ("POST", f"{LM}/inspect", {"text": "the cat sat", "units": 8}),
        ("POST", f"{LM}/gradients", {"text": "a rolling stone"}),
        ("POST", f"{CLASSIFIER}/inspect", {"text": "good", "units": 4}),
    ]
    return found


def test_concurrent_requests_answer_what_each_answers_alone(client: TestClient) -> None:
    def send(request: tuple[str, str, dict]) -> tuple[int, str]:
        method, path, body = request
        if method == "GET":
            response = client.get(path, params=body)
        else:
            response = client.post(path, json=body)
        return response.status_code, response.text

    requests = _requests() * 2
    alone = [send(request) for request in requests]
    with ThreadPoolExecutor(max_workers=12) as pool:
        together = list(pool.map(send, requests))
    assert [status for status, _ in alone] == [200] * len(requests)
    assert together == alone
    assert len({text for _, text in alone}) > len(requests) // 3  # the seeds gave different texts

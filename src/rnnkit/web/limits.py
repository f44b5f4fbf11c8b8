"""Caps on what one request may take: the size of its body (413) and a slot of its own (503).

A body that declares its size (Content-Length) is refused at once when over the cap (a header
that is not a number of bytes gets 400); a chunked body is read up to the cap and refused as
soon as it passes it, else handed on whole. Without this, a JSON body or a multipart upload
would be read in full before a route could look at it. The cap is the route's own
(`body_cap`): what its largest valid request can need under the server's `ServeSettings`, a
few KB for the JSON routes, so that no body can make the server parse and validate megabytes
(a 4.7 MB body of 390,000 unknown keys took 50 s of CPU and a 39 MB 422 before).

`Slots` bounds the requests of one kind running at once, per model and over all models: a
generation (or an image decode) holds a worker thread for up to `generation_seconds`, and 40 of
them held every thread of the server's pool, so `GET /api/models` waited for them. Past a
bound the answer is 503 with `Retry-After` at once, not a queue: a queued request would hold its
connection and a thread or a waiter while the client cannot tell it from a hung server, and the
demo page, the only client, can say "busy, retry" itself.

References:
    https://asgi.readthedocs.io/en/latest/specs/www.html (the http.request messages)
    https://www.rfc-editor.org/rfc/rfc9110#name-413-content-too-large
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastapi.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rnnkit.web.settings import ServeSettings

JSON_OVERHEAD = 4096  # bytes of a JSON body besides its long text or list: keys, small fields
ESCAPED_CHAR = 12  # the longest JSON form of one character: a surrogate pair "\ud83d\ude00"
NUMBER_BYTES = 32  # a float32 written out ("-3.4028234663852886e+38") with ", " and some space
MULTIPART_OVERHEAD = 65_536  # the form's boundaries, part headers and its other fields
RETRY_AFTER = 1  # seconds, the Retry-After of a 503 past a bound of `Slots`


def body_cap(path: str, settings: ServeSettings) -> int:
    """The most bytes a body to `path` may have: what the route's largest valid request needs.

    >>> settings = ServeSettings()
    >>> [body_cap(f"/api/models/m/{route}", settings) for route in ("generate", "forecast")]
    [28096, 324096]
    >>> body_cap("/api/models/m/caption", settings), body_cap("/api/models", settings)
    (5065536, 4096)
    """
    route = path.rsplit("/", 1)[-1] if path.startswith("/api/models/") else ""
    if route == "caption":
        return settings.max_upload_bytes + MULTIPART_OVERHEAD
    if route == "forecast":
        return JSON_OVERHEAD + NUMBER_BYTES * settings.max_history_points
    if route in ("generate", "classify", "tag", "translate", "inspect", "gradients"):
        return JSON_OVERHEAD + ESCAPED_CHAR * settings.max_text_chars
    return JSON_OVERHEAD


class BodyLimit:
    """ASGI middleware: a request body over its route's cap (`cap_of(path)`) gets 413."""

    def __init__(self, app: ASGIApp, *, cap_of: Callable[[str], int]) -> None:
        self.app, self.cap_of = app, cap_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.cap_of(scope["path"])
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():  # uvicorn refuses these itself; an ASGI client may not
                detail = f"the Content-Length header must be a number of bytes, got {declared!r}"
                await JSONResponse({"detail": detail}, status_code=400)(scope, receive, send)
                return
            if int(declared) > max_bytes:
                await self._refuse(scope, receive, send, max_bytes)
                return
            await self.app(scope, receive, send)  # the server reads no more than declared
            return
        if b"chunked" not in headers.get(b"transfer-encoding", b""):
            await self.app(scope, receive, send)
            return
        body = await self._read_up_to_limit(receive, max_bytes)
        if body is None:
            await self._refuse(scope, receive, send, max_bytes)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_up_to_limit(self, receive: Receive, max_bytes: int) -> bytes | None:
        """The whole body, or None as soon as it passes the cap (or the client leaves)."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        detail = f"the request body is over {max_bytes} bytes; send a smaller one"
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that first gives `body` whole, then passes on the client's messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class Slot:
    """One place taken in `Slots`; `release` (or leaving `with`, or being dropped) gives it back
    once."""

    def __init__(self, slots: Slots, key: str) -> None:
        self.slots, self.key, self.held = slots, key, True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.slots._give_back(self.key)

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:  # a stream whose response never started
        self.release()


class Slots:
    """At most `total` places held at once, and at most `per_key` of them by one key (a model).

    `take` never waits: past either bound it raises 503 with Retry-After.

    >>> slots = Slots(total=2, per_key=1, what="generations")
    >>> first = slots.take("a")
    >>> slots.take("a")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fastapi.exceptions.HTTPException: 503: busy: model 'a' runs 1 generations at once, its most...
    >>> first.release(); slots.in_use()
    0
    """

    def __init__(self, *, total: int, per_key: int, what: str) -> None:
        self.total, self.per_key, self.what = total, per_key, what
        self.held: dict[str, int] = {}
        self.lock = threading.Lock()

    def take(self, key: str) -> Slot:
        """A place for `key`, or HTTPException 503 if all `total`, or its `per_key`, are held."""
        with self.lock:
            if sum(self.held.values()) >= self.total:
                busy = f"{self.total} {self.what} are running, the server's most at once"
            elif self.held.get(key, 0) >= self.per_key:
                busy = f"model {key!r} runs {self.per_key} {self.what} at once, its most"
            else:
                self.held[key] = self.held.get(key, 0) + 1
                return Slot(self, key)
        raise HTTPException(
            503,
            f"busy: {busy}; retry in {RETRY_AFTER} s",
            headers={"Retry-After": str(RETRY_AFTER)},
        )

    def in_use(self, key: str | None = None) -> int:
        """The places held (by `key`, or by all)."""
        with self.lock:
            return sum(self.held.values()) if key is None else self.held.get(key, 0)

    def _give_back(self, key: str) -> None:
        with self.lock:
            self.held[key] -= 1


__all__ = ["BodyLimit", "Slot", "Slots", "body_cap"]

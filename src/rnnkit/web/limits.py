"""A cap on the size of request bodies, applied before any route reads one (413 past it).

A body that declares its size (Content-Length) is refused at once when over the cap (a header
that is not a number of bytes gets 400); a chunked body is read up to the cap and refused as
soon as it passes it, else handed on whole. Without this, a JSON body or a multipart upload
would be read in full before a route could look at it.

References:
    https://asgi.readthedocs.io/en/latest/specs/www.html (the http.request messages)
    https://www.rfc-editor.org/rfc/rfc9110#name-413-content-too-large
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` gets 413 {"detail": …}."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():  # uvicorn refuses these itself; an ASGI client may not
                detail = f"the Content-Length header must be a number of bytes, got {declared!r}"
                await JSONResponse({"detail": detail}, status_code=400)(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server reads no more than declared
            return
        if b"chunked" not in headers.get(b"transfer-encoding", b""):
            await self.app(scope, receive, send)
            return
        body = await self._read_up_to_limit(receive)
        if body is None:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_up_to_limit(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the cap (or the client leaves)."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is over {self.max_bytes} bytes; send a smaller one"
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


__all__ = ["BodyLimit"]

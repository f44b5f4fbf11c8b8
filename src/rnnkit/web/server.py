"""How `rnnkit serve` runs uvicorn: its timeouts, so that slow clients cannot hold connections.

uvicorn (0.55, its h11 protocol) closes an idle keep-alive connection after
`timeout_keep_alive` (5 s) and refuses request headers over 16 KB
(`h11_max_incomplete_event_size`), but it sets no timer while it waits for a request's headers:
a client that connects and sends a header line now and then (slowloris), or nothing at all,
holds its connection, a file descriptor, for ever. `HeaderTimeout` closes a connection whose
request headers are not complete HEADER_SECONDS after it opened or after its last response. A
slow client costs no worker thread either way (uvicorn reads requests on its event loop); a
body that trickles in is still not timed (BodyLimit caps its size, not its pace).

    uvicorn.Config(app, host="127.0.0.1", port=8000, **uvicorn_options())

References:
    https://www.uvicorn.org/settings/#timeouts
    https://en.wikipedia.org/wiki/Slowloris_(computer_security)
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0  # a request's headers must be complete this long after the connection is free
KEEP_ALIVE_SECONDS = 5  # uvicorn's own default, stated here


class HeaderTimeout(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers are not complete
    `header_seconds` after it opened or after its last response."""

    header_seconds: float = HEADER_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
        self._header_timer = self.loop.call_later(self.header_seconds, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        """Close the connection if it is still waiting for a request's headers."""
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("closing a connection that sent no complete request headers")
            self.transport.close()


def uvicorn_options() -> dict[str, Any]:
    """The keyword arguments of `uvicorn.Config` that bound slow clients."""
    return {"http": HeaderTimeout, "timeout_keep_alive": KEEP_ALIVE_SECONDS}


__all__ = ["HEADER_SECONDS", "HeaderTimeout", "uvicorn_options"]

"""Which requests the server answers: those sent to one of its own names, not by other sites.

DNS rebinding: a page of evil.example whose name the attacker then points at 127.0.0.1 can send
requests to a server on this machine that the browser counts as evil.example's own, so it may
read the answers; they arrive with `Host: evil.example`. A Host that is not localhost,
127.0.0.1, ::1, the address the request arrived on (the bound one) or a name of
`ServeSettings.allowed_hosts` gets 400.

Cross-site requests: a browser sends some requests to any site without asking it first (a GET,
or a POST of a form or of text/plain). The JSON routes refuse a body not sent as
application/json (422), and no answer carries Access-Control-Allow-Origin, so another site can
read nothing; but an upload to …/caption or a GET of a stream would still make the server work.
A request whose Origin is not this server's own (its scheme://Host), or that the browser marks
`Sec-Fetch-Site: cross-site` (other than a navigation: a link to the page), gets 403. Requests
without these headers (curl, scripts) are not affected: only browsers send them.

References:
    https://www.rfc-editor.org/rfc/rfc6454 (the Origin header)
    https://www.w3.org/TR/fetch-metadata/ (Sec-Fetch-Site, Sec-Fetch-Mode)
    https://en.wikipedia.org/wiki/DNS_rebinding
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def host_name(host: str) -> str:
    """The name of a Host header value, lower case, without its port or IPv6 brackets.

    >>> host_name("LocalHost:8000"), host_name("[::1]:8000"), host_name("127.0.0.1")
    ('localhost', '::1', '127.0.0.1')
    """
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class HostCheck:
    """ASGI middleware: a Host not served gets 400, a request from another site 403."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: tuple[str, ...] = ()) -> None:
        self.app, self.allowed = app, LOOPBACK_NAMES | {host_name(h) for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]
        }
        refusal = self.refusal(scope, headers)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, detail = refusal
        await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)

    def refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        """(status, detail) if the request is refused, else None."""
        host = headers.get("host")
        if host is not None:
            bound = scope.get("server") or ("",)
            if host_name(host) not in self.allowed | {host_name(str(bound[0]))}:
                return 400, (
                    f"this server does not serve the host {host!r} (a page of another site "
                    "pointed at it?); use http://127.0.0.1 or http://localhost, or name the "
                    "host in ServeSettings.allowed_hosts"
                )
        origin = headers.get("origin")
        if origin is not None and host is not None:
            own = f"{scope.get('scheme', 'http')}://{host}".lower()
            if origin.lower() != own:
                return 403, f"requests from another site's page ({origin}) are refused"
        site, mode = headers.get("sec-fetch-site"), headers.get("sec-fetch-mode")
        if site == "cross-site" and mode != "navigate":
            return 403, "requests from another site's page are refused (Sec-Fetch-Site)"
        return None


__all__ = ["HostCheck", "host_name"]

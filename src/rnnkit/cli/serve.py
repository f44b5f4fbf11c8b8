"""`rnnkit serve [RUN_DIR ...] [--host 127.0.0.1] [--port 8000]`: the demo page of trained runs.

    $ rnnkit train charlm            # the main job, about 3 minutes on 2 cores
    $ rnnkit serve                   # serves the newest runs/charlm-* with a checkpoint
    serving charlm-20261123-054700 (charlm)
    open http://127.0.0.1:8000 (Ctrl-C stops)

With RUN_DIR arguments it serves those runs (any of charlm, condlm, sentiment, spam, ner,
translate, chat, caption, forecast, music); `--tour DIR` also serves the page of `rnnkit tour --out
DIR` at /tour/ and links it from the demo page. It listens on 127.0.0.1, this machine only, unless
--host says otherwise; --port 0 takes any free port. Needs the web extra: pip install
'rnnkit[web]'.

The socket is bound before anything is printed, so a port that another server holds is one
error line (exit 2), and "open http://…" appears only once uvicorn is serving on it.
"""

from __future__ import annotations

import argparse
import errno
import socket
from pathlib import Path
from typing import Any

from rnnkit.console import console
from rnnkit.errors import ConfigError, DataError


def find_default_run(root: Path | None = None) -> Path:
    """The newest `runs/charlm-*` charlm run under `root` (default: here) with a checkpoint.

    Newest is the one whose latest checkpoint was written last. Raises DataError saying how to
    train one when there is none.
    """
    from rnnkit.training.checkpoint_manager import CheckpointManager  # torch: only when serving
    from rnnkit.training.runs import read_run_config

    runs = (Path.cwd() if root is None else root) / "runs"
    found = []
    for run in sorted(runs.glob("charlm-*")):
        if not (run / "config.json").is_file() or read_run_config(run).get("task") != "charlm":
            continue
        latest = CheckpointManager(run / "checkpoints").latest()
        if latest is not None:
            found.append((latest.stat().st_mtime, run.name, run))
    if not found:
        raise DataError(
            f"no trained charlm run in {runs} (a runs/charlm-* folder with a checkpoint). Train "
            "one with `rnnkit train charlm` (about 3 minutes), then run `rnnkit serve` again, "
            "or name the runs to serve: rnnkit serve RUN_DIR ..."
        )
    return max(found)[2]


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) and listening; ConfigError saying the fix if it can't.

    Binding first is the real check that the port is free: nothing is printed before it.
    """
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be in [0, 65535] (0: any free port), got {port}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as err:
        raise ConfigError(
            f"cannot listen on --host {host!r}: {err.strerror}. Use an address of this machine: "
            "127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"
        ) from err
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        sock.bind(address)
        sock.listen(2048)
    except OSError as err:
        sock.close()
        raise ConfigError(_bind_error(host, port, err)) from err
    return sock


def _bind_error(host: str, port: int, err: OSError) -> str:
    if err.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {host}:{port}: the port is already in use (another server, or "
            f"an earlier rnnkit serve, holds it). Stop that one, or pass --port {port + 1} "
            "(--port 0: any free port)"
        )
    if err.errno == errno.EACCES:
        return (
            f"cannot listen on {host}:{port}: permission denied (ports below 1024 need root); "
            "pass --port 8000"
        )
    if err.errno == errno.EADDRNOTAVAIL:
        return (
            f"cannot listen on {host}:{port}: {host} is not an address of this machine; pass "
            "--host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface)"
        )
    return f"cannot listen on {host}:{port}: {err.strerror or err}"


def run_server(app: Any, sock: socket.socket, host: str) -> None:
    """Serve `app` with uvicorn on the listening `sock`; print "open http://…" once it serves."""
    import uvicorn

    from rnnkit.web.server import uvicorn_options  # a header timeout against slow clients

    port = sock.getsockname()[1]  # the one the system chose for --port 0
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:  # uvicorn now accepts connections on `sock`
                console.print(f"open {url} (Ctrl-C stops)", markup=False)

    try:
        config = uvicorn.Config(app, host=host, port=port, log_level="info", **uvicorn_options())
        Server(config).run(sockets=[sock])
    finally:
        sock.close()


def add_serve(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit serve [RUN_DIR ...] [--host H] [--port P]`: the web page and JSON API."""
    parser = verbs.add_parser(
        "serve",
        help="the demo web page and JSON API of trained runs",
        description="Serve the runs (default: the newest runs/charlm-* with a checkpoint) on "
        "a web page with a JSON API (OpenAPI at /docs). Needs pip install 'rnnkit[web]'.",
    )
    parser.add_argument("run_dirs", nargs="*", type=Path, metavar="RUN_DIR",
                        help="runs to serve (default: the newest runs/charlm-*)")  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name to answer besides localhost and the bound address "
        "(others get 400: DNS rebinding); repeat for more (default: none)",
    )
    parser.add_argument("--tour", type=Path, default=None, metavar="DIR",
                        help="a page written by `rnnkit tour --out DIR`, served at /tour/ and "
                        "linked from the demo page (default: none)")  # fmt: skip

    def handle(args: argparse.Namespace) -> int:
        try:
            import uvicorn  # noqa: F401  (run_server needs it)

            from rnnkit.web.app import create_app
            from rnnkit.web.settings import ServeSettings
        except ImportError as err:
            raise ConfigError(
                f"rnnkit serve needs the web extra ({err.name} is missing): "
                "pip install 'rnnkit[web]'"
            ) from err
        settings = ServeSettings(allowed_hosts=tuple(args.allow_host))
        app = create_app(args.run_dirs or [find_default_run()], settings, tour=args.tour)
        sock = listen(args.host, args.port)  # a taken port fails here, before any output
        for model in app.state.models.values():
            console.print(f"serving {model.id} ({model.task})", markup=False, highlight=False)
        run_server(app, sock, args.host)
        return 0

    parser.set_defaults(handler=handle)

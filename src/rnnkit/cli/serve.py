"""`rnnkit serve [RUN_DIR ...] [--host 127.0.0.1] [--port 8000]`: the demo page of trained runs.

    $ rnnkit train charlm            # the main job, about 3 minutes on 2 cores
    $ rnnkit serve                   # serves the newest runs/charlm-* with a checkpoint
    serving charlm-20261123-054700 (charlm) at http://127.0.0.1:8000

With RUN_DIR arguments it serves those runs (any of charlm, condlm, sentiment, spam, ner,
translate, chat, caption, forecast). It listens on 127.0.0.1, this machine only, unless
--host says otherwise. Needs the web extra: pip install 'rnnkit[web]'.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnkit.console import console
from rnnkit.errors import ConfigError, DataError
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.runs import read_run_config


def find_default_run(root: Path | None = None) -> Path:
    """The newest `runs/charlm-*` charlm run under `root` (default: here) with a checkpoint.

    Newest is the one whose latest checkpoint was written last. Raises DataError saying how to
    train one when there is none.
    """
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


def add_serve(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit serve [RUN_DIR ...] [--host H] [--port P]`: the web page and JSON API."""
    parser = verbs.add_parser(
        "serve",
        help="the demo web page and JSON API of trained runs",
        description="Serve the runs (default: the newest runs/charlm-* with a checkpoint) on "
        "a web page with a JSON API (OpenAPI at /docs). Needs pip install 'rnnkit[web]'.",
    )
    parser.add_argument("run_dirs", nargs="*", type=Path, metavar="RUN_DIR")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")

    def handle(args: argparse.Namespace) -> int:
        try:
            import uvicorn

            from rnnkit.web.app import create_app
        except ImportError as err:
            raise ConfigError(
                f"rnnkit serve needs the web extra ({err.name} is missing): "
                "pip install 'rnnkit[web]'"
            ) from err
        app = create_app(args.run_dirs or [find_default_run()])
        for model in app.state.models.values():
            console.print(f"serving {model.id} ({model.task})", markup=False, highlight=False)
        console.print(f"open http://{args.host}:{args.port} (Ctrl-C stops)", markup=False)
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
        return 0

    parser.set_defaults(handler=handle)

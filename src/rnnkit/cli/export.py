"""`rnnkit export RUN_DIR OUT_DIR [--checkpoint best|latest|NAME] [--force]`: one checkpoint.

    $ rnnkit export runs/charlm-20261123-054700 exports/shakespeare
    exported runs/charlm-20261123-054700 step-00003000 (step 3000) to exports/shakespeare
      README.md  config.json  metrics.jsonl  model.safetensors  vocab.json
    load it with rnnkit.load('exports/shakespeare'), or serve it: rnnkit serve exports/shakespeare

OUT_DIR is self-contained: the checkpoint's weights (no optimizer state, no other checkpoint),
config.json, the vocabularies and a model card README.md (`rnnkit.tasks.export`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnkit.console import console
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT


def add_export(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit export RUN_DIR OUT_DIR`: a run's checkpoint as a folder to load or serve."""
    parser = verbs.add_parser(
        "export",
        help="one checkpoint of a run as a self-contained folder (weights, config, card)",
        description="Write one checkpoint of RUN_DIR to OUT_DIR: its weights as safetensors "
        "(no optimizer state, no other checkpoint), config.json, the vocabularies, the "
        "training history and a model card README.md (task, data, metrics, the command that "
        "trained it, versions). rnnkit.load(OUT_DIR) and rnnkit serve OUT_DIR read it as "
        "they read the run. A word2vec run exports its vectors.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a trained run")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR",
                        help="a new or empty folder to write")  # fmt: skip
    parser.add_argument(
        "--checkpoint", default=DEFAULT_CHECKPOINT, metavar="best|latest|NAME",
        help="best (default: the best on validation where the run evaluated, else the "
        "latest), latest, or one of the run's checkpoints by name (step-00001200) or path",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true",
                        help="replace OUT_DIR when it holds a previous export")  # fmt: skip

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.tasks.export import export_info, export_run
        from rnnkit.training.runs import read_run_config

        out_dir = export_run(args.run_dir, args.out_dir, checkpoint=args.checkpoint,
                             force=args.force)  # fmt: skip
        config = read_run_config(out_dir)
        info = export_info(config) or {}
        files = "  ".join(sorted(path.name for path in out_dir.iterdir()))
        serve = "" if config["task"] == "word2vec" else f", or serve it: rnnkit serve {out_dir}"
        console.print(
            f"exported {args.run_dir} {info.get('checkpoint')} (step {info.get('step')}) to "
            f"{out_dir}\n  {files}\nload it with rnnkit.load({str(out_dir)!r}){serve}",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
        return 0

    parser.set_defaults(handler=handle)

"""`rnnkit caption RUN_DIR IMAGE ...`: a caption for each image from a trained caption run.

$ rnnkit caption runs/caption-… dog.jpg --beam 3
dog.jpg: a black dog runs through the grass .
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnkit.console import console
from rnnkit.tasks.registry import CHECKPOINT_HELP, DEFAULT_CHECKPOINT


def add_caption(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit caption RUN_DIR IMAGE [IMAGE ...]`: caption images with a trained run."""
    parser = verbs.add_parser(
        "caption",
        help="caption images with a trained caption run",
        description="Print one caption per IMAGE (JPEG, PNG, WebP, BMP or GIF).",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a trained caption run")
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="image files")
    parser.add_argument("--beam", type=int, default=3, help="beam size (default 3; 1 is greedy)")
    parser.add_argument("--max-length", type=int, default=None,
                        help="most caption tokens (default: the run's max_length)")  # fmt: skip
    parser.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help=CHECKPOINT_HELP)

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.tasks.caption.captioner import (  # torch: here only
            caption_images,
            load_captioner,
        )

        loaded = load_captioner(args.run_dir, checkpoint=args.checkpoint)
        captions = caption_images(loaded, list(args.images), beam_size=args.beam,
                                  max_length=args.max_length)  # fmt: skip
        for image, caption in zip(args.images, captions, strict=True):
            console.print(f"{image.name}: {caption}", markup=False, highlight=False)
        return 0

    parser.set_defaults(handler=handle)

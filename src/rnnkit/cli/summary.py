"""`rnnkit summary RUN_DIR [--input-shape B,T[,F]]`: the layers and parameter counts of a run.

    $ rnnkit summary runs/charlm-20261123-054700 --input-shape 1,50
    LanguageModel on input (1, 50)
    ┃ Layer (type) ┃ Output shape ┃ Param # ┃ Count as a formula ┃ …
    Total params: 553,025 …

The model is `rnnkit.load(RUN_DIR).model` at the chosen checkpoint; the table is
`rnnkit.summary` (`rnnkit.analysis.summary`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnkit.console import console
from rnnkit.errors import ConfigError
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT


def parse_shape(text: str) -> tuple[int, ...]:
    """`1,50` -> (1, 50); the check of the values is `summary`'s.

    >>> parse_shape("1, 50")
    (1, 50)
    """
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected B,T (token ids) or B,T,F (features), integers; got {text!r}"
        ) from None


def add_summary(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit summary RUN_DIR`: every layer, its output shape, parameter count and formula."""
    parser = verbs.add_parser(
        "summary",
        help="a trained run's layers, output shapes and parameter counts (as formulas)",
        description="Print the module tree of RUN_DIR's model, as Keras's model.summary: each "
        "layer with its parameter count, the count of each recurrent layer written as its "
        "formula (LSTM: 4H(F + H) + 8H) with the numbers filled in, the total, trainable and "
        "non-trainable parameters and their memory in float32. With --input-shape the model "
        "runs once on zeros of that shape and each layer's output shape is shown.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a trained run")
    parser.add_argument(
        "--input-shape", type=parse_shape, default=None, metavar="B,T[,F]",
        help="run the model on zeros of this shape to show output shapes: B,T token ids "
        "(language models, classifiers, taggers) or B,T,F features (forecasters) (default: "
        "none, the counts alone)",
    )  # fmt: skip
    parser.add_argument(
        "--max-depth", type=int, default=None, metavar="N",
        help="list modules down to this depth, 0: the model alone (default: all)",
    )  # fmt: skip
    parser.add_argument(
        "--checkpoint", default=DEFAULT_CHECKPOINT, metavar="best|latest|NAME",
        help="best (default: the best on validation where the run evaluated, else the "
        "latest), latest, or one of the run's checkpoints by name or path",
    )  # fmt: skip

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.analysis.summary import summary
        from rnnkit.tasks.load import load

        loaded = load(args.run_dir, checkpoint=args.checkpoint)
        model = getattr(loaded, "model", None)
        if model is None:
            raise ConfigError(
                f"{args.run_dir} holds no recurrent model to summarise (a word2vec run holds "
                f"vectors: rnnkit.load(run_dir) gives them); pick a run of another task."
            )
        console.print(summary(model, args.input_shape, max_depth=args.max_depth))
        return 0

    parser.set_defaults(handler=handle)


__all__ = ["add_summary", "parse_shape"]

"""`rnnkit predict RUN_DIR "text" ...`: class probabilities of texts from a trained classifier.

For each text it prints the tokens the model reads (cut as the run cut its corpus; the words
it never saw, read as <unk>, in [brackets], with their share), then y, one probability per
class, as the lecture writes it:

    "The plot is thin, the jokes fall flat"
      tokens  the plot is thin , the jokes fall flat   unknown 0 of 10 (0%)
      y¹ = 0.9123  negative  ←
      y² = 0.0877  positive

With no text arguments it reads one text per line from standard input (batch prediction).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rnnkit.console import console
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.registry import CHECKPOINT_HELP, DEFAULT_CHECKPOINT, run_handler

if TYPE_CHECKING:  # torch and the task load inside the functions that use them
    from rnnkit.text.normalization import UnknownMarks

SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_prediction(
    text: str,
    probabilities: list[float],
    classes: list[str],
    chosen: int,
    marks: UnknownMarks | None = None,
) -> str:
    """The text, its tokens (`format_unknown`), then y^c = p and the class name per line; an
    arrow marks the decision.

    >>> print(format_prediction("great fun", [0.1, 0.9], ["negative", "positive"], 1))
    "great fun"
      y¹ = 0.1000  negative
      y² = 0.9000  positive  ←
    """
    from rnnkit.text.normalization import format_unknown

    lines = [f'"{text}"'] + ([] if marks is None else [format_unknown(marks)])
    for c, (p, name) in enumerate(zip(probabilities, classes, strict=True)):
        mark = "  ←" if c == chosen else ""
        lines.append(f"  y{str(c + 1).translate(SUPERSCRIPTS)} = {p:.4f}  {name}{mark}")
    return "\n".join(lines)


def add_predict(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit predict RUN_DIR [TEXT ...] [--threshold θ]`: classify texts with a trained run."""
    parser = verbs.add_parser(
        "predict",
        help="class probabilities of texts from a trained sentiment/spam (or sequences) run",
        description="Print y (one probability per class) for each TEXT; with no TEXT, read one"
        " text per line from standard input.",
    )
    parser.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="a sentiment, spam or sequences run"
    )
    parser.add_argument(
        "texts", nargs="*", metavar="TEXT",
        help="texts to classify, quoted (a sequences run: 60-base strings or CSV files of frames)",
    )  # fmt: skip
    parser.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help=CHECKPOINT_HELP)
    parser.add_argument(
        "--threshold", type=float, default=None,
        help="θ of a binary run: class 2 iff y² ≥ θ (default: the run's threshold)",
    )  # fmt: skip

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.tasks.classify.train import load_classifier, predict_proba, unknown_marks
        from rnnkit.training.runs import read_run_config

        own = run_handler(read_run_config(args.run_dir).get("task"), "predict")
        if own is not None:  # a run of another task that `rnnkit predict` reads (sequences)
            return int(own(args) or 0)
        loaded = load_classifier(args.run_dir, checkpoint=args.checkpoint)
        texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
        if not texts:
            raise DataError("no text to classify: pass TEXT arguments or lines on stdin")
        threshold = loaded.config.threshold if args.threshold is None else args.threshold
        if not 0.0 < threshold < 1.0:
            raise ConfigError(f"--threshold must be in (0, 1), got {threshold}")
        probabilities = predict_proba(loaded, texts)  # (N, C)
        classes = list(loaded.classes)
        for text, row in zip(texts, probabilities.tolist(), strict=True):
            binary = len(classes) == 2
            chosen = (
                int(row[1] >= threshold) if binary else max(range(len(row)), key=row.__getitem__)
            )
            marks = unknown_marks(loaded, text)
            text_block = format_prediction(text, row, classes, chosen, marks)
            console.print(text_block, markup=False, highlight=False, soft_wrap=True)
        return 0

    parser.set_defaults(handler=handle)

"""`rnnkit predict RUN_DIR SEQUENCE ...` of a sequences run: the class probabilities of each.

A splice run reads strings of 60 bases (A, C, G, T, any case); a vowels run reads CSV files,
one per utterance, of T rows × 12 LPC coefficients (as the .ts files hold them, unscaled):

    $ rnnkit predict runs/sequences-… CCAGCTGCATCACAGGAGGCCAGCGAGCAGGTCTGTTCCAAGGGCCTTCGAGCCAGTCTG
    "CCAGCTGCATCACAGGAGGCCAGCGAGCAGGTCTGTTCCAAGGGCCTTCGAGCCAGTCTG"
      y¹ = …  ei
      y² = …  ie
      y³ = …  n  ←     (the arrow marks the most probable class)

`rnnkit predict` is the classify task's command; it hands a sequences run to
`predict_sequences` (this task's `handlers` entry in TASK_INFO).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rnnkit.console import console
from rnnkit.errors import DataError
from rnnkit.tasks.classify.cli import format_prediction


def read_frames(path: Path) -> Any:
    """One utterance from a CSV file of T rows × 12 numbers: an array (T, 12)."""
    import numpy as np

    try:
        frames = np.loadtxt(path, delimiter=",", ndmin=2)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a CSV file of numbers ({err})") from err
    return frames


def predict_sequences(args: argparse.Namespace) -> int:
    """Print y for each SEQUENCE argument (or line of standard input) of a sequences run."""
    from rnnkit.tasks.sequences.train import load_sequence_classifier

    loaded = load_sequence_classifier(args.run_dir, checkpoint=args.checkpoint)
    items = args.texts or [line.strip() for line in sys.stdin if line.strip()]
    if not items:
        raise DataError(
            "no sequence to classify: pass 60-base strings (splice) or CSV files of frames "
            "(vowels) as arguments or lines on stdin"
        )
    sequences = items if loaded.kind == "tokens" else [read_frames(Path(i)) for i in items]
    classes = list(loaded.classes)
    for item, row in zip(items, loaded.predict_proba(sequences).tolist(), strict=True):
        chosen = max(range(len(row)), key=row.__getitem__)
        block = format_prediction(item, row, classes, chosen)
        console.print(block, markup=False, highlight=False, soft_wrap=True)
    return 0

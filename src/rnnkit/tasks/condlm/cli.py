"""`rnnkit generate CONDLM_RUN --condition CLASS`: texts of a class from a trained condlm run.

The `generate` handler of the condlm task's TASK_INFO: `rnnkit generate` hands it a run of
this task with the parsed flags; it samples from <bos> given the class (no prime), one text per
line. Torch loads when the handler runs.
"""

from __future__ import annotations

import argparse

from rnnkit.console import console
from rnnkit.errors import ConfigError


def generate_from_class(args: argparse.Namespace) -> int:
    """`rnnkit generate RUN_DIR --condition CLASS` for a condlm run: one text per line."""
    from rnnkit.tasks.condlm import train as condlm

    unused = [flag for flag, value in (("--prime", args.prime), ("--top-p", args.top_p),
                                       ("--beam", args.beam)) if value]  # fmt: skip
    if unused:
        raise ConfigError(f"{', '.join(unused)} do not apply to a condlm run: it samples "
                          "from <bos> given --condition (use --temperature, --top-k, "
                          "--count)")  # fmt: skip
    loaded = condlm.load_condlm(args.run_dir, checkpoint=args.checkpoint)
    if args.condition is None:
        raise ConfigError(f"{args.run_dir} writes text given a class: pass --condition, one of "
                          f"{list(loaded.classes)}")  # fmt: skip
    texts = condlm.generate_conditioned(
        loaded, args.condition, args.count, temperature=0.0 if args.greedy else args.temperature,
        top_k=args.top_k, max_length=min(args.length, 200), seed=args.seed,
    )  # fmt: skip
    for text in texts:
        console.print(text, markup=False, highlight=False)
    return 0


__all__ = ["generate_from_class"]

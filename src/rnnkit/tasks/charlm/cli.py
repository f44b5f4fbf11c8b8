"""`rnnkit generate LM_RUN --prime TEXT`: stream text from a trained language model.

The `generate` handler of the charlm task's TASK_INFO: `rnnkit generate` hands it a run of
this task with the parsed flags. The text is printed piece by piece as it is sampled
(`rnnkit.tasks.charlm.generate.generate_text`); torch loads when the handler runs.
"""

from __future__ import annotations

import argparse

from rnnkit.console import console
from rnnkit.errors import ConfigError


def generate_language(args: argparse.Namespace) -> int:
    """Continue `--prime` with `--length` tokens (sampled, top-k/p, greedy or beam search)."""
    from rnnkit.models.decoding import SamplingConfig  # torch loads for this verb only
    from rnnkit.tasks.charlm import train as charlm
    from rnnkit.tasks.charlm.generate import generate_text

    if args.condition is not None:
        raise ConfigError(f"--condition is for condlm runs; {args.run_dir} is a language "
                          "model that continues --prime")  # fmt: skip
    loaded = charlm.load_language_model(
        args.run_dir, checkpoint=args.checkpoint, device=args.device
    )
    sampling = SamplingConfig(
        temperature=0.0 if args.greedy else args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
    )
    pieces = generate_text(
        loaded.model, loaded.vocab, args.prime, args.length, sampling,
        seed=args.seed, beam_size=args.beam,
    )  # fmt: skip
    console.print(args.prime, end="", markup=False, highlight=False)
    for piece in pieces:
        console.print(piece, end="", markup=False, highlight=False, soft_wrap=True)
        console.file.flush()
    console.print()
    return 0


__all__ = ["generate_language"]

"""`rnnkit generate MUSIC_RUN --out chorale.mid`: sample a piano roll, write MIDI and a PNG.

`rnnkit generate` hands a run of the `music` task to `generate_music` (the `generate` handler
of the task's TASK_INFO), which takes the flags that apply to a piano roll (`--frames`,
`--temperature`, `--greedy`, `--seed`, `--checkpoint`, `--out`) and refuses the text-only
ones. The PNG goes beside the MIDI file, with the same name.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnkit.console import console
from rnnkit.errors import ConfigError

TEXT_ONLY = (("--prime", "prime"), ("--top-k", "top_k"), ("--top-p", "top_p"),
             ("--beam", "beam"), ("--condition", "condition"))  # fmt: skip


def generate_music(args: argparse.Namespace) -> int:
    """Sample `--frames` frames from a music run; write `--out` (MIDI) and its PNG."""
    from rnnkit.datasets.chorales import roll_notes  # torch and music21 load for this only
    from rnnkit.tasks.music.train import load_music_model

    given = [flag for flag, name in TEXT_ONLY if getattr(args, name, None)]
    if given:
        raise ConfigError(f"{', '.join(given)} apply to text; {args.run_dir} is a music run: "
                          "use --frames, --temperature, --greedy, --seed and --out")  # fmt: skip
    if args.frames < 1:
        raise ConfigError(f"--frames must be a positive integer, got {args.frames}")
    if args.temperature < 0:
        raise ConfigError(f"--temperature must be ≥ 0, got {args.temperature}")
    out = Path(args.out or "chorale.mid")
    if out.suffix.lower() not in (".mid", ".midi"):
        raise ConfigError(f"--out must name a .mid file, got {out}")
    loaded = load_music_model(args.run_dir, checkpoint=args.checkpoint)
    temperature = 0.0 if args.greedy else args.temperature
    roll = loaded.generate(args.frames, temperature=temperature, seed=args.seed)
    midi, picture = loaded.write(roll, out, title=f"{Path(args.run_dir).name}, τ = {temperature}")
    console.print(f"{midi}: {len(roll_notes(roll))} notes in {args.frames} frames "
                  f"(Δ = {loaded.config.step} note); piano roll {picture}")  # fmt: skip
    return 0


__all__ = ["generate_music"]

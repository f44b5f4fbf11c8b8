"""Music benchmark: next-frame LSTM/GRU on the Bach chorales against the per-pitch marginal.

Usage:
    python -m bench.music [--cells lstm] [--seeds 0] [--steps 600] [--hidden-size 128]
                          [--out FILE.json]

The chorales of music21's corpus (`rnnkit.datasets.chorales`: quarter-note frames over the 88
keys, moved to C major / C minor, split by piece 238 / 83 / 86) train a one-layer recurrent
net through `rnnkit.tasks.music.train.build` and the rnnkit Trainer with the task's defaults (Adam
1e-2, cosine to 1e-3, clip 1, B = 16 chorales). The model scored is the one with the best
validation NLL among the checks every 100 updates (the task's "best" checkpoint rule); the
test split is scored once, at the end. The baseline turns each key on with its add-one
frequency over the training frames. Figures are negative log-likelihoods per frame in nats
(summed over the 88 keys), the unit of Boulanger-Lewandowski et al. (2012, Table 1), whose JSB
Chorales figures (on their own split) are printed beside. Training seconds are wall-clock on
this machine, evaluation included.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from rnnkit.config import make_config
from rnnkit.seeding import seed_everything
from rnnkit.tasks.music.train import (
    PUBLISHED_NLL,
    MusicConfig,
    build,
    marginal_nll,
    read_splits,
    split_nll,
)
from rnnkit.training import Trainer, TrainerConfig


def run_one(cell: str, seed: int, steps: int, hidden_size: int) -> dict[str, float]:
    """Train one model; its best validation NLL, that model's test NLL and the seconds."""
    config = make_config(MusicConfig, cell=cell, hidden_size=hidden_size)
    seed_everything(seed)
    setup = build(config, data=None, seed=seed)
    trainer_config = TrainerConfig(
        max_steps=steps, lr=1e-2, schedule="cosine", min_lr=1e-3, clip_norm=1.0, eval_every=0,
        checkpoint_every=0, keep_best=False, log_every=steps, quiet=True, seed=seed, device="cpu",
    )  # fmt: skip
    splits = read_splits(config, None)
    best: dict[str, object] = {"valid": float("inf")}
    curve: dict[int, float] = {}  # update -> validation NLL

    def keep_best(trainer: Trainer, row: dict) -> None:  # validate every 100 updates
        if trainer.loop.step % 100 == 0:
            valid = curve[trainer.loop.step] = split_nll(setup.model, splits["valid"])
            if valid < best["valid"]:
                best.update(valid=valid, weights=copy.deepcopy(setup.model.state_dict()))
            setup.model.train()

    trainer = Trainer(setup.model, setup.objective, setup.train_data, config=trainer_config,
                      callbacks=[keep_best])  # fmt: skip
    start = time.perf_counter()
    trainer.fit()
    seconds = time.perf_counter() - start
    setup.model.load_state_dict(best["weights"])
    test = split_nll(setup.model, splits["test"])
    return {"valid": best["valid"], "test": test, "seconds": seconds, "curve": curve}


def mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {sd:.2f}" if len(values) > 1 else f"{values[0]:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="lstm")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    splits = read_splits(MusicConfig(), None)
    rows = {
        "per-pitch marginal": {
            name: marginal_nll(splits["train"], splits[name]) for name in ("valid", "test")
        }
    }
    results: dict[str, list[dict[str, float]]] = {}
    for cell in args.cells.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            results.setdefault(cell, []).append(run_one(cell, seed, args.steps, args.hidden_size))
            print(cell, seed, results[cell][-1], file=sys.stderr, flush=True)
    print("| model | valid NLL | test NLL | train s |\n|---|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['valid']:.2f} | {row['test']:.2f} | – |")
    for cell, runs in results.items():
        cells = [mean_sd([run[key] for run in runs]) for key in ("valid", "test", "seconds")]
        print(f"| {cell.upper()}, H = {args.hidden_size} | " + " | ".join(cells) + " |")
    for name, value in PUBLISHED_NLL.items():
        print(f"| {name} (Boulanger-Lewandowski et al. 2012, JSB) | – | {value:.2f} | – |")
    if args.out is not None:
        args.out.write_text(json.dumps({"baseline": rows, "models": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Multiplicative cells on the char-LM: LSTM vs mLSTM vs mRNN at equal parameter count.

Usage:
    python -m bench.multiplicative [--data PATH] [--hidden-size 128] [--num-layers 1]
                                   [--embed-dim 32] [--steps 1000] [--batch-size 32]
                                   [--seq-len 50] [--lr 8e-3] [--seeds 2] [--threads N]
                                   [--cells lstm,mlstm,mrnn] [--quick]

Data: the whole Tiny Shakespeare (`../shared/data/tiny_shakespeare/input.txt` beside the
repository, else the copy embedded in rnnkit), read and cut by the char-LM task itself: each
run is `rnnkit.tasks.train("charlm", …)`, the same code as `rnnkit train charlm --cell …`, and
its number is the last validation row of the run's metrics.jsonl:

    BPC = −(1/N) Σ_t log₂ Pr(x_{t+1} | x_≤t)    over the held-out last 10% of the characters

Equal size: the LSTM of `--hidden-size` H sets the budget P (all parameters: embedding V·E,
the recurrent stack, the output layer V·(H + 1)); every other cell gets the hidden size whose
model comes closest to P (`LanguageModelConfig.parameter_count`, `rnnkit.models.size`). With
M = H an mLSTM layer holds 5H(F + H) + 8H and an mRNN layer 2H(F + H) + 2H, against the LSTM's
4H(F + H) + 8H, so the mLSTM gets a slightly smaller H and the mRNN a much larger one.

Equal steps: every cell takes the same number of Adam updates on the same chunks (B streams of
T characters, state carried between chunks), with the char-LM's warm-up and cosine schedule.
Wall-clock time is printed too; it is not a fair speed comparison: the LSTM runs on its fused
sequence function, the multiplicative cells on their own step under autograd.

References:
    Sutskever, Martens & Hinton 2011, "Generating text with recurrent neural networks".
    Krause, Lu, Murray & Renals 2016, "Multiplicative LSTM for sequence modelling".
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from rnnkit import tasks
from rnnkit.config import make_config
from rnnkit.models.many_to_many import LanguageModelConfig
from rnnkit.tasks.charlm.config import CharLMConfig
from rnnkit.training import TrainerConfig

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared/data/tiny_shakespeare/input.txt"
VOCAB_SIZE = 65  # distinct characters of Tiny Shakespeare (the data README)


def matched_hidden_size(cell: str, budget: int, config: LanguageModelConfig) -> int:
    """The H whose model with `cell` has the parameter count closest to `budget`."""

    def distance(hidden_size: int) -> int:
        size = replace(config, cell=cell, hidden_size=hidden_size).parameter_count()
        return abs(size - budget)

    return min(range(1, 8 * config.hidden_size + 1), key=distance)


def last_validation(run_dir: Path) -> dict:
    """The last "eval" row of a run's metrics.jsonl."""
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [row for row in rows if row.get("kind") == "eval"][-1]


def run(cell: str, hidden_size: int, seed: int, args: argparse.Namespace, data: Path | None,
        root: Path) -> tuple[float, float]:  # fmt: skip
    """Train one char-LM; (validation bits per char, seconds)."""
    config = make_config(CharLMConfig,
        cell=cell, hidden_size=hidden_size, num_layers=args.num_layers, embed_dim=args.embed_dim,
        batch_size=args.batch_size, seq_len=args.seq_len, samples=0,
    )  # fmt: skip
    trainer = TrainerConfig(
        max_steps=args.steps, lr=args.lr, schedule="cosine", warmup_steps=min(50, args.steps // 10),
        min_lr=args.lr / 10, clip_norm=5.0, eval_every=0, checkpoint_every=0, log_every=50,
        quiet=True, device="cpu", seed=seed,
    )  # fmt: skip
    run_dir = root / f"{cell}-{seed}"
    start = time.perf_counter()
    tasks.train("charlm", config, trainer, data=data, run_dir=run_dir)
    return last_validation(run_dir)["val_bpc"], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA if SHARED_DATA.exists() else None)
    parser.add_argument("--hidden-size", type=int, default=128, help="H of the LSTM")
    parser.add_argument("--num-layers", type=int, default=1)
    parser.add_argument("--embed-dim", type=int, default=32)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=50)
    parser.add_argument("--lr", type=float, default=8e-3)  # the main job's
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--cells", default="lstm,mlstm,mrnn")
    parser.add_argument("--quick", action="store_true", help="H 32, 60 steps: a smoke run")
    parser.add_argument("--out", type=Path, default=None, help="keep the runs here (else a temp)")
    args = parser.parse_args()
    if args.quick:
        args.hidden_size, args.steps = 32, 60
    if args.threads:
        torch.set_num_threads(args.threads)
    reference = LanguageModelConfig(
        vocab_size=VOCAB_SIZE,
        embed_dim=args.embed_dim,
        hidden_size=args.hidden_size,
        num_layers=args.num_layers,
    )
    budget = reference.parameter_count()
    print(f"data: {args.data or 'embedded'}; LSTM H = {args.hidden_size}, L = {args.num_layers}, "
          f"E = {args.embed_dim}: {budget:,} parameters; {args.steps} steps of B·T = "
          f"{args.batch_size}·{args.seq_len}; lr {args.lr}; {args.seeds} seed(s)\n")  # fmt: skip
    print("| cell | H | parameters | val BPC | each seed | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.out or temporary
        for cell in args.cells.split(","):
            H = args.hidden_size if cell == "lstm" else matched_hidden_size(cell, budget, reference)
            size = replace(reference, cell=cell, hidden_size=H).parameter_count()
            results = [run(cell, H, seed, args, args.data, Path(folder)) for seed in
                       range(1337, 1337 + args.seeds)]  # fmt: skip
            bpc = statistics.mean(r[0] for r in results)
            spread = f" ± {statistics.stdev(r[0] for r in results):.3f}" if args.seeds > 1 else ""
            seconds = statistics.mean(r[1] for r in results)
            each = ", ".join(f"{r[0]:.3f}" for r in results)
            print(f"| {cell} | {H} | {size:,} | {bpc:.3f}{spread} | {each} | {seconds:.0f} |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

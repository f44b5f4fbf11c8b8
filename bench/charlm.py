"""Char-LM benchmark: training throughput against torch.nn.LSTM, and validation loss after a budget.

Usage:
    python -m bench.charlm [--data PATH] [--device cpu|cuda] [--hidden-size 512] [--num-layers 2]
                           [--time-budget SECONDS] [--batch-size 64] [--seq-len 100] [--lr 2e-3]
                           [--threads N] [--throughput-only | --quality-only] [--quick]

Data: the whole Tiny Shakespeare (`../shared/data/tiny_shakespeare/input.txt` beside the
repository, else the copy embedded in rnnkit), prepared by `rnnkit.tasks.charlm.train.build`: one
character stream cut into B parallel rows, chunks of T steps with the state carried between
chunks (truncated BPTT), the last 10% held out for validation.

1. Throughput. The task's `LanguageModel` (embedding → L-layer `rnnkit.LSTM` → linear) and a
   copy whose `model.recurrent` is `torch.nn.LSTM` with the same weights (`LSTM.to_torch`).
   Each has its own Adam and trains on the same chunks. They take turns, A then B, for rounds
   of N steps (forward, backward, clipping, optimizer step), so load on the machine hits both
   alike. chars/s = steps·B·T / seconds; the ratio is rnnkit / torch (issue 6 targets ≥ 0.8).
2. Quality. The rnnkit model trains for `--time-budget` seconds of training (evaluations not
   counted) with Adam, a linear warm-up, then a cosine decay over the budget's time:

       η(s) = η_min + (η − η_min)·½(1 + cos(π·s/S))    s of S seconds trained, η_min = η/10

   and global-norm clipping at 5 (char-rnn's grad_clip). The validation loss over the held-out
   tail is measured `--evals` times, evenly in training time:

       L = −(1/N) Σ_t ln Pr(x_{t+1} | x_≤t)    nats/char;   BPC = L / ln 2

   Issue 6's goal is L ≤ 1.55 for a 2×512 LSTM trained to convergence. Dropout 0.2 between the
   layers and before the output follows nanoGPT's Tiny Shakespeare config; char-rnn advises up
   to 0.5 when the parameters far outnumber the characters of the data (`--dropout`).

On CUDA every timing is bracketed by torch.cuda.synchronize(), and TF32 is on for cuBLAS as it
is for cuDNN by default (`--no-tf32` turns both off). Tables are markdown, to paste as they are.

References:
    Karpathy. char-rnn (2015), https://github.com/karpathy/char-rnn (lr 2e-3, clip 5, dropout)
    Karpathy. nanoGPT, config/train_shakespeare_char.py, https://github.com/karpathy/nanoGPT
"""

from __future__ import annotations

import argparse
import copy
import itertools
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from rnnkit.config import make_config
from rnnkit.errors import RnnkitError
from rnnkit.models.decoding import SamplingConfig
from rnnkit.seeding import seed_everything
from rnnkit.tasks.charlm.generate import generate_text
from rnnkit.tasks.charlm.train import CharLMConfig, Chunk, LanguageModelObjective, build
from rnnkit.text.vocab import Vocab
from rnnkit.training.tensor_trees import detach_state, to_device

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared/data/tiny_shakespeare/input.txt"
CLIP_NORM = 5.0  # θ₀ of global-norm clipping (char-rnn's grad_clip)
WARMUP_STEPS = 50  # linear warm-up of the learning rate


class Learner:
    """A model, its Adam optimizer, its own pass over the chunks and the state it carries."""

    def __init__(self, model: nn.Module, chunks: list[Chunk], lr: float) -> None:
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.objective = LanguageModelObjective("char")
        self.chunks: Iterator[Chunk] = itertools.cycle(chunks)
        self.state: object = None
        self.steps = 0

    def step(self, lr: float | None = None) -> torch.Tensor:
        """One update on the next chunk; returns the detached loss (no device sync)."""
        if lr is not None:
            for group in self.optimizer.param_groups:
                group["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        result = self.objective.loss(self.model, next(self.chunks), self.state)
        result.loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), CLIP_NORM)
        self.optimizer.step()
        self.state = detach_state(result.state)
        self.steps += 1
        return result.loss.detach()

    def evaluate(self, chunks: list[Chunk]) -> float:
        """Mean validation loss in nats/char, in eval mode without gradients."""
        self.model.eval()
        with torch.no_grad():
            loss = self.objective.evaluate(self.model, chunks)["loss"]
        self.model.train()
        return loss


@dataclass
class Data:
    """The task's model and chunks, on the device."""

    model: nn.Module
    train: list[Chunk]
    val: list[Chunk]
    vocab: Vocab
    train_chars: int  # characters in one pass over the training chunks


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def load(args: argparse.Namespace, device: torch.device) -> Data:
    """Build the char-LM task (model, vocabulary, chunks) for the flags, chunks on `device`."""
    config = make_config(
        CharLMConfig,
        embed_dim=args.embed_dim,
        hidden_size=args.hidden_size,
        num_layers=args.num_layers,
        dropout=args.dropout,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        max_chars=args.max_chars,
        samples=0,
    )
    seed_everything(args.seed, deterministic=False)
    setup = build(config, data=args.data, seed=args.seed)

    def place(chunk: Chunk) -> Chunk:
        return Chunk(
            *to_device((chunk.inputs.contiguous(), chunk.targets.contiguous()), device), chunk.first
        )

    train = [place(chunk) for chunk in setup.train_data.dataset]
    val = [place(chunk) for chunk in setup.eval_data]
    vocab = setup.model.config.vocab_size
    print(
        f"data {args.data or 'embedded Tiny Shakespeare'}: V={vocab}, {len(train)} train chunks "
        f"and {len(val)} val chunks of B={args.batch_size} x T={args.seq_len}; model "
        f"{args.num_layers}x{args.hidden_size} LSTM, E={args.embed_dim}, dropout {args.dropout}, "
        f"{sum(p.numel() for p in setup.model.parameters()):,} parameters",
        flush=True,
    )
    train_chars = len(train) * args.batch_size * args.seq_len
    vocab_table = Vocab.from_dict(setup.artifacts["vocab"])
    return Data(setup.model.to(device), train, val, vocab_table, train_chars)


def torch_twin(model: nn.Module) -> nn.Module:
    """A copy of `model` whose recurrent stack is torch.nn.LSTM with the same weights."""
    twin = copy.deepcopy(model)
    twin.recurrent = model.recurrent.to_torch()
    return twin


def parity(ours: nn.Module, reference: nn.Module, chunk: Chunk) -> float:
    """Max |logits difference| of the two models on one chunk (eval mode, fresh state)."""
    ours.eval(), reference.eval()
    with torch.no_grad():
        difference = (ours(chunk.inputs)[0] - reference(chunk.inputs)[0]).abs().max()
    ours.train(), reference.train()
    return float(difference)


def throughput(data: Data, args: argparse.Namespace, device: torch.device) -> None:
    """Train both models in turns, N steps a round, and print chars/s and the ratio."""
    learners = {
        "rnnkit.LSTM": Learner(copy.deepcopy(data.model), data.train, args.lr),
        "torch.nn.LSTM": Learner(torch_twin(data.model), data.train, args.lr),
    }
    ours, reference = (learner.model for learner in learners.values())
    print(f"parity before training: max |Δ logits| = {parity(ours, reference, data.train[0]):.2e}")
    seconds: dict[str, list[float]] = {name: [] for name in learners}
    for round_index in range(args.rounds + 1):  # round 0 warms up and is not counted
        for name, learner in learners.items():
            sync(device)
            start = time.perf_counter()
            for _ in range(args.round_steps):
                learner.step()
            sync(device)
            if round_index:
                seconds[name].append(time.perf_counter() - start)
    print_throughput(seconds, args)


def print_throughput(seconds: dict[str, list[float]], args: argparse.Namespace) -> None:
    """chars/s over all rounds and in each model's fastest round, and their ratios."""
    chars = args.round_steps * args.batch_size * args.seq_len  # per round and model
    rows = {
        name: (chars * len(times) / sum(times), chars / min(times), 1e3 * min(times))
        for name, times in seconds.items()
    }  # chars/s all rounds, chars/s fastest round, ms per round
    print(f"\n{args.rounds} rounds of {args.round_steps} steps per model, interleaved\n")
    print("| recurrent layer | chars/s, all rounds | chars/s, fastest round | ms/step, fastest |")
    print("|---|---:|---:|---:|")
    for name, (rate, fastest, round_ms) in rows.items():
        print(f"| {name} | {rate:,.0f} | {fastest:,.0f} | {round_ms / args.round_steps:.1f} |")
    ours, reference = rows["rnnkit.LSTM"], rows["torch.nn.LSTM"]
    print(
        f"| **rnnkit / torch** | **{ours[0] / reference[0]:.2f}** | "
        f"**{ours[1] / reference[1]:.2f}** | |"
    )
    per_round = sorted(
        b / a for a, b in zip(seconds["rnnkit.LSTM"], seconds["torch.nn.LSTM"], strict=True)
    )  # rnnkit chars/s over torch chars/s in each round
    median = per_round[len(per_round) // 2]
    print(
        f"\nrnnkit / torch per round: median {median:.2f}, "
        f"min {per_round[0]:.2f}, max {per_round[-1]:.2f} (target ≥ 0.8)"
    )


def learning_rate(step: int, trained: float, args: argparse.Namespace) -> float:
    """Linear warm-up over the first steps, then cosine decay in training time to lr/10."""
    warmup = min(1.0, (step + 1) / WARMUP_STEPS)
    progress = min(1.0, trained / args.time_budget)  # s / S
    floor = args.lr / 10  # η_min
    return warmup * (floor + (args.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress)))


def quality(data: Data, args: argparse.Namespace, device: torch.device) -> None:
    """Train the rnnkit model for the time budget, evaluating; print the table and the best."""
    learner = Learner(data.model, data.train, args.lr)
    budget, trained, losses = args.time_budget, 0.0, []
    best = (math.inf, 0.0, 0)  # (val loss, seconds trained, step)
    best_weights = copy.deepcopy(learner.model.state_dict())
    wall = time.perf_counter()
    print(
        f"\ntraining rnnkit.LSTM for {budget:.0f} s on {device.type}: Adam, lr {args.lr:g} "
        f"(cosine in time to {args.lr / 10:g}), clip {CLIP_NORM:g}\n"
    )
    print(
        "| time s | steps | chars seen | epochs | train loss | val nats/char | val bpc | best val |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for index in range(1, args.evals + 1):
        sync(device)
        start = time.perf_counter()
        while trained + time.perf_counter() - start < budget * index / args.evals:
            losses.append(learner.step(learning_rate(learner.steps, trained, args)))
            if learner.steps % 10 == 0:
                sync(device)
        sync(device)
        trained += time.perf_counter() - start
        val = learner.evaluate(data.val)
        if val < best[0]:
            best = (val, trained, learner.steps)
            best_weights = copy.deepcopy(learner.model.state_dict())
        train_loss = float(torch.stack(losses).mean()) if losses else math.nan
        losses.clear()
        chars = learner.steps * args.batch_size * args.seq_len
        print(
            f"| {trained:.0f} | {learner.steps} | {chars:,} | {chars / data.train_chars:.2f} | "
            f"{train_loss:.4f} | {val:.4f} | {val / math.log(2):.4f} | {best[0]:.4f} |",
            flush=True,
        )
    summarise(best, time.perf_counter() - wall, args)
    learner.model.load_state_dict(best_weights)
    sample(learner.model, data.vocab, args)


def summarise(best: tuple[float, float, int], wall: float, args: argparse.Namespace) -> None:
    """The best validation loss, when it was reached, and the goal of issue 6."""
    val, seconds, step = best
    print(
        f"\nbest val loss {val:.4f} nats/char ({val / math.log(2):.4f} bpc) after {seconds:.0f} s "
        f"of training (step {step}); {wall:.0f} s wall with evaluations."
    )
    size = f"{args.num_layers}x{args.hidden_size}"
    verdict = ("met" if val <= 1.55 else "not met") if size == "2x512" else f"n/a ({size})"
    print(f"Goal of issue 6, ≤ 1.55 nats/char for a 2x512 LSTM trained to convergence: {verdict}.")
    if args.device == "cpu":
        print("CPU run: a short budget, the model is not trained to convergence.")


def sample(model: nn.Module, vocab: Vocab, args: argparse.Namespace) -> None:
    """A few hundred characters from the best weights (τ = 0.8), after a newline."""
    if args.sample_length == 0:
        return
    model.eval()
    text = "".join(
        generate_text(
            model, vocab, "\n", args.sample_length, SamplingConfig(temperature=0.8), seed=args.seed
        )
    )
    print(f"\nsample from the best weights (temperature 0.8):\n\n```\n{text.strip()}\n```")


# Defaults of the flags left unset: the full run, and --quick (about a minute on one CPU thread;
# on a shared 2-core machine under load two threads trained 2.6-13x fewer chars/s than one,
# see bench/README.md).
FULL = dict(hidden_size=512, embed_dim=64, batch_size=64, seq_len=100, rounds=5, round_steps=5,
            evals=20, sample_length=300)  # fmt: skip
QUICK = dict(hidden_size=128, embed_dim=32, batch_size=32, seq_len=64, rounds=3, round_steps=3,
             evals=5, sample_length=120, time_budget=30.0, threads=1)  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The flags, with FULL or QUICK filling those not given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--data", type=Path, help="UTF-8 text (default: the shared Tiny Shakespeare)")
    add("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    add("--hidden-size", type=int, help="H (512; quick 128)")
    add("--num-layers", type=int, default=2, help="L")
    add("--embed-dim", type=int, help="E (64; quick 32)")
    add("--dropout", type=float, default=0.2, help="between layers and before the output")
    add("--batch-size", type=int, help="B parallel streams (64; quick 32)")
    add("--seq-len", type=int, help="T steps per chunk and update (100; quick 64)")
    add("--lr", type=float, default=2e-3, help="peak Adam learning rate η")
    add("--time-budget", type=float, help="training seconds (300 on cuda, 180 on cpu; quick 30)")
    add("--evals", type=int, help="validation passes, evenly in training time (20; quick 5)")
    add("--rounds", type=int, help="timed throughput rounds per model (5; quick 3)")
    add("--round-steps", type=int, help="N, steps per model per round (5; quick 3)")
    add("--max-chars", type=int, help="use only the first characters of the text")
    add("--sample-length", type=int, help="characters sampled at the end, 0: none (300)")
    add("--seed", type=int, default=1337)
    add("--threads", type=int, help="CPU threads (torch's choice; quick 1)")
    add("--no-tf32", action="store_true", help="full fp32 in cuBLAS and cuDNN on CUDA")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--throughput-only", action="store_true")
    only.add_argument("--quality-only", action="store_true")
    add("--quick", action="store_true", help="about a minute on CPU: a small model, short runs")
    args = parser.parse_args(argv)
    defaults = (
        QUICK if args.quick else {**FULL, "time_budget": 300.0 if args.device == "cuda" else 180.0}
    )
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.data is None and SHARED_DATA.is_file():
        args.data = SHARED_DATA
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda needs a CUDA build of torch and a GPU")
    device = torch.device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    tf32 = device.type == "cuda" and not args.no_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    print(
        f"torch {torch.__version__}, {name}, {torch.get_num_threads()} CPU threads, "
        f"float32{' (TF32 matmuls)' if tf32 else ''}"
    )
    try:
        data = load(args, device)
    except RnnkitError as err:
        print(f"error: {err}")
        return 2
    if not args.quality_only:
        throughput(data, args, device)
    if not args.throughput_only:
        quality(data, args, device)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

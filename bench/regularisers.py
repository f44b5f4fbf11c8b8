"""Time rnnkit.LSTM with each regulariser against the plain rnnkit.LSTM and torch.nn.LSTM;
with --quality, what each buys a word-level LSTM LM in equal training time.

Usage:
    python -m bench.regularisers [--repeats N] [--threads N] [--sizes 32x100x128x128 ...]
    python -m bench.regularisers --quality [--minutes 2] [--clock wall|cpu] [--variants ...]
                                 [--hidden-size 128] [--max-train-tokens 400000] [--threads 1]

For each size (batch B, steps T, input F, hidden H) every module is built with the same weights
and timed in the same process, interleaved repeat by repeat, keeping the minimum of each (the
least disturbed by other load; the house style of bench/cells.py). A call is one forward pass
in training mode (the masks are drawn) and the backward of output.sum(). "path" is what runs
the time loop (`layer.path` in training): "lstm" the fused sequence with the hand-derived
backward of `rnnkit.layers.fast.fused_lstm` (which runs weight drop, recurrent dropout and
zoneout), "lstm_ln" the layer-normalised sequence of `rnnkit.layers.fast.layer_norm_lstm`, its
backward also by hand (layer_norm; with zoneout too it would be "autograd", the cell's step).
Ratios are against the plain rnnkit.LSTM and against torch.nn.LSTM (oneDNN on the CPU).

--quality (issue 26, part 2): a tied 2-layer LSTM LanguageModel on the Gutenberg books of
`../shared/data/english_corpus`, `bench/wordlm.py`'s split and vocabulary (its `load_streams`,
`Learner` and `evaluate`: truncated BPTT over B streams in T-step chunks, state carried), one
model per variant (QUALITY_VARIANTS), each trained for the same --minutes of training time
(evaluations not counted; --clock cpu counts this process's CPU time instead of wall-clock time,
so that other jobs on a shared machine do not change the budget), from the same seed. The Adam
variants use wordlm's schedule (linear warm-up, cosine decay over the budget's time to η/10);
"AWD-LSTM (NT-ASGD)" uses AWD's optimizer: SGD at η = 30, no momentum, clipping at 0.25, weight
decay 1.2e-6, validated --evals times on the first --trigger-tokens of the valid stream,
averaging once `rnnkit.training.averaging.nonmonotone_trigger` fires (n = --nonmono) and scored
with the average.
Printed: steps, epochs, valid and test perplexity (PPL = exp of the mean nats of the
M = N − 1 transitions, as wordlm) and, for NT-ASGD, when averaging began.
Reference for a full-size run: AWD-LSTM (3 layers, 1150 units, 24M parameters, 750 epochs on
a GPU) reached test PPL 57.3 on PTB and 65.8 on WikiText-2 (Merity et al. 2017, Table 1-2).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

import rnnkit

SIZES = ["32x100x128x128", "64x200x256x256"]  # B x T x F x H
OPTIONS: dict[str, dict] = {  # the rnnkit rows after "plain"
    "plain": {},
    "weight_drop=0.5": {"weight_drop": 0.5},
    "input+output_dropout=0.4": {"input_dropout": 0.4, "output_dropout": 0.4},
    "AWD (wd 0.5, in/out 0.4)": {"weight_drop": 0.5, "input_dropout": 0.4, "output_dropout": 0.4},
    "recurrent_dropout=0.25": {"recurrent_dropout": 0.25},
    "zoneout=0.1": {"zoneout": 0.1},
    "layer_norm": {"layer_norm": True},
}


def fwd_bwd(module: nn.Module, x: torch.Tensor) -> Callable[[], None]:
    """One training call: forward (masks drawn) and the backward of output.sum()."""

    def run() -> None:
        module(x)[0].sum().backward()

    return run


def best_times(fns: list[Callable[[], None]], repeats: int) -> list[float]:
    """Minimum wall time of each function in seconds, interleaved repeat by repeat."""
    for fn in fns:  # warm-up: kernels, thread pools, allocator
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for index, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def run_size(size: str, repeats: int) -> None:
    B, T, F, H = (int(n) for n in size.split("x"))
    torch.manual_seed(0)
    reference = nn.LSTM(F, H).train()
    modules: dict[str, nn.Module] = {"torch.nn.LSTM": reference}
    for name, options in OPTIONS.items():
        layer = rnnkit.LSTM(F, H, **options).train()
        layer.load_state_dict(reference.state_dict(), strict=not options.get("layer_norm"))
        modules[name] = layer
    x = torch.randn(T, B, F)
    times = best_times([fwd_bwd(m, x) for m in modules.values()], repeats)
    ms = dict(zip(modules, (t * 1e3 for t in times), strict=True))
    print(f"\n{size} (B x T x F x H), fwd+bwd, training mode, min of {repeats}")
    header = f"{'module':28} {'path':9} {'ms':>9} {'/ plain':>8} {'/ torch':>8}"
    print(header)
    print("-" * len(header))
    for name, module in modules.items():
        path = getattr(module, "path", "oneDNN")
        plain, torch_ms = ms["plain"], ms["torch.nn.LSTM"]
        print(f"{name:28} {path:9} {ms[name]:9.1f} {ms[name] / plain:8.2f} "
              f"{ms[name] / torch_ms:8.2f}")  # fmt: skip


# -- part 2: quality in equal training time ---------------------------------------------------
AWD = {  # Merity et al. 2017's values (their 0.3 between layers is left out: see README)
    "weight_drop": 0.5, "input_dropout": 0.65, "output_dropout": 0.4,
    "embedding_dropout": 0.1, "activation_reg": 2.0, "temporal_activation_reg": 1.0,
}  # fmt: skip
QUALITY_VARIANTS: dict[str, tuple[str, dict, str]] = {  # key: (row name, options, optimizer)
    "plain": ("plain", {}, "adam"),
    "variational": ("+variational dropout (rec 0.25, locked in 0.3 / out 0.4)",
                    {"recurrent_dropout": 0.25, "input_dropout": 0.3, "output_dropout": 0.4},
                    "adam"),
    "weight-drop": ("+weight drop 0.5", {"weight_drop": 0.5}, "adam"),
    "zoneout": ("+zoneout 0.1", {"zoneout": 0.1}, "adam"),
    "layer-norm": ("+layer norm", {"layer_norm": True}, "adam"),
    "awd-adam": ("AWD regularisers, Adam", AWD, "adam"),
    "awd-ntasgd": ("AWD-LSTM (AWD regularisers, NT-ASGD)", AWD, "ntasgd"),
}  # fmt: skip
AWD_SGD = {"lr": 30.0, "clip_norm": 0.25, "weight_decay": 1.2e-6}  # AWD-LSTM's SGD


def train_variant(key: str, streams: object, args: argparse.Namespace) -> dict:
    """One model trained for the budget; its valid and test perplexity (wordlm's evaluate)."""
    from bench import wordlm
    from rnnkit.models.many_to_many import LanguageModel, LanguageModelConfig
    from rnnkit.seeding import seed_everything
    from rnnkit.training.averaging import nonmonotone_trigger, start_average

    name, options, optimizer = QUALITY_VARIANTS[key]
    seed_everything(args.seed, deterministic=False)
    H, budget = args.hidden_size, args.minutes * 60.0
    config = LanguageModelConfig(vocab_size=len(streams.vocab), embed_dim=H, hidden_size=H,
                                 num_layers=2, tie_weights=True, **options)  # fmt: skip
    model = LanguageModel(config)
    ntasgd = optimizer == "ntasgd"
    run = argparse.Namespace(
        **{
            **vars(args),
            "time_budget": budget,
            "clip_norm": AWD_SGD["clip_norm"] if ntasgd else args.clip_norm,
        }
    )
    learner = wordlm.Learner(model, streams.ids["train"], run, torch.device("cpu"))
    if ntasgd:
        learner.optimizer = torch.optim.SGD(
            model.parameters(), lr=AWD_SGD["lr"], weight_decay=AWD_SGD["weight_decay"]
        )
    trigger_ids = streams.ids["valid"][: args.trigger_tokens]
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    trained, average, log, note = 0.0, None, [], ""
    for k in range(1, args.evals + 1):
        start = clock()
        while trained + clock() - start < budget * k / args.evals:
            now = trained + clock() - start
            lr = AWD_SGD["lr"] if ntasgd else wordlm.learning_rate(learner.steps, now, run)
            learner.step(lr)
            if average is not None:
                average.update_parameters(model)  # w̄ over the iterates after the trigger
        trained += clock() - start
        if ntasgd and average is None:
            value = math.log(wordlm.evaluate(model, trigger_ids, run, torch.device("cpu")))
            if nonmonotone_trigger(log, value, args.nonmono):
                average = start_average(model)
                note = f"averaging from {trained:.0f} s (evaluation {k}), step {learner.steps}"
            log.append(value)
    if ntasgd and average is None:
        note = f"no trigger in {args.evals} evaluations (n = {args.nonmono}): plain SGD"
    final = average.module if average is not None and int(average.n_averaged) else model
    valid, test = (wordlm.evaluate(final, streams.ids[s], run, torch.device("cpu"))
                   for s in ("valid", "test"))  # fmt: skip
    tokens = learner.steps * args.batch_size * args.seq_len
    row = {"name": name, "optimizer": "NT-ASGD" if ntasgd else "Adam", "steps": learner.steps,
           "epochs": tokens / len(streams.ids["train"]), "valid": valid, "test": test,
           "seconds": trained, "note": note}  # fmt: skip
    print(f"| {name} | {row['optimizer']} | {row['steps']} | {row['epochs']:.2f} | "
          f"{valid:.1f} | {test:.1f} | {note} |", flush=True)  # fmt: skip
    return row


def run_quality(args: argparse.Namespace) -> None:
    """Part 2: every variant on the same data, for the same training time."""
    from bench import wordlm

    data = argparse.Namespace(data=args.data, cased=False, min_freq=args.min_freq,
                              max_vocab=None, max_train_tokens=args.max_train_tokens,
                              max_eval_tokens=args.max_eval_tokens)  # fmt: skip
    streams = wordlm.load_streams(data)
    wordlm.print_data(streams, data)
    print(f"\ntied 2x{args.hidden_size} LSTM LM, {args.minutes:g} min ({args.clock} clock) of "
          f"training each, "
          f"B = {args.batch_size}, T = {args.seq_len}, seed {args.seed}\n")  # fmt: skip
    print("| variant | optimizer | steps | epochs | valid PPL | test PPL | note |")
    print("|---|---|---:|---:|---:|---:|---|")
    for key in args.variants:
        train_variant(key, streams, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", nargs="+", default=SIZES)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    quality = parser.add_argument_group("--quality: the word-level LM in equal training time")
    add = quality.add_argument
    add("--quality", action="store_true", help="run part 2 instead of the speed table")
    add("--variants", nargs="+", choices=list(QUALITY_VARIANTS), default=list(QUALITY_VARIANTS))
    add("--minutes", type=float, default=2.0, help="training time of each variant")
    add("--clock", choices=["wall", "cpu"], default="wall",
        help="what --minutes counts: wall-clock time, or this process's CPU time (steadier on "
             "a shared machine; use with --threads 1)")  # fmt: skip
    add("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
        / "english_corpus")  # fmt: skip
    add("--min-freq", type=int, default=5)
    add("--max-train-tokens", type=int, default=400_000)
    add("--max-eval-tokens", type=int, default=40_000)
    add("--hidden-size", type=int, default=128, help="H = E (tied weights)")
    add("--batch-size", type=int, default=32)
    add("--eval-batch-size", type=int, default=32)
    add("--seq-len", type=int, default=35)
    add("--lr", type=float, default=2e-3, help="peak Adam η (NT-ASGD: SGD at 30)")
    add("--clip-norm", type=float, default=1.0, help="Adam variants (NT-ASGD: 0.25)")
    add("--evals", type=int, default=10, help="NT-ASGD's validations over the budget")
    add("--nonmono", type=int, default=5, help="n of NT-ASGD's trigger")
    add("--trigger-tokens", type=int, default=20_000, help="valid tokens the trigger reads")
    add("--seed", type=int, default=1337)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {load}")
    if args.quality:
        run_quality(args)
        return
    for size in args.sizes:
        run_size(size, args.repeats)


if __name__ == "__main__":
    main()

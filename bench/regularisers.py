"""Time rnnkit.LSTM with each regulariser against the plain rnnkit.LSTM and torch.nn.LSTM.

Usage:
    python bench/regularisers.py [--repeats N] [--threads N] [--sizes 32x100x128x128 ...]

For each size (batch B, steps T, input F, hidden H) every module is built with the same weights
and timed in the same process, interleaved repeat by repeat, keeping the minimum of each (the
least disturbed by other load; the house style of bench/cells.py). A call is one forward pass
in training mode (the masks are drawn) and the backward of output.sum(). "path" is what runs
the time loop (`layer.path` in training): "lstm" the fused sequence with the hand-derived
backward of `rnnkit.layers.fast.fused_lstm` (which runs weight drop, recurrent dropout and
zoneout), "autograd" the cell's own step under autograd (layer_norm).
Ratios are against the plain rnnkit.LSTM and against torch.nn.LSTM (oneDNN on the CPU).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", nargs="+", default=SIZES)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {load}")
    for size in args.sizes:
        run_size(size, args.repeats)


if __name__ == "__main__":
    main()

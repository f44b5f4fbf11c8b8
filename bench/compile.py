"""Time torch.compile(fullgraph=True) of rnnkit.RNN / LSTM / GRU against torch.nn's, and after.

Usage:
    python -m bench.compile [--sizes B,T,F,H ...] [--repeats N]

For each kind and size, in one process: torch._dynamo is reset, the module is compiled with
fullgraph=True, and the first forward+backward (tracing, compilation and one run) is timed;
then the compiled and the eager module each run `--repeats` more forward+backward passes and
the minimum is kept. rnnkit's fast sequences enter the graph as one operator each
(`rnnkit.layers.fast.traceable`), so compile time does not grow with T. torch.nn's layers
cannot be compiled with fullgraph=True (torch 2.13's Dynamo refuses RNN, GRU and LSTM: "Attempted
to wrap RNN, GRU, or LSTM"), so they are compiled without it (the layer runs eagerly between
graph breaks).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

import rnnkit

SIZES = [(32, 100, 128, 128), (64, 200, 256, 256), (16, 50, 512, 512)]  # (B, T, F, H)
KINDS = ["RNN", "LSTM", "GRU"]


def fwd_bwd(module: nn.Module, x: torch.Tensor) -> None:
    outputs, _ = module(x)
    outputs.sum().backward()


def best_of(module: nn.Module, x: torch.Tensor, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fwd_bwd(module, x)
        times.append(time.perf_counter() - start)
    return min(times)


def measure(
    module: nn.Module, x: torch.Tensor, repeats: int, *, fullgraph: bool
) -> tuple[float, float, float]:
    """(compile + first step, compiled step, eager step) in seconds."""
    torch._dynamo.reset()
    compiled = torch.compile(module, fullgraph=fullgraph)
    start = time.perf_counter()
    fwd_bwd(compiled, x)
    first = time.perf_counter() - start
    return first, best_of(compiled, x, repeats), best_of(module, x, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=None, help="B,T,F,H (default: bench sizes)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split(",")) for s in args.sizes] if args.sizes else SIZES
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; times in seconds")
    print("kind  B×T×F×H          | compile+1st: rnnkit  torch | step compiled: rnnkit  torch |"
          " eager: rnnkit  torch")  # fmt: skip
    for B, T, F, H in sizes:
        x = torch.randn(T, B, F)
        for kind in KINDS:
            torch.manual_seed(0)
            reference = getattr(nn, kind)(F, H)
            ours = getattr(rnnkit, kind).from_torch(reference)
            r = measure(ours, x, args.repeats, fullgraph=True)
            t = measure(reference, x, args.repeats, fullgraph=False)  # docstring
            print(f"{kind:5} {B}×{T}×{F}×{H:<8} | {r[0]:17.1f} {t[0]:6.1f} |"
                  f" {r[1]:20.3f} {t[1]:6.3f} | {r[2]:13.3f} {t[2]:6.3f}")  # fmt: skip


if __name__ == "__main__":
    main()

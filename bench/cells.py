"""Time rnnkit.RNN / LSTM / GRU against torch.nn.RNN / LSTM / GRU with identical weights.

Usage:
    python -m bench.cells [--device cpu|cuda] [--dtype float32|bfloat16] [--repeats N] [--quick]
    python -m bench.cells --products [--repeats N]    # the per-step product alone (CPU)

On CUDA the table adds the GPU issue's rows: (256, 100, 1024, 1024), small batches B = 1 and
B = 8, H = 64 (the Triton kernels' range, `rnnkit.layers.fast.triton_common.MAX_HIDDEN`), and
the variants cuDNN cannot run (LSTM with peepholes, with coupled gates, GRU with the reset gate
before the product), each timed against the plain torch.nn layer of its size.

For each layer kind and size (batch B, steps T, input F, hidden H) both modules run in the same
process, interleaved repeat by repeat, and the minimum time of each is kept (the minimum is the
least disturbed by other load on the machine). "fwd" is a forward pass under torch.no_grad();
"fwd+bwd" a forward pass and the backward pass of output.sum(). "stream" feeds B = 1 one step
per call, carrying the state, for 100 steps (the time is per step; fwd+bwd backpropagates
through all 100 calls). Ratios are rnnkit / torch: below 1 rnnkit is faster.

Peak memory of one fwd+bwd: on CUDA, torch.cuda.max_memory_allocated above the memory held
before the call. On CPU, each case runs in a fresh subprocess that builds the module and input,
warms up on a 2-step input, resets the kernel's peak-RSS counter (/proc/self/clear_refs) and
reports how far one fwd+bwd raises the peak resident set size (VmHWM) above the resident set
before it: tensors and library buffers alike, at page granularity. The subprocess runs with
MALLOC_MMAP_THRESHOLD_=65536 so that freed blocks go back to the OS and do not hide later
allocations. Linux only.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

import torch
from torch import nn

import rnnkit
from bench import child_environment

SIZES = [(32, 100, 128, 128), (64, 200, 256, 256), (16, 50, 512, 512)]  # (B, T, F, H)
CUDA_SIZES = [(256, 100, 1024, 1024), (1, 100, 64, 64), (8, 100, 64, 64), (64, 100, 64, 64)]
STREAM = (1, 100, 128, 128)  # one step per call, 100 calls
KINDS = ["RNN", "LSTM", "GRU"]
VARIANTS = {  # rnnkit only: (torch.nn layer of the same size, rnnkit's options)
    "LSTM-peephole": ("LSTM", {"peephole": True}),
    "LSTM-coupled": ("LSTM", {"coupled_gates": True}),
    "GRU-reset-before": ("GRU", {"reset_after": False}),
}


def make_pair(
    kind: str, features: int, hidden: int, device: str, dtype: torch.dtype = torch.float32
) -> tuple[nn.Module, nn.Module]:
    """torch.nn module and the rnnkit layer with the same weights (a variant: same size)."""
    base, options = VARIANTS.get(kind, (kind, {}))
    reference = getattr(nn, base)(features, hidden).to(device, dtype)
    if options:
        return reference, getattr(rnnkit, base)(features, hidden, **options).to(device, dtype)
    return reference, getattr(rnnkit, base).from_torch(reference)


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def step_fn(module: nn.Module, x: torch.Tensor, backward: bool, stream: bool) -> Callable[[], None]:
    """A closure running one measured call (or, streaming, T one-step calls)."""

    def run() -> None:
        if stream:
            state, outputs = None, []
            for x_t in x.split(1):  # (1, 1, F) each: one step
                output, state = module(x_t, state)
                outputs.append(output)
            total = torch.cat(outputs).sum()
        else:
            total = module(x)[0].sum()
        if backward:
            total.backward()

    if backward:
        return run

    def run_no_grad() -> None:
        with torch.no_grad():
            run()

    return run_no_grad


def best_times(fns: list[Callable[[], None]], repeats: int, device: str) -> list[float]:
    """Minimum wall time of each function in seconds, interleaved repeat by repeat."""
    for fn in fns:  # warm-up: kernels, thread pools, allocator
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for index, fn in enumerate(fns):
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def peak_memory_cuda(fn: Callable[[], None]) -> float:
    """Bytes allocated at the peak of fn() above what was allocated before it."""
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return float(torch.cuda.max_memory_allocated() - before)


def _status_kib(field: str) -> int:
    """A field of /proc/self/status in KiB (VmRSS: resident now, VmHWM: peak resident)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def memory_case(spec: str) -> None:
    """Subprocess entry: print how far one fwd+bwd raises the peak resident set size (bytes)."""
    kind, implementation, B, T, F, H, stream = json.loads(spec)
    torch.manual_seed(0)
    reference, ours = make_pair(kind, F, H, "cpu")
    module = reference if implementation == "torch" else ours
    x = torch.randn(T, B, F)
    step_fn(module, x[:2], True, stream)()  # warm-up on 2 steps: kernels, thread pools
    module.zero_grad(set_to_none=False)  # gradient buffers exist before the measurement
    gc.collect()
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
        clear.write("5")  # reset the peak resident set size (VmHWM) to the current one
    before = _status_kib("VmRSS")
    step_fn(module, x, True, stream)()
    print((_status_kib("VmHWM") - before) * 1024)


def peak_memory_cpu(kind: str, implementation: str, size: tuple[int, ...], stream: bool) -> float:
    """Run `memory_case` in a fresh process; large blocks are mmapped so freeing returns them."""
    spec = json.dumps([kind, implementation, *size, stream])
    command = [sys.executable, "-m", "bench.cells", "--memory-case", spec]
    environment = child_environment({**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"})
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
    return float(done.stdout.strip().splitlines()[-1])


def run_case(
    kind: str, size: tuple[int, int, int, int], stream: bool, args: argparse.Namespace
) -> dict:
    B, T, F, H = size
    torch.manual_seed(0)
    dtype = getattr(torch, args.dtype)
    reference, ours = make_pair(kind, F, H, args.device, dtype)
    x = torch.randn(T, B, F, device=args.device, dtype=dtype)
    row: dict = {"kind": kind, "case": "stream" if stream else f"{B}x{T}x{F}x{H}"}
    for label, backward in (("fwd", False), ("fwd+bwd", True)):
        fns = [step_fn(m, x, backward, stream) for m in (reference, ours)]
        torch_time, ours_time = best_times(fns, args.repeats, args.device)
        scale = T if stream else 1  # streaming: per step
        row[label] = (torch_time / scale * 1e3, ours_time / scale * 1e3)
    if args.device == "cuda":
        memory = [peak_memory_cuda(step_fn(m, x, True, stream)) for m in (reference, ours)]
    else:
        memory = [peak_memory_cpu(kind, impl, size, stream) for impl in ("torch", "rnnkit")]
    row["peak MB"] = (memory[0] / 2**20, memory[1] / 2**20)
    return row


def time_products(repeats: int) -> None:
    """Per-step a + h W_hhᵀ (LSTM, 4H rows): torch.addmm against the packed oneDNN product."""
    from rnnkit.layers.fast.recurrent_product import RecurrentProduct, onednn_ready

    print(f"{'B':>4} {'H':>5} | {'addmm us':>9} {'oneDNN us':>9} | used by rnnkit")
    for B, H in [(1, 128), (32, 128), (64, 128), (1, 256), (64, 256), (16, 512), (4, 1024)]:
        weight, hidden = torch.randn(4 * H, H) / H, torch.randn(B, H)
        accumulators = torch.randn(2, B, 4 * H)
        products = [RecurrentProduct(weight, B, onednn) for onednn in (False, True)]
        fns = [lambda p=p, a=a, h=hidden: [p.add_to(a, h) for _ in range(100)]
               for p, a in zip(products, accumulators, strict=True)]  # fmt: skip
        addmm, onednn = (t / 100 * 1e6 for t in best_times(fns, repeats, "cpu"))
        used = "oneDNN" if onednn_ready(weight, B) else "addmm"
        print(f"{B:4d} {H:5d} | {addmm:9.1f} {onednn:9.1f} | {used}")


def print_table(rows: list[dict]) -> None:
    header = f"{'kind':16} {'case':16}"
    for label in ("fwd", "fwd+bwd"):
        header += f" | {label + ' torch ms':>14} {'rnnkit ms':>10} {'ratio':>6}"
    header += f" | {'peak MB torch':>13} {'rnnkit':>8} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for row in rows:
        line = f"{row['kind']:16} {row['case']:16}"
        for label in ("fwd", "fwd+bwd"):
            torch_ms, ours_ms = row[label]
            line += f" | {torch_ms:14.3f} {ours_ms:10.3f} {ours_ms / torch_ms:6.2f}"
        torch_mb, ours_mb = row["peak MB"]
        ratio = ours_mb / torch_mb if torch_mb > 0 else float("nan")
        line += f" | {torch_mb:13.1f} {ours_mb:8.1f} {ratio:6.2f}"
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per module (min)")
    parser.add_argument("--quick", action="store_true", help="smallest size and stream only")
    parser.add_argument(
        "--products", action="store_true", help="only time the per-step product (CPU, oneDNN)"
    )
    parser.add_argument("--memory-case", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_case:
        memory_case(args.memory_case)
        return 0
    if args.products:
        time_products(args.repeats)
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda needs a CUDA build of torch and a GPU")
    sizes = SIZES[:1] if args.quick else SIZES + (CUDA_SIZES if args.device == "cuda" else [])
    repeats = min(args.repeats, 2) if args.quick else args.repeats
    args.repeats = repeats
    print(
        f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
        f"{args.dtype}, min of {repeats} interleaved repeats",
        flush=True,
    )
    rows = []
    for kind in KINDS:
        for size in sizes:
            rows.append(run_case(kind, size, False, args))
        rows.append(run_case(kind, STREAM, True, args))
    if args.device == "cuda" and not args.quick:
        for kind in VARIANTS:
            for size in sizes:
                rows.append(run_case(kind, size, False, args))
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Load test of the web API (`rnnkit serve`) on 127.0.0.1: throughput, latency, errors, memory.

Usage:
    python bench/serve.py [--runs RUN_DIR ...] [--requests 200] [--concurrency 8]
                          [--length 200] [--train-steps 5] [--port 0]
    python bench/serve.py --quick      # a smoke run: a few dozen requests per workload

Without --runs it first trains two runs into a temporary folder, briefly (--train-steps), at
their task's default sizes, since serving speed depends on the sizes and not on how well the
weights were trained: a charlm (2-layer LSTM, H = 256, on the first 50,000 characters of the
embedded corpus) and a sentiment classifier (1-layer LSTM, E = H = 128, on a generated
two-class CSV). With --runs it serves the given run folders and loads the first one offering
"classify" and the first charlm offering "generate".

The app (`rnnkit.web.app.create_app`, default `ServeSettings`) runs under uvicorn in a child
process on 127.0.0.1 only. After 4 warm-up requests, each workload sends a fixed number of
requests (--requests) with at most --concurrency in flight from one `httpx.AsyncClient`:

    classify   POST /api/models/{id}/classify  {"text": <a short review>}
    generate   POST /api/models/{id}/generate  {"length": --length, "seed": i}  (characters)

Printed per workload: requests, concurrency, requests/s over the workload's wall time, p50 and
p99 latency (ms, nearest rank), errors (non-2xx answers or failed connections) and, for
generate, how many answers stopped at the server's time limit. Then the server's peak resident
set size (VmHWM of the child process, Linux /proc). Results depend on the machine and its load;
measured numbers go to bench/README.md with the command that produced them.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

WARM_UP = 4  # requests per workload before timing
REVIEW = "the acting was great and the story really good, a fun film"


@dataclass(frozen=True, kw_only=True)
class Workload:
    """One kind of request, sent `requests` times."""

    name: str
    path: str
    body: dict
    vary_seed: bool = False  # a different "seed" per request (generation)


@dataclass(frozen=True, kw_only=True)
class Result:
    """The outcome of one workload."""

    latencies: list[float]  # seconds, of the answered requests (errors included)
    errors: int
    time_limited: int
    seconds: float  # wall time of the whole workload


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", type=Path, help="run folders to serve")
    parser.add_argument("--requests", type=int, default=200, help="requests per workload")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at most")
    parser.add_argument("--length", type=int, default=200, help="characters per generation")
    parser.add_argument("--train-steps", type=int, default=5, help="steps of the tiny runs")
    parser.add_argument("--port", type=int, default=0, help="server port; 0: a free one")
    parser.add_argument("--quick", action="store_true", help="smoke run: 32 requests")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args(argv)
    if args.quick:
        args.requests = min(args.requests, 32)
    if args.requests < 1 or args.concurrency < 1 or args.length < 1:
        parser.error("--requests, --concurrency and --length must be positive")
    return args


def train_runs(folder: Path, steps: int) -> list[Path]:
    """A charlm and a sentiment run at their default sizes, trained for `steps` steps."""
    from rnnkit import tasks
    from rnnkit.tasks.charlm import CharLMConfig
    from rnnkit.tasks.classify import ClassifyConfig
    from rnnkit.training import TrainerConfig

    trainer = TrainerConfig(max_steps=steps, eval_every=0, checkpoint_every=0, quiet=True,
                            device="cpu", log_every=steps)  # fmt: skip
    charlm = folder / "charlm-bench"
    tasks.train("charlm", CharLMConfig(max_chars=50_000, samples=0), trainer, run_dir=charlm)
    rng = random.Random(0)
    words = {"pos": ["good", "great", "fun"], "neg": ["bad", "dull", "awful"]}
    filler = ["the", "film", "was", "plot", "acting", "and", "very", "a", "story"]
    lines = ["text,label"]
    for i in range(200):
        label = "pos" if i % 2 else "neg"
        text = [*rng.choices(filler, k=rng.randint(3, 12)), rng.choice(words[label])]
        lines.append(f"{' '.join(rng.sample(text, len(text)))},{label}")
    (folder / "reviews.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sentiment = folder / "sentiment-bench"
    config = ClassifyConfig(dataset="csv", folds=5, min_freq=1)
    tasks.train("sentiment", config, trainer, data=folder / "reviews.csv", run_dir=sentiment)
    return [charlm, sentiment]


def serve(run_dirs: list[Path], port: int) -> None:
    """Child mode: serve `run_dirs` on 127.0.0.1:`port` until killed."""
    import uvicorn

    from rnnkit.web.app import create_app

    uvicorn.run(create_app(run_dirs), host="127.0.0.1", port=port, log_level="warning")


def start_server(run_dirs: list[Path], port: int) -> subprocess.Popen:
    command = [
        sys.executable,
        __file__,
        "--serve",
        "--port",
        str(port),
        "--runs",
        *map(str, run_dirs),
    ]
    return subprocess.Popen(command)


def wait_until_ready(url: str, server: subprocess.Popen, timeout: float = 120.0) -> dict:
    """GET /api/models until it answers; return its body."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}")
        try:
            return httpx.get(f"{url}/api/models", timeout=5.0).raise_for_status().json()
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer at {url} within {timeout:.0f} s")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def run_workload(url: str, workload: Workload, requests: int, concurrency: int) -> Result:
    """Send `requests` requests, at most `concurrency` at a time; time each one."""
    latencies: list[float] = []
    failures = {"errors": 0, "time_limited": 0}
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def one(client: httpx.AsyncClient, i: int, timed: bool) -> None:
        body = {**workload.body, "seed": i} if workload.vary_seed else workload.body
        async with gate:
            start = time.perf_counter()
            try:
                response = await client.post(workload.path, json=body)
                ok = response.is_success
                limited = ok and response.json().get("stopped") == "time_limit"
            except httpx.HTTPError:
                ok, limited = False, False
            if timed:
                latencies.append(time.perf_counter() - start)
                failures["errors"] += not ok
                failures["time_limited"] += limited

    async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits) as client:
        await asyncio.gather(*(one(client, i, False) for i in range(WARM_UP)))
        start = time.perf_counter()
        await asyncio.gather(*(one(client, i, True) for i in range(requests)))
        seconds = time.perf_counter() - start
    return Result(latencies=latencies, seconds=seconds, **failures)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-th percentile (q in (0, 100])."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def peak_rss_mb(pid: int) -> float | None:
    """The peak resident set size (VmHWM) of process `pid` in MB, or None off Linux."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def pick_workloads(models: list[dict], length: int) -> list[Workload]:
    """The first classifier and the first charlm of the served models."""
    chosen = []
    classifier = next((m for m in models if "classify" in m["capabilities"]), None)
    if classifier is not None:
        chosen.append(Workload(name="classify", path=f"/api/models/{classifier['id']}/classify",
                               body={"text": REVIEW}))  # fmt: skip
    charlm = next((m for m in models if m["task"] == "charlm"), None)
    if charlm is not None:
        body = {"prime": "", "length": length, "temperature": 1.0}
        path = f"/api/models/{charlm['id']}/generate"
        chosen.append(Workload(name=f"generate {length}", path=path, body=body, vary_seed=True))
    if not chosen:
        raise SystemExit("none of the served runs classifies or is a charlm; pass other --runs")
    return chosen


def report(workload: Workload, result: Result, concurrency: int) -> str:
    ms = [1000 * s for s in result.latencies]
    return (f"{workload.name:<14} {len(ms):>8} {concurrency:>5} {len(ms) / result.seconds:>9.1f} "
            f"{percentile(ms, 50):>8.1f} {percentile(ms, 99):>8.1f} {result.errors:>6} "
            f"{result.time_limited:>8}")  # fmt: skip


def bench(run_dirs: list[Path], args: argparse.Namespace) -> None:
    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(run_dirs, port)
    try:
        models = wait_until_ready(url, server)["models"]
        print(f"serving {', '.join(m['id'] for m in models)} at {url}", flush=True)
        print(f"{'workload':<14} {'requests':>8} {'conc':>5} {'req/s':>9} {'p50 ms':>8} "
              f"{'p99 ms':>8} {'errors':>6} {'time-cut':>8}", flush=True)  # fmt: skip
        for workload in pick_workloads(models, args.length):
            result = asyncio.run(run_workload(url, workload, args.requests, args.concurrency))
            print(report(workload, result, args.concurrency), flush=True)
        peak = peak_rss_mb(server.pid)
        print("server peak RSS: " + ("unknown (no /proc)" if peak is None else f"{peak:.0f} MB"))
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.serve:
        serve(args.runs, args.port)
        return
    if args.runs:
        bench(args.runs, args)
        return
    with tempfile.TemporaryDirectory(prefix="rnnkit-bench-serve-") as folder:
        print(f"training two runs for {args.train_steps} steps in {folder} …", flush=True)
        bench(train_runs(Path(folder), args.train_steps), args)


if __name__ == "__main__":
    main()

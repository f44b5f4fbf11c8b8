"""Load test of the web API (`rnnkit serve`) on 127.0.0.1: throughput, latency, errors, memory.

Usage:
    python -m bench.serve [--runs RUN_DIR ...] [--requests 200] [--concurrency 8]
                          [--length 200] [--train-steps 5] [--port 0]
    python -m bench.serve --quick      # a smoke run: a few dozen requests per workload

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

Two attacks, instead of the workloads (docs/RELIABILITY.md, "The web server"):

    --starve N     N generations of --length 1000 at once while one client asks GET /api/models
                   every 50 ms: the p50 / p99 latency of that cheap request, and how the N
                   generations were answered (200, or 503 over the server's bounds)
    --attack K     K bodies at once of 390,000 unknown keys each ({"k000000": 0, …}, 4.68 MB)
                   to POST …/generate: status, seconds and bytes of each answer, and the latency
                   of GET /api/models sent while they are being answered
    --slow-client  connections that send nothing, or half their headers: how long until the
                   server closes them (`rnnkit.web.server.uvicorn_options`)
    --big-png      `load_image` of a 7000×7000 16-bit grey PNG (generated, ~100 KB): the rise
                   of the peak resident set size and the time (no server)
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

from bench import child_environment

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
    parser.add_argument(
        "--starve",
        type=int,
        default=0,
        metavar="N",
        help="N generations at once; print p99 of GET /api/models meanwhile",
    )
    parser.add_argument(
        "--attack",
        type=int,
        default=0,
        metavar="K",
        help="K bodies of 390,000 unknown keys at once to POST …/generate",
    )
    parser.add_argument("--slow-client", action="store_true", help="time slow-client closes")
    parser.add_argument("--big-png", action="store_true", help="peak memory of a large PNG")
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
    from rnnkit.tasks.charlm.config import CharLMConfig
    from rnnkit.tasks.classify.config import ClassifyConfig
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

    try:
        from rnnkit.web.server import uvicorn_options  # as `rnnkit serve` runs it
    except ImportError:  # rnnkit before issue 22: uvicorn's defaults

        def uvicorn_options() -> dict:
            return {}

    uvicorn.run(create_app(run_dirs), host="127.0.0.1", port=port, log_level="warning",
                **uvicorn_options())  # fmt: skip


def start_server(run_dirs: list[Path], port: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "bench.serve",
        "--serve",
        "--port",
        str(port),
        "--runs",
        *map(str, run_dirs),
    ]
    return subprocess.Popen(command, env=child_environment())


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


async def cheap_latencies(url: str, done: asyncio.Event, every: float = 0.05) -> list[float]:
    """GET /api/models one after another (every `every` s) until `done`: each one's seconds."""
    latencies = []
    async with httpx.AsyncClient(base_url=url, timeout=120.0) as client:
        while not done.is_set():
            start = time.perf_counter()
            await client.get("/api/models")
            latencies.append(time.perf_counter() - start)
            await asyncio.sleep(every)
    return latencies


async def alongside(url: str, heavy: list) -> tuple[list, list[float], float]:
    """Run the coroutines `heavy` at once while timing cheap requests; (their results, the
    cheap latencies, the heavy requests' wall time)."""
    done = asyncio.Event()
    cheap = asyncio.create_task(cheap_latencies(url, done))
    await asyncio.sleep(0.2)  # the heavy requests are in the server before the first is timed
    start = time.perf_counter()
    results = await asyncio.gather(*heavy)
    seconds = time.perf_counter() - start
    done.set()
    return results, await cheap, seconds


async def starve(url: str, path: str, generations: int) -> None:
    """`generations` POST …/generate of 1,000 tokens at once; p50 / p99 of a cheap request."""
    limits = httpx.Limits(max_connections=generations, max_keepalive_connections=generations)
    async with httpx.AsyncClient(base_url=url, timeout=300.0, limits=limits) as client:
        heavy = [client.post(path, json={"length": 1000, "seed": i}) for i in range(generations)]
        answers, cheap, seconds = await alongside(url, heavy)
    statuses = sorted({a.status_code for a in answers})
    counts = ", ".join(f"{sum(a.status_code == s for a in answers)} × {s}" for s in statuses)
    ms = [1000 * s for s in cheap]
    print(f"{generations} generations of 1,000 tokens: {counts} in {seconds:.1f} s; "
          f"GET /api/models meanwhile: {len(ms)} requests, p50 {percentile(ms, 50):.1f} ms, "
          f"p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms", flush=True)  # fmt: skip


def unknown_keys(count: int = 390_000) -> bytes:
    """A JSON object of `count` unknown keys: {"k000000":0,"k000001":0,…} (12 bytes a key)."""
    return ("{" + ",".join(f'"k{i:06d}":0' for i in range(count)) + "}").encode()


async def attack(url: str, path: str, bodies: int) -> None:
    """`bodies` requests of 390,000 unknown keys at once; each answer's status, time, size."""
    body = unknown_keys()
    headers = {"content-type": "application/json"}

    async def one(client: httpx.AsyncClient) -> tuple[int, float, int]:
        start = time.perf_counter()
        response = await client.post(path, content=body, headers=headers)
        return response.status_code, time.perf_counter() - start, len(response.content)

    async with httpx.AsyncClient(base_url=url, timeout=600.0) as client:
        answers, cheap, _ = await alongside(url, [one(client) for _ in range(bodies)])
    for status, took, size in answers:
        print(f"{len(body):,} bytes, 390,000 unknown keys: {status} in {took:.2f} s, "
              f"{size:,} bytes answered", flush=True)  # fmt: skip
    print(f"GET /api/models meanwhile: {len(cheap)} requests, max {1000 * max(cheap):.1f} ms")


def slow_clients(url: str) -> None:
    """Open connections that send nothing or half their headers; time until they are closed."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    half = f"GET /api/models HTTP/1.1\r\nHost: {host}\r\n".encode()
    for what, data in (("nothing", b""), ("half its headers", half)):
        with socket.create_connection((host, int(port)), timeout=60) as sock:
            sock.sendall(data)
            start = time.perf_counter()
            try:
                sock.recv(16)
                print(f"a client sending {what}: closed after {time.perf_counter() - start:.1f} s")
            except TimeoutError:
                print(f"a client sending {what}: still open after 60 s")


def big_png() -> None:
    """The peak memory and time of `load_image` on a 7000×7000 16-bit grey PNG."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.zeros((7000, 7000), dtype=np.uint16)
    pixels[::7] = 40_000  # stripes: it compresses to ~100 KB
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    raw = buffer.getvalue()
    command = [sys.executable, "-c", PNG_PEAK]
    out = subprocess.run(command, input=raw, capture_output=True, check=True).stdout.decode()
    print(f"7000×7000 16-bit grey PNG ({len(raw):,} bytes): {out.strip()}")  # child: no noise


PNG_PEAK = """
import resource, sys, time
from rnnkit.datasets.images import load_image
raw = sys.stdin.buffer.read()
before, start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter()
load_image(raw)
rise = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(f"load_image peak RSS +{rise:.0f} MB in {time.perf_counter() - start:.2f} s")
"""


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
        if args.slow_client:
            slow_clients(url)
            return
        if args.starve or args.attack:
            charlm = next((m["id"] for m in models if m["task"] == "charlm"), None)
            if charlm is None:
                raise SystemExit("--starve and --attack need a charlm among the served runs")
            path = f"/api/models/{charlm}/generate"
            if args.starve:
                asyncio.run(starve(url, path, args.starve))
            if args.attack:
                asyncio.run(attack(url, path, args.attack))
            print(f"server peak RSS: {peak_rss_mb(server.pid) or 0:.0f} MB")
            return
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
    if args.big_png:
        big_png()
        return
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

"""Bounded load test of every endpoint the demo page calls, on 127.0.0.1: rate, latency, errors.

Usage:
    python -m bench.reliability.web_load [--runs RUN_DIR ...] [--requests 100] [--concurrency 8]
                                         [--max-seconds 60] [--length 200] [--train-steps 3]
    python -m bench.reliability.web_load --quick     # 16 requests per workload, 20 s at most

Without --runs it first trains a run of every task into a temporary folder for --train-steps
steps at the task's default model sizes (serving cost depends on the sizes, not on how well the
weights were trained) on small generated data (`make_runs`). The server is `bench/serve.py`'s:
`rnnkit.web.app.create_app` under default `ServeSettings`, in a uvicorn child process on
127.0.0.1. Each workload below sends --requests requests from --concurrency concurrent clients
(one `httpx.AsyncClient`, one connection each) after 2 warm-up requests, and stops sending
once --max-seconds have passed, so a run is bounded in requests and in time:

    page, app.js, style.css, openapi.json, models    GET /, /static/…, /openapi.json, /api/models
    stream            GET  …/generate/stream?length=--length&seed=i    (reads every event)
    classify, tag, translate (beam 5), forecast (horizon 24), caption (a PNG, beam 3)
    inspect (charlm, 100 characters, 32 units), inspect-classifier, gradients (100 characters)

Printed per workload: requests answered, requests/s over its wall time, p50 and p99 latency
(ms, nearest rank), errors (a non-2xx status, a failed connection or a stream that does not
end with `done`) and the mean response size. Then one request at each limit of the default
`ServeSettings` per endpoint (the slowest a single request can be), and the server's peak
resident set size (VmHWM of the child, Linux /proc). Numbers depend on the machine and its load.

References:
    https://www.python-httpx.org/async/
    https://html.spec.whatwg.org/multipage/server-sent-events.html
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import serve  # the server child process and its helpers
from rnnkit.config import make_config
from rnnkit.web.settings import ServeSettings

WARM_UP = 2  # requests per workload before timing
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
GERMAN = ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"]
REVIEW = "the acting was great and the story really good, a fun film"


def _write_data(folder: Path) -> None:
    """Small generated data: reviews.csv, digits/ (en-de), conll/, coco/ and load.csv."""
    from PIL import Image

    from rnnkit.datasets.conll import tagged_corpus, write_conll

    rng = random.Random(0)
    words = ["the", "film", "was", "a", "plot"]
    reviews = [f"{' '.join(rng.choices(words, k=4))} {y} .,{y}" for y in ["good", "bad"] * 40]
    (folder / "reviews.csv").write_text("\n".join(["text,label", *reviews]) + "\n")
    sentence = (["Ron", "met", "Harry", "in", "London"], ["B-PER", "O", "B-PER", "O", "B-LOC"])
    for part in ("digits", "conll", "coco/annotations", "coco/train2017", "coco/val2017"):
        (folder / part).mkdir(parents=True)
    for split in ("train", "valid"):
        pairs = [rng.sample(range(10), rng.randint(2, 6)) for _ in range(64)]
        lines = [" ".join(WORDS[d] for d in p) + "\t" + " ".join(GERMAN[d] for d in p)
                 for p in pairs]  # fmt: skip
        (folder / "digits" / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        write_conll(folder / "conll" / f"{split.replace('valid', 'dev')}.conll",
                    tagged_corpus([sentence] * 16))  # fmt: skip
    for split in ("train", "val"):
        names = {"red": (220, 30, 30), "blue": (30, 40, 220)}
        for name, rgb in names.items():
            Image.new("RGB", (32, 32), rgb).save(folder / f"coco/{split}2017/{name}.png")
        images = [{"id": i, "file_name": f"{name}.png"} for i, name in enumerate(names)]
        said = [{"image_id": i, "caption": f"a {name} square ."} for i, name in enumerate(names)]
        captions = {"images": images, "annotations": said}
        (folder / f"coco/annotations/captions_{split}2017.json").write_text(json.dumps(captions))
    rows = [f"d{t},{10 + 0.2 * t + 3 * math.sin(2 * math.pi * t / 6):.4f}" for t in range(120)]
    (folder / "load.csv").write_text("day,load\n" + "\n".join(rows) + "\n")


def make_runs(folder: Path, *, tiny: bool = False, steps: int = 2) -> list[Path]:
    """A run of every task the page serves, trained `steps` steps at the tasks' default model
    sizes, or (`tiny`) at a few units each; the charlm first."""
    from rnnkit import tasks
    from rnnkit.tasks.caption import CaptionConfig
    from rnnkit.tasks.charlm import CharLMConfig
    from rnnkit.tasks.classify import ClassifyConfig
    from rnnkit.tasks.condlm import CondLMConfig
    from rnnkit.tasks.forecast import ForecastConfig
    from rnnkit.tasks.ner import NerConfig
    from rnnkit.tasks.translate.config import TranslateConfig
    from rnnkit.training import TrainerConfig

    _write_data(folder)
    small = {"embed_dim": 8, "hidden_size": 8} if tiny else {}
    make = make_config  # model fields flat (hidden_size=8), as a config file may give them
    plans = [  # (task, config, data)
        ("charlm", make(CharLMConfig, max_chars=20_000, samples=0, seq_len=16, **small), None),
        ("sentiment", make(ClassifyConfig, dataset="csv", folds=4, min_freq=1, **small),
         "reviews.csv"),
        ("condlm", make(CondLMConfig, dataset="csv", min_freq=1, batch_size=16, **small),
         "reviews.csv"),
        ("ner", make(NerConfig, corpus="custom", batch_size=8, **small), "conll"),
        ("translate", make(TranslateConfig, corpus="custom", min_freq=1, **small), "digits"),
        ("caption", make(CaptionConfig, corpus="coco", min_freq=1, batch_size=2,
                         **({"image_size": 16, "cnn_width": 4, **small} if tiny else {})),
         "coco"),
        ("forecast", make(ForecastConfig, series="csv", value_column="load", season=6,
                          batch_size=8, **({"hidden_size": 4} if tiny else {})), "load.csv"),
    ]  # fmt: skip
    trainer = TrainerConfig(max_steps=steps, eval_every=0, checkpoint_every=0, log_every=steps,
                            quiet=True, device="cpu")  # fmt: skip
    for task, config, data in plans:
        tasks.train(task, config, trainer, data=data and folder / data, run_dir=folder / task)
    return [folder / task for task, _, _ in plans]


@dataclass(frozen=True, kw_only=True)
class Workload:
    """One kind of request the page sends; `stream` reads server-sent events to the end."""

    name: str
    path: str
    method: str = "GET"
    json: dict | None = None
    params: dict | None = None
    image: bytes | None = None  # a multipart upload, with `form` beside it
    form: dict | None = None
    stream: bool = False


@dataclass(frozen=True, kw_only=True)
class Result:
    latencies: list[float]  # seconds, one per timed request (errors included)
    errors: Counter  # what failed (a status, "no done event", a connection error) -> how often
    seconds: float  # wall time of the timed requests
    bytes: int  # response bytes, all timed requests


async def send(client: httpx.AsyncClient, workload: Workload, i: int) -> tuple[str, int]:
    """One request (seed i for a stream): ("ok" or what failed, response bytes)."""
    if workload.stream:
        async with client.stream("GET", workload.path, params={**workload.params, "seed": i}) as r:
            text = "".join([chunk async for chunk in r.aiter_text()])
        if not r.is_success:
            return str(r.status_code), len(text.encode())
        ended = text.rstrip().rsplit("\n\n", 1)[-1].startswith("event: done")
        return "ok" if ended else "no done event", len(text.encode())
    files = {"image": ("red.png", workload.image, "image/png")} if workload.image else None
    response = await client.request(workload.method, workload.path, json=workload.json,
                                    files=files, data=workload.form)  # fmt: skip
    return "ok" if response.is_success else str(response.status_code), len(response.content)


async def run_workload(url: str, workload: Workload, args: argparse.Namespace) -> Result:
    """`args.requests` requests from `args.concurrency` clients, no new one after max-seconds."""
    latencies: list[float] = []
    tally, errors = {"bytes": 0, "next": 0}, Counter()
    limits = httpx.Limits(max_connections=args.concurrency)

    async def client_loop(client: httpx.AsyncClient, deadline: float) -> None:
        while tally["next"] < args.requests and time.perf_counter() < deadline:
            i, tally["next"] = tally["next"], tally["next"] + 1
            start = time.perf_counter()
            try:
                outcome, size = await send(client, workload, i)
            except httpx.HTTPError as err:
                outcome, size = type(err).__name__, 0
            latencies.append(time.perf_counter() - start)
            errors[outcome] += outcome != "ok"
            tally["bytes"] += size

    async with httpx.AsyncClient(base_url=url, timeout=120.0, limits=limits) as client:
        for i in range(WARM_UP):
            await send(client, workload, 10_000 + i)
        start = time.perf_counter()
        deadline = start + args.max_seconds
        await asyncio.gather(*(client_loop(client, deadline) for _ in range(args.concurrency)))
        seconds = time.perf_counter() - start
    return Result(latencies=latencies, errors=+errors, seconds=seconds, bytes=tally["bytes"])


def workloads(models: list[dict], length: int) -> list[Workload]:
    """The page's requests, for the first served model offering each capability."""
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (48, 40), (200, 30, 30)).save(png, "PNG")  # a red 48 × 40 image

    def first(capability: str, task: str | None = None) -> str | None:
        found = [m["id"] for m in models
                 if capability in m["capabilities"] and task in (None, m["task"])]  # fmt: skip
        return f"/api/models/{found[0]}" if found else None

    chosen = [Workload(name=name, path=path) for name, path in (
        ("page", "/"), ("app.js", "/static/app.js"), ("style.css", "/static/style.css"),
        ("openapi.json", "/openapi.json"), ("models", "/api/models"))]  # fmt: skip
    text = (REVIEW + " ") * 2
    plans = [
        ("stream", first("generate", "charlm"), {"stream": True, "path_suffix": "/generate/stream",
         "params": {"prime": "", "length": length, "temperature": 1.0}}),
        ("classify", first("classify"), {"json": {"text": REVIEW}}),
        ("tag", first("tag"), {"json": {"text": "Harry met Ron in London yesterday"}}),
        ("translate", first("translate"), {"json": {"text": "three one four", "beam": 5}}),
        ("caption", first("caption"), {"image": png.getvalue(), "form": {"beam": "3"}}),
        ("forecast", first("forecast"), {"json": {"horizon": 24}}),
        ("inspect", first("inspect", "charlm"), {"json": {"text": text[:100], "units": 32}}),
        ("inspect-classifier", first("classify") and first("inspect", "sentiment"),
         {"json": {"text": REVIEW, "units": 32}, "path_suffix": "/inspect"}),
        ("gradients", first("gradients"), {"json": {"text": text[:100]}}),
    ]  # fmt: skip
    for name, base, options in plans:
        if base is None:
            continue
        suffix = options.pop("path_suffix", "/" + name.split("-")[0])
        method = "GET" if options.get("stream") else "POST"
        chosen.append(Workload(name=name, path=base + suffix, method=method, **options))
    return chosen


def at_the_limits(chosen: list[Workload]) -> list[Workload]:
    """One request per model endpoint at the default ServeSettings' limits."""
    long_text = " ".join(random.Random(1).choices(WORDS, k=1000))[:2000]  # 2000 characters
    inspect_text = long_text[: ServeSettings().max_inspect_chars]
    bigger = {"stream": {"params": {"prime": long_text, "length": 1000, "temperature": 1.0}},
              "classify": {"json": {"text": long_text}}, "tag": {"json": {"text": long_text}},
              "translate": {"json": {"text": " ".join(WORDS * 20), "beam": 10}},  # 200 words: most
              "forecast": {"json": {"horizon": 500, "history": [t % 24.0 for t in range(10_000)]}},
              "inspect": {"json": {"text": inspect_text, "units": 64}},
              "inspect-classifier": {"json": {"text": inspect_text, "units": 64}},
              "gradients": {"json": {"text": long_text}},
              "caption": {"form": {"beam": "10"}}}  # fmt: skip
    return [Workload(**{**w.__dict__, **bigger[w.name]}) for w in chosen if w.name in bigger]


def row(name: str, result: Result, concurrency: int) -> str:
    ms = [1000 * s for s in result.latencies] or [math.nan]
    rate = len(result.latencies) / result.seconds if result.seconds else math.nan
    size = result.bytes / max(len(result.latencies), 1) / 1024
    failed = f"  {dict(result.errors)}" if result.errors else ""  # what failed, how often
    return (f"{name:<19} {len(result.latencies):>5} {concurrency:>4} {rate:>8.1f} "
            f"{serve.percentile(ms, 50):>9.1f} {serve.percentile(ms, 99):>9.1f} "
            f"{result.errors.total():>6} {size:>9.1f}{failed}")  # fmt: skip


def bench(run_dirs: list[Path], args: argparse.Namespace) -> int:
    port = args.port or serve.free_port()
    url = f"http://127.0.0.1:{port}"
    server = serve.start_server(run_dirs, port)
    errors = Counter()
    header = (f"{'workload':<19} {'reqs':>5} {'conc':>4} {'req/s':>8} {'p50 ms':>9} "
              f"{'p99 ms':>9} {'errors':>6} {'KB/resp':>9}")  # fmt: skip
    try:
        models = serve.wait_until_ready(url, server)["models"]
        print(f"serving {', '.join(m['id'] for m in models)} at {url}", flush=True)
        print(header, flush=True)
        chosen = workloads(models, args.length)
        for workload in chosen:
            result = asyncio.run(run_workload(url, workload, args))
            errors.update(result.errors)
            print(row(workload.name, result, args.concurrency), flush=True)
        print(f"\none request at the limits (max text, tokens, beam, horizon, units)\n{header}")
        single = argparse.Namespace(**{**vars(args), "requests": 1, "concurrency": 1})
        for workload in at_the_limits(chosen):
            result = asyncio.run(run_workload(url, workload, single))
            errors.update(result.errors)
            print(row(workload.name, result, 1), flush=True)
        peak = serve.peak_rss_mb(server.pid)
        print("server peak RSS: " + ("unknown (no /proc)" if peak is None else f"{peak:.0f} MB"))
        print(f"errors: {errors.total()} {dict(errors) or ''}".rstrip())
    finally:
        server.terminate()
        server.wait(timeout=30)
    return errors.total()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", type=Path, help="run folders to serve")
    parser.add_argument("--requests", type=int, default=100, help="requests per workload")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="per workload")
    parser.add_argument("--length", type=int, default=200, help="tokens per streamed text")
    parser.add_argument("--train-steps", type=int, default=3, help="steps of the runs trained")
    parser.add_argument("--port", type=int, default=0, help="server port; 0: a free one")
    parser.add_argument("--quick", action="store_true", help="16 requests, 20 s per workload")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.max_seconds = min(args.requests, 16), min(args.max_seconds, 20.0)
    if min(args.requests, args.concurrency, args.length, args.train_steps) < 1:
        parser.error("--requests, --concurrency, --length and --train-steps must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.runs:
        return 1 if bench(args.runs, args) else 0
    with tempfile.TemporaryDirectory(prefix="rnnkit-web-load-") as folder:
        print(f"training every task for {args.train_steps} steps in {folder} …", flush=True)
        started = time.perf_counter()
        runs = make_runs(Path(folder), steps=args.train_steps)
        print(f"trained in {time.perf_counter() - started:.0f} s", flush=True)
        return 1 if bench(runs, args) else 0


if __name__ == "__main__":
    sys.exit(main())

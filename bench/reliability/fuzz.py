"""Coverage-guided fuzzing of rnnkit's file readers and loaders with atheris (libFuzzer).

Usage:
    python -m bench.reliability.fuzz --target vocab --runs 5000 [--seed 1] [--out artifacts/fuzz]
    python -m bench.reliability.fuzz --target all --runs 2000     # every target, one process
    python -m bench.reliability.fuzz --target coco --replay artifacts/fuzz/coco/crash-….bin
    python -m bench.reliability.fuzz --list

Each target (bench/reliability/harnesses.py) writes the fuzzed bytes to a file and calls one
reader or loader; only the target's documented rnnkit error may come out. With several
targets, the first byte of each input picks one, so a single process (and a single torch
import) fuzzes them all. libFuzzer starts from the valid seed files of fuzz_seeds.py and
fuzz_checkpoints.py, mutates them, and keeps the inputs that reach new rnnkit lines (only
rnnkit's modules are instrumented). Any other exception is a crash: it is counted once per
(type, place), its input saved as OUT/<target>/crash-<sha1>.bin with the traceback beside it,
and fuzzing goes on. After N runs a table of runs, loaded and refused inputs and crashes per
target is printed; the exit status is 1 if anything crashed. An input that runs longer than
--timeout seconds or a process over --rss-limit-mb is stopped by libFuzzer itself, which saves
the input under OUT/ (timeout-…, oom-…) and exits non-zero.

References:
    https://github.com/google/atheris
    https://llvm.org/docs/LibFuzzer.html#options
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--target", action="append", default=[], help="a name, or 'all'")
    parser.add_argument("--runs", type=int, default=2000, help="inputs to run in total")
    parser.add_argument("--seed", type=int, default=1, help="libFuzzer's random seed")
    parser.add_argument("--out", type=Path, default=Path("artifacts/fuzz"))
    parser.add_argument("--timeout", type=int, default=20, help="seconds per input")
    parser.add_argument("--rss-limit-mb", type=int, default=3072)
    parser.add_argument("--replay", type=Path, help="run the target on this file, no fuzzing")
    parser.add_argument("--list", action="store_true", help="print the target names")
    return parser.parse_args(argv)


class Campaign:
    """Counts per target, crash records, and the libFuzzer callback."""

    def __init__(self, names: list[str], runs: int, out: Path, run_one: object) -> None:
        self.names, self.runs, self.out, self.run_one = names, runs, out, run_one
        self.scratch = Path(tempfile.mkdtemp(prefix="rnnkit-fuzz-scratch-"))
        self.counts: dict[str, Counter[str]] = {name: Counter() for name in names}
        self.crashes: dict[tuple[str, str, str], Path] = {}
        self.total = 0
        self.started = time.perf_counter()

    def pick(self, data: bytes) -> tuple[str, bytes]:
        """The target of an input and its own bytes (first byte dropped with several targets)."""
        if len(self.names) == 1:
            return self.names[0], data
        return self.names[data[0] % len(self.names) if data else 0], data[1:]

    def __call__(self, data: bytes) -> None:
        name, body = self.pick(data)
        try:
            loaded = self.run_one(name, body, self.scratch)  # type: ignore[operator]
            self.counts[name]["loaded" if loaded else "refused"] += 1
        except Exception as err:  # anything but the documented error is a crash
            self.counts[name]["crashes"] += 1
            self._record(name, body, err)
        self.counts[name]["runs"] += 1
        self.total += 1
        if self.total >= self.runs:
            os._exit(self.report())  # libFuzzer would run on; its exit skips nothing of ours

    def _record(self, name: str, data: bytes, err: Exception) -> None:
        frames = traceback.extract_tb(err.__traceback__)
        inner = [f for f in frames if "rnnkit" in f.filename] or frames
        place = f"{Path(inner[-1].filename).name}:{inner[-1].lineno}"
        key = (name, type(err).__name__, place)
        if key in self.crashes:
            return
        folder = self.out / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{hashlib.sha1(data).hexdigest()[:12]}.bin"
        path.write_bytes(data)
        text = "".join(traceback.format_exception(err))
        path.with_suffix(".txt").write_text(text, encoding="utf-8")
        self.crashes[key] = path
        print(
            f"CRASH {name}: {type(err).__name__} at {place}: {str(err)[:160]!r} -> {path}",
            flush=True,
        )

    def report(self) -> int:
        """Print the per-target table and the crashes; 1 if anything crashed, else 0."""
        seconds = time.perf_counter() - self.started
        print(f"\n{'target':<22}{'runs':>8}{'loaded':>8}{'refused':>9}{'crashes':>9}")
        for name, count in self.counts.items():
            print(
                f"{name:<22}{count['runs']:>8}{count['loaded']:>8}{count['refused']:>9}"
                f"{count['crashes']:>9}"
            )
        print(f"total {self.total} runs in {seconds:.1f} s; {len(self.crashes)} distinct crashes")
        for (name, kind, place), path in self.crashes.items():
            print(f"  {name}: {kind} at {place}  input {path}")
        sys.stdout.flush()
        shutil.rmtree(self.scratch, ignore_errors=True)
        return 1 if self.crashes else 0


def _write_corpus(folder: Path, names: list[str], targets: dict, run_one: object) -> int:
    """Write every seed (target byte first when several targets); each target needs one that loads.

    A seed that crashes is reported like any crash, by the fuzzer's first pass over the corpus.
    """
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    scratch = Path(tempfile.mkdtemp(prefix="rnnkit-fuzz-seeds-"))
    longest = 0
    for index, name in enumerate(names):
        found, loaded = targets[name].seeds(), False
        for seed in found:
            try:
                loaded = run_one(name, seed, scratch) or loaded  # type: ignore[operator]
            except Exception:  # the fuzzer's first pass over the corpus records the crash
                continue
        if not loaded:
            raise SystemExit(f"no seed of {name} loads; fix its seeds")
        for seed in found:
            data = seed if len(names) == 1 else bytes([index]) + seed
            (folder / f"seed-{hashlib.sha1(data).hexdigest()[:12]}").write_bytes(data)
            longest = max(longest, len(data))
    shutil.rmtree(scratch, ignore_errors=True)
    return longest


def main(argv: list[str] | None = None) -> int:
    """Fuzz (or replay on) the chosen targets; the exit status says whether anything crashed."""
    args = _parse(argv)
    import atheris  # after argument parsing, so --help works without it

    with atheris.instrument_imports(include=["rnnkit"]):
        from bench.reliability.harnesses import TARGETS, run_one
    if args.list:
        print("\n".join(TARGETS))
        return 0
    names = list(TARGETS) if args.target in ([], ["all"]) else args.target
    unknown = sorted(set(names) - set(TARGETS))
    if unknown:
        raise SystemExit(f"unknown target(s) {unknown}; known: {', '.join(TARGETS)}")
    if args.replay is not None:
        loaded = run_one(names[0], args.replay.read_bytes(), Path(tempfile.mkdtemp()))
        print(f"{names[0]}: {'loaded' if loaded else 'refused with the documented error'}")
        return 0
    label = names[0] if len(names) == 1 else "all" if names == list(TARGETS) else "+".join(names)
    corpus = args.out / "corpus" / label
    longest = _write_corpus(corpus, names, TARGETS, run_one)
    campaign = Campaign(names, args.runs, args.out, run_one)
    print(f"fuzzing {', '.join(names)}: {args.runs} runs, seed {args.seed}", flush=True)
    (args.out / label).mkdir(parents=True, exist_ok=True)
    flags = [
        f"-seed={args.seed}",
        f"-max_len={max(4096, 2 * longest)}",
        f"-timeout={args.timeout}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        f"-artifact_prefix={args.out / label}{os.sep}",
        str(corpus),
    ]
    atheris.Setup([sys.argv[0], *flags], campaign)
    atheris.Fuzz()  # returns never: the campaign exits after --runs inputs
    return 2


if __name__ == "__main__":
    sys.exit(main())

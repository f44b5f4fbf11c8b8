"""Start-up time of the command line: wall time of `rnnkit … --help` in a fresh interpreter.

Usage:
    python -m bench.startup [--runs 11] [--python PATH]

Each command runs as `PYTHON -m rnnkit ARGS` (what the `rnnkit` console script runs: it imports
`rnnkit` and calls `rnnkit.cli.main`) in a subprocess with its output discarded, and the wall
time from start to exit is measured with `time.perf_counter`. The commands take turns, one run
each per round, so that a burst of load from other jobs on the machine hits every command alike;
after one unmeasured warm-up round (it fills the OS file cache) each command runs --runs times.
Printed per command: the median, the fastest and the slowest run, side by side, and beside them
`python -c pass` (the interpreter's own start) and `import torch` (what a verb that trains costs
on top). Times depend on the machine and its load; measured numbers go to bench/README.md with
the command that produced them.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS: tuple[tuple[str, list[str]], ...] = (
    ("python -c pass", ["-c", "pass"]),
    ("python -c 'import torch'", ["-c", "import torch"]),
    ("python -c 'import rnnkit'", ["-c", "import rnnkit"]),
    ("rnnkit --help", ["-m", "rnnkit", "--help"]),
    ("rnnkit --version", ["-m", "rnnkit", "--version"]),
    ("rnnkit train --help", ["-m", "rnnkit", "train", "--help"]),
    ("rnnkit train charlm --help", ["-m", "rnnkit", "train", "charlm", "--help"]),
    ("rnnkit generate --help", ["-m", "rnnkit", "generate", "--help"]),
    ("rnnkit word2vec train --help", ["-m", "rnnkit", "word2vec", "train", "--help"]),
    ("rnnkit analyze tasks --help", ["-m", "rnnkit", "analyze", "tasks", "--help"]),
)


def wall_time(python: str, args: list[str]) -> float:
    """Seconds from starting `python ARGS` to its exit; a failing command stops the bench."""
    start = time.perf_counter()
    done = subprocess.run([python, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{python} {' '.join(args)} exited {done.returncode}: "
                         f"{done.stderr.decode(errors='replace')[-500:]}")  # fmt: skip
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="measured runs per command")
    parser.add_argument("--python", default=sys.executable, help="interpreter with rnnkit")
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name, _ in COMMANDS}
    for round_number in range(args.runs + 1):
        for name, command in COMMANDS:
            seconds = wall_time(args.python, command)
            if round_number > 0:  # round 0 warms the file cache
                times[name].append(seconds)
    width = max(len(name) for name in times)
    print(f"{'command':<{width}}  median s   min s   max s   (runs: {args.runs})")
    for name, values in times.items():
        row = f"{statistics.median(values):8.3f} {min(values):7.3f} {max(values):7.3f}"
        print(f"{name:<{width}}  {row}")


if __name__ == "__main__":
    main()

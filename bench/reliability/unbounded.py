"""Issue 22's unbounded inputs, measured: each case's exit status, wall time and peak memory.

Every case runs `python -m rnnkit …` in a subprocess and reads its own rusage (os.wait4), so
the figures are the command's alone. A case passes when it ends as the table in
docs/RELIABILITY.md says: one `error:` line and status 2, or the run it asked for; a closed
pipe 141 and Ctrl-C 130, with nothing on stderr.

    python -m bench.reliability.unbounded [--sparse-gib 1.5] [--timeout 300]

Run it against older code with PYTHONPATH=OLD/src to see what each case did before.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TINY = ["--max-chars", "4000", "--hidden-size", "16", "--embed-dim", "8", "--num-layers", "1",
        "--batch-size", "4", "--seq-len", "16", "--max-steps", "2", "--quiet"]  # fmt: skip
LIMIT = 8 << 30  # address space of each command: a regression fails instead of swapping


def _limit() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run(args: list[str], cwd: Path, *, close_after: int = 0, interrupt_after: int = 0,
        timeout: float = 300) -> dict:  # fmt: skip
    """Run `rnnkit ARGS`; optionally close its stdout or send SIGINT after N bytes of output."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "rnnkit", *args], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=_limit)  # fmt: skip
    assert process.stdout is not None
    assert process.stderr is not None
    out = b""
    if close_after or interrupt_after:
        out = process.stdout.read(close_after or interrupt_after)
        if close_after:
            process.stdout.close()
        else:
            process.send_signal(signal.SIGINT)
    deadline = start + timeout
    while True:  # os.wait4 reaps the child and gives its own peak memory
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.05)
    code = process.returncode = os.waitstatus_to_exitcode(status)
    err = process.stderr.read().decode(errors="replace")
    if not process.stdout.closed:
        out += process.stdout.read()
    output = (out.decode(errors="replace") + err)[-300:]
    return {"status": code, "seconds": round(time.perf_counter() - start, 1),
            "peak_mib": round(usage.ru_maxrss / 1024), "output": output}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sparse-gib", type=float, default=1.5)
    parser.add_argument("--timeout", type=float, default=300, help="seconds a case may run")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.mkfifo(root / "fifo")
        sparse = root / "huge.txt"
        sparse.write_bytes(b"To be, or not to be: that is the question.\n" * 500)
        os.truncate(sparse, int(options.sparse_gib * 2**30))
        rows = "good film,pos\nbad film,neg\n" * 20
        (root / "bom.csv").write_text("\ufefftext,label\n" + rows, encoding="utf-8")
        long_text = "word " * 40_000
        (root / "long.csv").write_text(f'text,label\n"{long_text}",pos\n' + rows, encoding="utf-8")
        run(["train", "charlm", *TINY, "--run-dir", "tiny"], root)
        edited = root / "edited"
        run(["train", "charlm", *TINY, "--run-dir", "edited"], root)
        config = json.loads((edited / "config.json").read_text())
        config["task_config"]["hidden_size"] = 10**9
        (edited / "config.json").write_text(json.dumps(config))
        (root / "vectors").mkdir()
        tiny, gib = " ".join(TINY), options.sparse_gib
        cases = {  # name: (the arguments of rnnkit, how the output is read)
            "--data /dev/zero": ("train charlm --data /dev/zero --run-dir a", {}),
            "--data FIFO": ("train charlm --data fifo --run-dir b", {}),
            f"--data sparse {gib} GiB --max-chars 10000":
                (f"train charlm --data huge.txt {tiny} --max-chars 10000 --run-dir c", {}),
            f"--data sparse {gib} GiB (no --max-chars)":
                (f"train charlm --data huge.txt {tiny} --max-chars none --run-dir d", {}),
            "--hidden-size 1000000000":
                (f"train charlm {tiny} --hidden-size 1000000000 --run-dir e", {}),
            "--num-layers 100000 (H = 256)":
                (f"train charlm {tiny} --hidden-size 256 --num-layers 100000 --run-dir f", {}),
            "generate, config.json hidden_size 1e9": ("generate edited", {}),
            "--seed 2**64": (f"train charlm --seed {2**64} --run-dir g", {}),
            "sentiment, CSV with a BOM":
                ("train sentiment --data bom.csv --max-steps 1 --quiet --run-dir h", {}),
            "sentiment, a 200,000-character CSV field":
                ("train sentiment --data long.csv --max-steps 1 --quiet --run-dir i", {}),
            "generate --length 1e8 | head -c 200":
                ("generate tiny --length 100000000", {"close_after": 200}),
            "generate --length 1e8, Ctrl-C":
                ("generate tiny --length 100000000", {"interrupt_after": 200}),
        }  # fmt: skip
        print("| case | status | s | peak MiB | output (end) |\n|---|---|---|---|---|")
        for name, (args, how) in cases.items():
            result = run(args.split(), root, timeout=options.timeout, **how)
            last = " ".join(result["output"].strip().splitlines()[-1:])[:150].replace("|", "/")
            print(f"| {name} | {result['status']} | {result['seconds']} | {result['peak_mib']} "
                  f"| {last} |", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

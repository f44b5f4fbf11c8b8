"""Distributed kill campaign (issue 22): SIGKILL one process of a two-process torchrun charlm run.

A trial starts `torchrun --standalone --nproc-per-node 2 -m rnnkit train charlm …` on CPU
(gloo; the tiny charlm of `kill_resume.py`, a checkpoint every 3 steps, each process's output
in its own file under torchrun's `--log-dir`) and SIGKILLs one worker, not the torchrun agent:
rank 0 or 1 at random, either after a random train step plus U(0, 20 ms) or the moment rank 0
starts writing a checkpoint (a `.tmp-step-*` folder appears). `--stopped N` adds N trials that
SIGSTOP the worker instead: a peer that is silent with its sockets open, as a hung process or
a lost machine, which only the collective timeout T ends. A trial then measures:

- the seconds from the signal until the surviving worker has exited, and until torchrun has;
  the survivor must exit within BOUND_S (T = RNNKIT_COLLECTIVE_TIMEOUT, set to TIMEOUT_S
  here, plus 10 s) and print no traceback; it ends with status 2 after its one `error: process
  R of 2 stopped: …` line, or by torchrun's SIGTERM (-15), which torchrun sends to the other
  workers once one has failed and which may land while the survivor is exiting after that
  line, or with 0 when it had finished the run;
- that every checkpoint on disk loads and none seen complete before the kill is gone
  (`kill_resume._lost`), and that the run lock was released (`flock` it);
- that `torchrun … -m rnnkit resume RUN_DIR` trains on to max-steps: a train row for every
  step and a loadable checkpoint at the last (a run killed before its first checkpoint is
  trained again into its folder, counted as restarted).

Exact resume is promised for one CPU process only (`rnnkit.training.distributed`), so the
resumed losses are compared with an unbroken two-process run for information, not as a pass.

Run: `python -m bench.reliability.distributed_kill --trials 16 --stopped 4` (`--quick`: 3 + 1).
References: issue 22; `bench/reliability/kill_resume.py` (the single-process campaign).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.reliability.kill_resume import ENV, _charlm, _losses, _lost, _steps_on_disk
from rnnkit.training import CheckpointManager, read_checkpoint
from rnnkit.training.distributed import TIMEOUT_ENV
from rnnkit.training.run_guard import LOCK_FILE

EVERY = 3  # steps between checkpoints
TIMEOUT_S = 20  # T: the longest a collective waits for a silent peer in these runs
BOUND_S = TIMEOUT_S + 10.0  # the survivor must have exited this long after the kill
COMMON = ["--eval-every", "0", "--log-every", "1", "--quiet", "--device", "cpu", "--seed", "3"]
RUN_ENV = {**ENV, TIMEOUT_ENV: str(TIMEOUT_S)}


@dataclass(kw_only=True)
class Trial:
    """What one trial saw; `failures` empty when it passed."""

    seed: int
    rank: int  # the rank killed
    moment: str  # "step N + d s" or "write after step N"
    signal: str = "KILL"  # or "STOP"
    survivor_s: float = float("nan")  # kill -> the surviving worker has exited
    torchrun_s: float = float("nan")  # kill -> torchrun has exited
    survivor_status: int | None = None
    survivor_line: str = ""  # its `error: process R of 2 stopped: …` line, if it printed one
    during_write: bool = False
    restarted: bool = False
    equal_losses: bool = False  # resumed rows equal the unbroken run's (not promised for W > 1)
    failures: list[str] = field(default_factory=list)


def torchrun(*args: str, log_dir: Path | None = None) -> list[str]:
    """`python -m torch.distributed.run --standalone --nproc-per-node 2 -m rnnkit ARGS`."""
    logs = ["--log-dir", str(log_dir), "--redirects", "3"] if log_dir is not None else []
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
            "2", *logs, "-m", "rnnkit", *args]  # fmt: skip


def train_command(steps: int, run_dir: Path) -> list[str]:
    """The charlm train arguments (after `rnnkit`) of every run of the campaign."""
    return ["train", *_charlm(run_dir.parent), *COMMON, "--max-steps", str(steps),
            "--checkpoint-every", str(EVERY), "--run-dir", str(run_dir)]  # fmt: skip


def workers(agent: int) -> dict[int, int]:
    """{rank: pid} of the torchrun agent's worker processes (their RANK variable), from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != agent:
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):  # gone meanwhile
            continue
        rank = [v[5:] for v in environ if v.startswith(b"RANK=")]
        if rank:
            found[int(rank[0])] = int(entry.name)
    return found


def exited(pid: int) -> bool:
    """Whether `pid` has ended (gone, or a zombie its parent has not reaped yet)."""
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) in "ZX"
    except (OSError, IndexError):
        return True


def train_rows(run_dir: Path) -> int:
    """Train rows in metrics.jsonl so far (a cheap count, for polling)."""
    try:
        return (run_dir / "metrics.jsonl").read_text(encoding="utf-8").count('"kind": "train"')
    except OSError:
        return 0


def lock_released(run_dir: Path) -> bool:
    """Whether nobody holds the run's flock any more (a killed or stopped writer must not)."""
    path = run_dir / LOCK_FILE
    if not path.exists():
        return True
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
    return True


def survivor_output(log_dir: Path, rank: int) -> str:
    """stdout and stderr of local rank `rank`, as torchrun's --redirects wrote them."""
    files = sorted(log_dir.glob(f"**/attempt_0/{rank}/std*.log"))
    return "".join(path.read_text(encoding="utf-8", errors="replace") for path in files)


def _kill(
    trial: Trial, agent: subprocess.Popen, run_dir: Path, steps: int, rng: random.Random
) -> tuple[int | None, set[int], float]:
    """Wait for the trial's moment and send SIGKILL (or SIGSTOP) to rank `trial.rank`.

    Returns the survivor's pid (None when the run ended first), the checkpoint steps seen
    complete before the kill, and the moment of the kill (time.monotonic).
    """
    at_write, target, delay = rng.random() < 0.5, rng.randint(1, steps - 1), rng.uniform(0, 0.02)
    trial.moment = f"write after step {target}" if at_write else f"step {target} + {delay:.3f} s"
    root, seen, deadline = run_dir / "checkpoints", set(), time.monotonic() + 300
    while agent.poll() is None and time.monotonic() < deadline:
        seen |= _steps_on_disk(root)
        if train_rows(run_dir) >= target and (not at_write or any(root.glob(".tmp-step-*"))):
            if not at_write:
                time.sleep(delay)
            pids = workers(agent.pid)
            if len(pids) == 2:
                seen |= _steps_on_disk(root)
                os.kill(pids[trial.rank], getattr(signal, f"SIG{trial.signal}"))
                return pids[1 - trial.rank], seen, time.monotonic()
        time.sleep(0.0005 if at_write else 0.002)
    return None, seen, time.monotonic()


def run_trial(
    seed: int, steps: int, scratch: Path, reference: list | None, kind: str = "KILL"
) -> Trial:
    """One trial (see the module docstring) in `scratch/trial-SEED`; `kind` KILL or STOP."""
    rng = random.Random(seed)
    trial = Trial(seed=seed, rank=rng.randrange(2), moment="", signal=kind)
    run_dir, log_dir = scratch / f"trial-{seed}", scratch / f"logs-{seed}"
    agent = subprocess.Popen(
        torchrun(*train_command(steps, run_dir), log_dir=log_dir), env=RUN_ENV,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    survivor, seen, killed_at = _kill(trial, agent, run_dir, steps, rng)
    if survivor is None:
        agent.kill()
        agent.communicate()
        trial.failures.append(f"never killed (torchrun exit {agent.returncode})")
        return trial
    while not exited(survivor) and time.monotonic() - killed_at < 600:
        time.sleep(0.005)
    trial.survivor_s = time.monotonic() - killed_at
    agent_output, _ = agent.communicate(timeout=600)
    trial.torchrun_s = time.monotonic() - killed_at
    status = re.search(rf"exitcode\s*:\s*(-?\d+) \(pid: {survivor}\)", agent_output)
    trial.survivor_status = int(status.group(1)) if status else 0  # torchrun lists failures only
    output = survivor_output(log_dir, 1 - trial.rank)
    expected = f"error: process {1 - trial.rank} of 2 stopped: another process of the run"
    lines = [line for line in output.splitlines() if line.startswith(expected)]
    trial.survivor_line = lines[-1] if lines else ""
    _check_exit(trial, output)
    trial.during_write = any((run_dir / "checkpoints").glob(".tmp-step-*"))
    lost = _lost(run_dir, seen)
    if lost:
        trial.failures.append(f"lost: {lost}")
    if not lock_released(run_dir):
        trial.failures.append("the run lock is still held")
    _resume(trial, run_dir, steps, reference)
    return trial


def _check_exit(trial: Trial, output: str) -> None:
    """The survivor ended in time, without a traceback, by its own error line or torchrun's
    SIGTERM (sent to every other worker once one fails; it may land after that line, while
    the survivor is exiting) or by finishing the run."""
    if trial.survivor_s > BOUND_S:
        trial.failures.append(f"the survivor took {trial.survivor_s:.1f} s (bound {BOUND_S} s)")
    if "Traceback" in output:
        trial.failures.append("the survivor printed a traceback")
    if trial.survivor_status not in (2, -signal.SIGTERM, 0):
        trial.failures.append(f"survivor exit {trial.survivor_status}")
    if trial.survivor_status == 2 and not trial.survivor_line:
        trial.failures.append("the survivor exited with 2 and no error line")


def _resume(trial: Trial, run_dir: Path, steps: int, reference: list | None) -> None:
    """`torchrun … rnnkit resume RUN_DIR` (or train again without a checkpoint) to the end."""
    manager = CheckpointManager(run_dir / "checkpoints")
    if manager.latest() is None:
        trial.restarted = True
        command = torchrun(*train_command(steps, run_dir))
    else:
        command = torchrun("resume", str(run_dir), "--quiet")
    done = subprocess.run(command, env=RUN_ENV, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        trial.failures.append(
            f"resume exit {done.returncode}: {done.stdout[-300:]}\n{done.stderr[-1500:]}"
        )
        return
    rows = _losses(run_dir)
    latest = manager.latest()
    if [step for step, _ in rows] != list(range(1, steps + 1)):
        trial.failures.append(f"resumed rows are steps {[s for s, _ in rows]}")
    if latest is None or latest.name != f"step-{steps:08d}":
        trial.failures.append(f"the last checkpoint is {latest}, not step {steps}")
    else:
        read_checkpoint(latest)
    trial.equal_losses = reference is not None and rows == reference


def campaign(
    trials: int, seed: int, steps: int, scratch: Path, *, stopped: int = 0, compare: bool = True
) -> list[Trial]:
    """An unbroken reference run (when `compare`), then `trials` SIGKILL trials and `stopped`
    SIGSTOP trials, one after another."""
    reference = None
    if compare:
        reference_dir = scratch / "reference"
        done = subprocess.run(torchrun(*train_command(steps, reference_dir)), env=RUN_ENV,
                              capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"the reference run failed:\n{done.stdout[-2000:]}")
        reference = _losses(reference_dir)
    results = []
    for k in range(trials + stopped):
        kind = "KILL" if k < trials else "STOP"
        results.append(run_trial(seed * 1000 + k, steps, scratch, reference, kind))
        print(_row(results[-1]), flush=True)
    return results


def _row(t: Trial) -> str:
    verdict = "ok" if not t.failures else "FAIL: " + "; ".join(t.failures)
    return (f"| {t.seed} | SIG{t.signal} | {t.rank} | {t.moment} | {t.survivor_s:.2f} | "
            f"{t.torchrun_s:.2f} | "
            f"{t.survivor_status} | {'yes' if t.survivor_line else 'no'} | "
            f"{'yes' if t.during_write else 'no'} | "
            f"{'restarted' if t.restarted else 'resumed'} | "
            f"{'yes' if t.equal_losses else 'no'} | {verdict} |")  # fmt: skip


def table(results: list[Trial]) -> str:
    """The trials as a Markdown table, then the totals."""
    lines = ["| seed | signal | to rank | moment | survivor exit s | torchrun exit s | survivor "
             "status | its error line | during a write | then | losses = unbroken | result |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    lines += [_row(t) for t in results]
    lines.append("\n" + totals([t for t in results if t.signal == "KILL"], "SIGKILL"))
    if any(t.signal == "STOP" for t in results):
        lines.append(totals([t for t in results if t.signal == "STOP"], "SIGSTOP"))
    return "\n".join(lines)


def totals(results: list[Trial], name: str) -> str:
    """One line of counts and survivor exit times over `results`."""
    if not results:
        return f"{name}: no trials"
    times = sorted(t.survivor_s for t in results)
    failed = sum(bool(t.failures) for t in results)
    return (
        f"{name}: {len(results)} trials, {failed} failed; to rank 0: "
        f"{sum(t.rank == 0 for t in results)}, survivor's error line: "
        f"{sum(bool(t.survivor_line) for t in results)}, during a write: "
        f"{sum(t.during_write for t in results)}, restarted: {sum(t.restarted for t in results)}"
        f"; survivor exit median {times[len(times) // 2]:.2f} s, max {times[-1]:.2f} s "
        f"(bound {BOUND_S:.0f} s); checkpoints lost: "
        f"{sum(any(f.startswith('lost') for f in t.failures) for t in results)}; resumed "
        f"losses equal to the unbroken run: {sum(t.equal_losses for t in results)}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the campaign, print the table; exit 1 when a trial failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16, help="SIGKILL trials")
    parser.add_argument("--stopped", type=int, default=0, help="SIGSTOP trials after them")
    parser.add_argument("--seed", type=int, default=0, help="seed of the killed ranks and moments")
    parser.add_argument("--steps", type=int, default=18, help="train steps of every run")
    parser.add_argument("--quick", action="store_true", help="3 + 1 trials of 9 steps")
    args = parser.parse_args(argv)
    trials, stopped, steps = (3, 1, 9) if args.quick else (args.trials, args.stopped, args.steps)
    with tempfile.TemporaryDirectory(prefix="distributed-kill-") as scratch:
        results = campaign(trials, args.seed, steps, Path(scratch), stopped=stopped)
    print(table(results))
    return 1 if any(t.failures for t in results) else 0


if __name__ == "__main__":
    sys.exit(main())

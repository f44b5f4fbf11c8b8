"""Disk and file faults campaign (issue 14): `rnnkit` commands on full, read-only, damaged disks.

Each trial runs `rnnkit train charlm …`, `rnnkit resume RUN`, `rnnkit generate RUN`,
`rnnkit eval RUN` or `rnnkit serve RUN` (its model loading; its run_server is stubbed) in a
subprocess against one fault, and passes when (1) the command ends with exit status 2 and
exactly one `error:` line naming the path at fault (and, for disk faults, the cause) with no
traceback, or succeeds where that is the right behaviour: a deleted `checkpoints/` directory or
`latest` pointer is recreated at the next save; a read-only run still generates, evaluates and
serves; a missing `latest` falls back to the newest complete checkpoint; generate and serve,
which read only the weights, ignore a damaged training state; serve reads `best`, not `latest`.
A deleted run directory is an error, not recreated. (2) Every checkpoint file that existed
before the fault is byte-identical afterwards (sha256, mid-run checkpoints fingerprinted as
they appear) and every such checkpoint still loads; (3) no `.tmp-*` debris is left.

Full disks are small tmpfs mounts (`size=`, `nr_inodes=`) and read-only runs a tmpfs remounted
`ro` mid-run or a read-only bind mount. Without permission to mount, full disks use
RLIMIT_FSIZE with SIGXFSZ ignored (writes past the limit fail with EFBIG) and read-only runs
chmod 0555; the table names the method that ran.

Run: `python -m bench.reliability.disk_faults` (`--quick`: damages under resume only;
`--cases full-disk,read-only`: those case groups; `--rlimit`: the fallbacks even as root).
References: issue 14; bench/reliability/kill_resume.py; tests/reliability/test_disk_faults.py.
Helpers: disk_fault_checks.py (running and judging commands, mounts), disk_fault_damage.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.reliability.disk_fault_checks import (
    COMMANDS,
    Watched,
    can_mount,
    clear_error,
    file_size_limit,
    fingerprint,
    intact,
    latest_loads,
    pages,
    remount,
    remove,
    run_cli,
    succeeded,
    tmpfs,
    train_argv,
)
from bench.reliability.disk_fault_damage import DAMAGES, Trials, damage_trial, other_task

# Defects the campaign found, by case group; each now has a regression test.
FIXED = {
    "full-disk": "ENOSPC/EDQUOT on metrics.jsonl, config.json, plots: traceback",
    "read-only": "EROFS at resume: traceback; .metrics.jsonl.tmp-PID, .latest.tmp-PID "
    "never removed",
    "deleted": "run dir deleted: half a run recreated, exit 0; checkpoints/ deleted while "
    "writing: run stopped",
    "damaged-checkpoint": "state.json of wrong types with a valid digest: accepted or "
    "blamed on optimizer.safetensors",
    "damaged-pointer": "latest not UTF-8: traceback; latest deleted or a directory: "
    "'holds no checkpoint'; a damaged latest also broke serve's 'best'",
    "damaged-run-files": "config.json section a list, metrics.jsonl row a list: traceback",
    "other-task": "",
}


@dataclass(kw_only=True)
class Tally:
    """Trials of one case group."""

    tried: int = 0
    passed: int = 0
    failures: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- mid-run cases
# Each returns a list of (trial name, problem); an empty problem is a pass.


def full_disk(work: Path, ref: Path, mount: bool) -> Trials:
    """A checkpoint, config.json, metrics.jsonl, plots, or the inodes run out."""
    if not mount:
        return full_disk_rlimit(work)
    trials: Trials = []
    checkpoint = pages(ref / "checkpoints" / "step-00000003", "*")
    with tmpfs(work / "fd-ckpt", f"size={2 * checkpoint + 48 * 1024}") as mnt:
        watched = Watched(train_argv(mnt / "run", 30), mnt / "run")
        status, output = watched.finish()
        problem = clear_error(status, output, str(mnt / "run"), "No space left on device")
        problem = problem or ("" if watched.seen else "no checkpoint fitted before the fault")
        trials.append(("checkpoint on a full tmpfs", problem or intact(watched.seen, mnt / "run")))
        remount(mnt, "size=16m")  # space freed: the run resumes from its last checkpoint
        status, output = run_cli(["resume", str(mnt / "run")])
        trials.append(("resume after space freed", succeeded(status, output)))
    with tmpfs(work / "fd-metrics", f"size={pages(ref, 'config.json') + 8192}") as mnt:
        argv = [*train_argv(mnt / "run", 400), "--checkpoint-every", "1000", "--eval-every", "0"]
        status, output = run_cli(argv)
        trials.append(
            (
                "metrics.jsonl fills the tmpfs",
                clear_error(status, output, "metrics.jsonl", "No space left on device"),
            )
        )
    with tmpfs(work / "fd-config", "size=4k") as mnt:
        (mnt / "filler").write_bytes(b"\0" * 4096)
        status, output = run_cli(train_argv(mnt / "run", 6))
        trials.append(
            (
                "config.json on a full tmpfs",
                clear_error(status, output, "config.json", "No space left on device"),
            )
        )
        status, output = run_cli(["plot", str(ref), "--out", str(mnt / "plots")])
        trials.append(
            (
                "plots on a full tmpfs",
                clear_error(status, output, str(mnt / "plots"), "No space left"),
            )
        )
    with tmpfs(work / "fd-inodes", "size=16m,nr_inodes=14") as mnt:
        watched = Watched(train_argv(mnt / "run", 30), mnt / "run")
        status, output = watched.finish()
        problem = clear_error(status, output, str(mnt / "run"), "No space left on device")
        problem = problem or ("" if watched.seen else "no checkpoint fitted before the fault")
        trials.append(("inodes run out", problem or intact(watched.seen, mnt / "run")))
    return trials


def full_disk_rlimit(work: Path) -> Trials:
    """Fallback without mount: files may not grow past a size (EFBIG)."""
    trials: Trials = []
    run = work / "fd-rlimit-ckpt"
    status, output = run_cli(train_argv(run, 12), preexec=file_size_limit(30_000))
    trials.append(("state.json past RLIMIT_FSIZE",
                   clear_error(status, output, str(run), "File too large")))  # fmt: skip
    run = work / "fd-rlimit-metrics"
    argv = [*train_argv(run, 400), "--checkpoint-every", "1000", "--eval-every", "0"]
    status, output = run_cli(argv, preexec=file_size_limit(20_000))
    trials.append(("metrics.jsonl past RLIMIT_FSIZE",
                   clear_error(status, output, "metrics.jsonl", "File too large")))  # fmt: skip
    return trials


def read_only(work: Path, ref: Path, mount: bool) -> Trials:
    """The run directory becomes read-only mid-run; a read-only run is used and resumed.

    Not tried as root without mount: root writes through chmod 0555 (the CI test injects EROFS).
    """
    if not mount and os.geteuid() == 0:
        print("read-only: not tried (root ignores chmod and mount is refused)", file=sys.stderr)
        return []
    trials: Trials = []
    run = work / "ro-copy"
    shutil.copytree(ref, run)
    before = fingerprint(run)
    with contextlib.ExitStack() as stack:
        if mount:
            subprocess.run(["mount", "--bind", "-o", "ro", str(run), str(run)], check=True)
            stack.callback(subprocess.run, ["umount", str(run)], check=False)
        else:
            subprocess.run(["chmod", "-R", "a-w", str(run)], check=True)
            stack.callback(subprocess.run, ["chmod", "-R", "u+w", str(run)], check=False)
        for name in ("generate", "eval", "serve"):
            status, output = run_cli(COMMANDS[name](run))
            trials.append((f"{name} on a read-only run", succeeded(status, output)))
        status, output = run_cli(COMMANDS["resume"](run))
        cause = "Read-only file system" if mount else "Permission denied"
        trials.append(("resume on a read-only run", clear_error(status, output, str(run), cause)))
    trials.append(("read-only run unchanged", intact(before, run)))
    if mount:
        trials += read_only_mid_run(work)
    return trials


def read_only_mid_run(work: Path) -> Trials:
    """The tmpfs of a run remounted ro mid-run: a clear error; once writable again, the run
    resumes and its next save removes what the read-only disk kept it from cleaning."""
    with tmpfs(work / "ro-mid", "size=16m") as mnt:
        run = mnt / "run"
        watched = Watched(train_argv(run, 400), run)
        problem = "" if watched.until(run / "checkpoints/step-00000006") else "too late"
        remount(mnt, "ro")
        status, output = watched.finish()
        problem = problem or clear_error(status, output, str(mnt), "Read-only file system")
        trials = [("tmpfs remounted ro mid-run", problem or intact(watched.seen, run, debris=True))]
        remount(mnt, "rw")
        status, output = run_cli(["resume", str(run), "--max-steps", "420"])
        left = [p.name for p in run.rglob("*") if ".tmp-" in p.name]
        problem = succeeded(status, output) or latest_loads(run) or (f"left: {left}" * bool(left))
        trials.append(("resumed once writable, debris cleaned", problem))  # older ones pruned
    return trials


def deleted(work: Path, ref: Path, mount: bool) -> Trials:
    """checkpoints/, the run directory, or the `latest` pointer deleted mid-run."""
    trials: Trials = []
    for label, target in (("checkpoints/", "checkpoints"), ("latest", "checkpoints/latest"),
                          ("the run directory", "")):  # fmt: skip
        run = work / f"del-{target.replace('/', '-') or 'run'}"
        watched = Watched(train_argv(run, 120), run)
        problem = "" if watched.until(run / "checkpoints/step-00000006") else "too late"
        remove(run / target)
        status, output = watched.finish()
        if target:  # the next save recreates the directory or pointer; the run completes
            problem = problem or succeeded(status, output) or latest_loads(run)
        else:  # nothing to write into: stop with an error rather than recreate a partial run
            problem = problem or clear_error(status, output, str(run), "No such file")
        trials.append((f"{label} deleted mid-run", problem))
    return trials


def damaged(group: str, work: Path, ref: Path, quick: bool, jobs: int) -> Trials:
    """Every damage of `group` under every command (`--quick`: resume only), `jobs` at a time."""
    commands = ["resume"] if quick else list(COMMANDS)
    plan = [
        (f"{name}, {c}", damage, c) for name, damage in DAMAGES[group].items() for c in commands
    ]

    def one(index: int) -> tuple[str, str]:
        label, damage, command = plan[index]
        return label, damage_trial(ref, work / f"{group}-{index}", damage, command)

    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, range(len(plan))))


GROUPS = ("full-disk", "read-only", "deleted", "damaged-checkpoint", "damaged-pointer",
          "damaged-run-files", "other-task")  # fmt: skip


def campaign(groups: list[str], work: Path, *, quick: bool, rlimit: bool, jobs: int
             ) -> tuple[dict[str, Tally], str]:  # fmt: skip
    """Run the case groups; their tallies and the method used for full and read-only disks."""
    ref = work / "reference"
    status, output = run_cli(train_argv(ref, 12))
    if status != 0:
        raise SystemExit(f"the reference run failed: {output}")
    mount = not rlimit and can_mount(work / "mnt")
    method = "tmpfs size=/nr_inodes=, ro remount + ro bind" if mount else (
        "RLIMIT_FSIZE (EFBIG), chmod 0555")  # fmt: skip
    tallies: dict[str, Tally] = {}
    for group in groups:
        if group == "other-task":
            trials = other_task(work, ref, quick)
        elif group.startswith("damaged"):
            trials = damaged(group, work, ref, quick, jobs)
        else:
            trials = {"full-disk": full_disk, "read-only": read_only, "deleted": deleted}[group](
                work, ref, mount
            )
        tally = tallies.setdefault(group, Tally())
        for label, problem in trials:
            tally.tried += 1
            tally.passed += not problem
            print(f"{group}: {label}: {problem or 'passed'}", file=sys.stderr, flush=True)
            if problem:
                tally.failures.append(f"{label}: {problem}")
    return tallies, method


def table(tallies: dict[str, Tally], method: str) -> str:
    """case | tried | passed | found-and-fixed, a total line, the full-disk method, failures."""
    rows = ["| case | tried | passed | found-and-fixed |", "|---|---|---|---|"]
    for group, tally in tallies.items():
        rows.append(f"| {group} | {tally.tried} | {tally.passed} | {FIXED.get(group, '')} |")
    tried = sum(t.tried for t in tallies.values())
    passed = sum(t.passed for t in tallies.values())
    rows += [f"| total | {tried} | {passed} | |", "", f"full disk / read-only method: {method}"]
    rows += [f"FAILED {group}: {line}" for group, t in tallies.items() for line in t.failures]
    return "\n".join(rows)


def main() -> int:
    """Parse the options, run the campaign in a temporary directory, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="resume only; fewer trials")
    parser.add_argument("--cases", default=",".join(GROUPS), help=f"of {', '.join(GROUPS)}")
    parser.add_argument("--rlimit", action="store_true", help="use the non-root fallbacks")
    parser.add_argument("--jobs", type=int, default=2, help="damage trials run at once")
    args = parser.parse_args()
    groups = [group for group in args.cases.split(",") if group]
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {', '.join(GROUPS)}")
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="disk-faults-") as work:
        tallies, method = campaign(
            groups, Path(work), quick=args.quick, rlimit=args.rlimit, jobs=args.jobs
        )
    print(table(tallies, method))
    print(f"{time.monotonic() - start:.0f} s")
    return 0 if all(t.tried == t.passed for t in tallies.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())

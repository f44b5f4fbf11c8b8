"""Numerics campaign (issue 14): extreme learning rates, exploding sequences, NaN/inf in the data.

Each case runs `rnnkit train …` or `rnnkit word2vec train …` in a subprocess on a tiny
configuration and checks what a user should see:

    "stop"      exit status 2, one `error:` line containing the expected words, no traceback
    "train"     exit status 0 (the run was sound, or the user switched the guard off)

and, in both, that nothing written is corrupt: every checkpoint on disk loads, passes its
sha256 checks and holds only finite tensors. The learning-rate grid covers SGD and Adam at
η ∈ {1e3, 1e10, 1e30, 1e38} on the character LM and η = 1e30 on the other Trainer tasks; the
config cases pass nan and inf as numbers of the trainer's config (before, `--lr nan` was a
torch traceback and `--clip-norm nan` trained on); the data cases put NaN, ±inf and
float32-overflowing values into a series and a feature file.
The exploding cases train an Elman RNN over T = 200 steps at η = 3: with ReLU its activations
blow up in the forward pass (loss ≈ 1e22 at update 12, gradient norms below 1 until then), which
gradient clipping cannot prevent; with tanh, the activations stay bounded and it trains.

Run: `python -m bench.reliability.numerics` (`--quick`: one case of each kind, `--cases a,b`).
References: issue 14; Pascanu, Mikolov & Bengio 2013 (exploding gradients, clipping).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnnkit.errors import RnnkitError
from rnnkit.training import CheckpointManager, read_checkpoint

ENV = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
COMMON = ["--max-steps", "24", "--checkpoint-every", "4", "--eval-every", "0", "--log-every",
          "4", "--quiet", "--device", "cpu", "--seed", "3"]  # fmt: skip
CHARLM = ["charlm", "--max-chars", "20000", "--batch-size", "4", "--seq-len", "16",
          "--embed-dim", "8", "--hidden-size", "16", "--num-layers", "1",
          "--samples", "0"]  # fmt: skip
EXPLODING = ["charlm", "--max-chars", "20000", "--batch-size", "4", "--seq-len", "200",
             "--embed-dim", "8", "--hidden-size", "32", "--num-layers", "1", "--samples", "0",
             "--cell", "rnn", "--nonlinearity", "relu", "--optimizer", "sgd", "--momentum",
             "0", "--lr", "3"]  # fmt: skip


def _task_args() -> dict[str, Callable[[Path], list[str]]]:
    """The tiny task configurations of the kill-and-resume campaign (kill_resume.TASKS)."""
    from bench.reliability.kill_resume import TASKS

    return TASKS


@dataclass(frozen=True, kw_only=True)
class Case:
    """One numerics case: the `rnnkit` arguments (built in a scratch folder) and the outcome."""

    name: str
    kind: str  # "learning rate", "config", "exploding", "data"
    args: Callable[[Path], list[str]]
    expect: str  # "stop" or "train"
    words: str = ""  # what the error line must contain for "stop"


def _lr(task: str, optimizer: str, lr: str, *extra: str) -> Callable[[Path], list[str]]:
    def args(scratch: Path) -> list[str]:
        base = CHARLM if task == "charlm" else _task_args()[task](scratch)
        return ["train", *base, *COMMON, "--optimizer", optimizer, "--lr", lr, *extra]

    return args


def _series(cells: list[str], *, amplitude: float = 3.0) -> Callable[[Path], list[str]]:
    def args(scratch: Path) -> list[str]:
        values = [f"{10 + amplitude * math.sin(t / 2):.3f}" for t in range(72)]
        for position, cell in enumerate(cells):
            values[20 + 7 * position] = cell
        text = "date,load\n" + "".join(f"d{t},{v}\n" for t, v in enumerate(values))
        (scratch / "load.csv").write_text(text, encoding="utf-8")
        return ["train", "forecast", "--data", str(scratch / "load.csv"), "--value-column",
                "load", "--window", "12", "--horizon", "6", "--hidden-size", "8",
                "--batch-size", "8", *COMMON]  # fmt: skip

    return args


def _features(value: float) -> Callable[[Path], list[str]]:
    def args(scratch: Path) -> list[str]:
        base = _task_args()["caption"](scratch)
        names = sorted({p.name for p in scratch.glob("*2017/*.png")})
        features = np.ones((len(names), 16), dtype=np.float64)
        features[len(names) // 2, 3] = value
        np.save(scratch / "features.npy", features)
        (scratch / "features.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
        return ["train", *base, "--features", str(scratch / "features.npy"), *COMMON]

    return args


def _word2vec(*extra: str) -> Callable[[Path], list[str]]:
    def args(scratch: Path) -> list[str]:
        rng = np.random.default_rng(0)
        words = ["cat", "dog", "tiger", "wolf", "the", "a", "runs", "sleeps", "big", "small"]
        lines = [" ".join(rng.choice(words, size=12)) for _ in range(2000)]
        (scratch / "corpus.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return ["word2vec", "train", str(scratch / "corpus.txt"), "--run-dir",
                str(scratch / "run"), "--quiet", "--vector-size", "16", "--epochs", "3",
                "--min-count", "1", "--threads", "1", "--checkpoint-every", "0",
                *extra]  # fmt: skip

    return args


def _cases() -> list[Case]:
    diverged = "training diverged"
    cases = [
        Case(name=f"charlm {opt} lr {lr}", kind="learning rate", args=_lr("charlm", opt, lr),
             expect="stop", words=diverged)
        for opt in ("sgd", "adam") for lr in ("1e3", "1e10", "1e30", "1e38")
    ]  # fmt: skip
    cases += [
        Case(name=f"{task} adam lr 1e30", kind="learning rate", expect="stop", words=diverged,
             args=_lr(task, "adam", "1e30"))
        for task in ("sentiment", "ner", "forecast", "translate", "caption")
    ]  # fmt: skip
    cases += [
        Case(name="charlm sgd lr 1e30, skip", kind="learning rate", expect="stop",
             words="after skipping 10 updates", args=_lr("charlm", "sgd", "1e30",
                                                         "--on-nonfinite", "skip")),
        Case(name="charlm sgd lr 1e30, guard off", kind="learning rate", expect="train",
             args=_lr("charlm", "sgd", "1e30", "--divergence-ratio", "none")),
        Case(name="charlm adam lr 1e-3 (sound)", kind="learning rate", expect="train",
             args=_lr("charlm", "adam", "1e-3")),
        Case(name="word2vec alpha 1e30", kind="learning rate", expect="stop",
             words="word2vec loss became nan", args=_word2vec("--alpha", "1e30")),
        Case(name="word2vec alpha 0.025 (sound)", kind="learning rate", expect="train",
             args=_word2vec()),
        Case(name="word2vec --ns-exponent nan", kind="config", expect="stop",
             words="ns_exponent must be a finite number", args=_word2vec("--ns-exponent", "nan")),
        *[Case(name=f"charlm {flag} {value}", kind="config", expect="stop",
               words="must be a finite number", args=_lr("charlm", "adam", "1e-3", flag, value))
          for flag, value in (("--lr", "nan"), ("--lr", "inf"), ("--clip-norm", "nan"),
                              ("--weight-decay", "inf"), ("--divergence-ratio", "nan"))],
        Case(name="ReLU RNN, T=200, no clipping", kind="exploding", expect="stop", words=diverged,
             args=lambda s: ["train", *EXPLODING, *COMMON, "--clip-norm", "none"]),
        Case(name="ReLU RNN, T=200, no clipping, skip", kind="exploding", expect="stop",
             words="after skipping", args=lambda s: ["train", *EXPLODING, *COMMON, "--clip-norm",
                                                     "none", "--on-nonfinite", "skip"]),
        Case(name="ReLU RNN, T=200, clip-norm 1", kind="exploding", expect="stop", words=diverged,
             args=lambda s: ["train", *EXPLODING, *COMMON, "--clip-norm", "1"]),
        Case(name="tanh RNN, T=200, clip-norm 1", kind="exploding", expect="train",
             args=lambda s: ["train", *EXPLODING, *COMMON, "--clip-norm", "1",
                             "--nonlinearity", "tanh"]),
        Case(name="series with inf", kind="data", expect="stop", words="not a finite number",
             args=_series(["inf"])),
        Case(name="series with 1e999", kind="data", expect="stop", words="not a finite number",
             args=_series(["1e999"])),
        Case(name="series with NaN", kind="data", expect="stop", words="missing value 'NaN'",
             args=_series(["NaN"])),
        Case(name="series with 1e300 (over float32)", kind="data", expect="stop",
             words="beyond the float32 range", args=_series(["1e300"])),
        Case(name="series constant", kind="data", expect="stop", words="cannot be forecast",
             args=_series([], amplitude=0.0)),
        Case(name="features with NaN", kind="data", expect="stop", words="holds NaN or inf",
             args=_features(math.nan)),
        Case(name="features with inf", kind="data", expect="stop", words="holds NaN or inf",
             args=_features(math.inf)),
        Case(name="features with 1e300 (over float32)", kind="data", expect="stop",
             words="float32", args=_features(1e300)),
    ]  # fmt: skip
    return cases


def _checkpoints_sound(root: Path) -> str:
    """Why a checkpoint under `root` is unsound (does not load, or holds nan/inf), or ""."""
    for checkpoints in root.rglob("checkpoints"):
        manager = CheckpointManager(checkpoints)
        try:
            manager.latest()
            for path in manager.checkpoints():
                for name, tensors in read_checkpoint(path).tensors.items():
                    for key, tensor in tensors.items():
                        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                            return f"{path.name}/{name}: {key} holds nan or inf"
        except RnnkitError as err:
            return f"does not load: {err}"
    return ""


def run_case(case: Case, scratch: Path) -> tuple[bool, str]:
    """Run one case; (passed, what happened)."""
    args = case.args(scratch)
    if args[0] == "train" and "--run-dir" not in args:
        args = [*args, "--run-dir", str(scratch / "run")]
    done = subprocess.run(
        [sys.executable, "-m", "rnnkit", *args], env=ENV, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    output = " ".join((done.stdout + done.stderr).split())
    unsound = _checkpoints_sound(scratch)
    error = output[output.find("error:") :][:300] if "error:" in output else ""
    if "Traceback" in output:
        return False, f"traceback (exit {done.returncode}): {output[-300:]}"
    if unsound:
        return False, f"exit {done.returncode}; a checkpoint is unsound: {unsound}"
    if case.expect == "stop":
        passed = done.returncode == 2 and case.words in error
        return passed, error or f"exit {done.returncode} without an error line"
    return done.returncode == 0, error or f"exit {done.returncode}, trained"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="the first case of each kind")
    parser.add_argument("--cases", default="", help="comma-separated substrings of case names")
    args = parser.parse_args(argv)
    cases = _cases()
    if args.quick:
        kinds: set[str] = set()
        cases = [c for c in cases if not (c.kind in kinds or kinds.add(c.kind))]
    if args.cases:
        wanted = [part.strip() for part in args.cases.split(",")]
        cases = [c for c in cases if any(w in c.name for w in wanted)]
    started, failed = time.perf_counter(), 0
    print("| case | kind | expected | passed | what happened |\n|---|---|---|---|---|")
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="rnnkit-numerics-") as scratch:
            passed, what = run_case(case, Path(scratch))
        failed += not passed
        print(f"| {case.name} | {case.kind} | {case.expect} | {'yes' if passed else 'NO'} "
              f"| {what.replace('|', '/')} |", flush=True)  # fmt: skip
    print(f"\n{len(cases)} cases, {len(cases) - failed} passed, "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

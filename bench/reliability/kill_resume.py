"""Kill-and-resume campaign (issue 14): SIGKILL `rnnkit train` at random moments, resume, compare.

Per task: one unbroken reference run, then N trials. A trial starts `rnnkit train TASK …` with
tiny sizes and a checkpoint every few steps, and SIGKILLs it either after a random train step
plus a random delay, or the moment a `.tmp-step-*` checkpoint directory appears (a kill during
a checkpoint write). It then checks that every checkpoint directory on disk loads and that no
checkpoint seen complete before the kill is gone, runs `rnnkit resume RUN_DIR` to the end, and
compares the per-step train losses with the reference bit for bit (CPU, one thread, same seed).

word2vec runs `rnnkit word2vec train` on a generated corpus of two 65,536-word chunks with a
checkpoint after every chunk (`--checkpoint-every 1`, threads=1, `--steps`/2 epochs), so its
"steps" are rounds of one chunk. It compares every round row of metrics.jsonl but words/s
(step = words done, epoch, lr, loss) and the final vectors.safetensors and vocab.json, byte for
byte; a run killed before its first checkpoint is resumed too (it starts again from the
beginning, counted as restarted).

Run: `python -m bench.reliability.kill_resume --trials 20` (`--quick`: 3 trials, 12 steps).
References: issue 14; tests/training/test_kill_and_resume.py (the same check for one tiny task).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rnnkit.errors import RnnkitError
from rnnkit.training import CheckpointManager, read_checkpoint, read_metrics

EVERY = 3  # steps between checkpoints
COMMON = ["--eval-every", "0", "--log-every", "1", "--quiet", "--device", "cpu", "--seed", "3"]
ENV = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
WORDS = ["the", "film", "was", "plot", "and", "very", "a", "story", "good", "bad", "dull", "fun"]
DIGITS = (
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"],
)


def _charlm(data: Path) -> list[str]:
    return ["charlm", "--max-chars", "20000", "--batch-size", "4", "--seq-len", "16",
            "--embed-dim", "8", "--hidden-size", "16", "--num-layers", "1", "--samples", "0",
            "--dropout", "0.2"]  # fmt: skip


def _sentiment(data: Path) -> list[str]:
    rng, lines = random.Random(0), ["text,label"]
    for i in range(96):
        lines.append(
            f"{' '.join(rng.choices(WORDS, k=rng.randint(3, 9)))},{'pos' if i % 2 else 'neg'}"
        )
    (data / "reviews.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["sentiment", "--data", str(data / "reviews.csv"), "--dataset", "csv", "--folds",
            "4", "--model", "gru", "--embed-dim", "8", "--hidden-size", "8", "--batch-size",
            "8"]  # fmt: skip


def _ner(data: Path) -> list[str]:
    from rnnkit.datasets.conll import tagged_corpus, write_conll

    rng = random.Random(0)
    for split, count in (("train", 120), ("dev", 30)):
        rows = []
        for _ in range(count):
            tokens = rng.choices(["Ann", "Paris", "met", "in", "the", "Rome", "Bob"], k=4)
            tags = ["B-PER" if t in ("Ann", "Bob") else "B-LOC" if t[0].isupper() else "O"
                    for t in tokens]  # fmt: skip
            rows.append((tokens, tags))
        write_conll(data / f"{split}.conll", tagged_corpus(rows))
    return ["ner", "--corpus", "custom", "--data", str(data), "--embed-dim", "12",
            "--hidden-size", "12", "--char-embed-dim", "6", "--char-hidden-size", "6",
            "--batch-size", "8"]  # fmt: skip


def _forecast(data: Path) -> list[str]:
    lines = ["date,load,t"] + [
        f"d{t},{10 + 0.2 * t + 3 * math.sin(2 * math.pi * t / 6):.4f},{t}" for t in range(72)
    ]
    (data / "load.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["forecast", "--data", str(data / "load.csv"), "--value-column", "load",
            "--season", "6", "--window", "12", "--horizon", "6", "--hidden-size", "8",
            "--batch-size", "8"]  # fmt: skip


def _translate(data: Path) -> list[str]:
    rng = random.Random(0)
    for split, count in (("train", 200), ("valid", 40)):
        pairs = [rng.sample(range(10), rng.randint(3, 6)) for _ in range(count)]
        text = "".join(" ".join(DIGITS[0][d] for d in p) + "\t" + " ".join(DIGITS[1][d] for d in p)
                       + "\n" for p in pairs)  # fmt: skip
        (data / f"{split}.tsv").write_text(text, encoding="utf-8")
    return ["translate", "--corpus", "custom", "--data", str(data), "--min-freq", "1",
            "--embed-dim", "16", "--hidden-size", "16", "--batch-size", "16",
            "--attention", "general"]  # fmt: skip


def _caption(data: Path) -> list[str]:
    from PIL import Image

    (data / "annotations").mkdir(parents=True, exist_ok=True)
    colours = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}
    for split, count in (("train", 4), ("val", 2)):
        (data / f"{split}2017").mkdir(exist_ok=True)
        images, notes = [], []
        for colour, rgb in colours.items():
            for k in range(count):
                Image.new("RGB", (20 + 4 * k, 20), rgb).save(data / f"{split}2017/{colour}{k}.png")
                images.append({"id": len(images) + 1, "file_name": f"{colour}{k}.png"})
                notes += [{"image_id": len(images), "caption": f"a {colour} square ."}]
        body = json.dumps({"images": images, "annotations": notes})
        (data / "annotations" / f"captions_{split}2017.json").write_text(body)
    return ["caption", "--corpus", "coco", "--data", str(data), "--image-size", "16",
            "--cnn-width", "4", "--feature-size", "16", "--embed-dim", "16", "--hidden-size",
            "32", "--min-freq", "1", "--batch-size", "12"]  # fmt: skip


def _word2vec(data: Path) -> list[str]:
    """A corpus of exactly 2 · 65,536 words (8 topics of 12 words), and the train command."""
    rng, lines, count = random.Random(0), [], 0
    while count < 2 * W2V_CHUNK:
        size = min(rng.randint(6, 14), 2 * W2V_CHUNK - count)
        topic = rng.randrange(8)
        lines.append(" ".join(f"t{topic}w{rng.randrange(12)}" for _ in range(size)))
        count += size
    (data / "corpus.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["word2vec", "train", str(data / "corpus.txt"), "--vector-size", "16", "--window",
            "3", "--negative", "3", "--min-count", "1", "--threads", "1", "--seed", "3",
            "--quiet", "--checkpoint-every", "1"]  # fmt: skip


TASKS: dict[str, Callable[[Path], list[str]]] = {
    "charlm": _charlm, "sentiment": _sentiment, "ner": _ner, "forecast": _forecast,
    "translate": _translate, "caption": _caption, "word2vec": _word2vec,
}  # fmt: skip
W2V_CHUNK = 1 << 16  # words of a word2vec chunk (rnnkit.represent.word2vec.train.CHUNK_WORDS)
W2V_OUTPUTS = ("vectors.safetensors", "vocab.json")  # compared byte for byte after a resume


@dataclass(kw_only=True)
class Tally:
    """Counts of one task's trials."""

    trials: int = 0
    differing: int = 0
    lost: int = 0
    during_write: int = 0
    restarted: int = 0  # killed before the first checkpoint: trained again from step 0
    notes: list[str] = field(default_factory=list)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "rnnkit", *args]


def _losses(run_dir: Path) -> list[tuple[int, object]]:
    """(step, loss) of each train row; word2vec: (round, the row without words/s)."""
    rows = [r for r in read_metrics(run_dir) if r["kind"] == "train"]
    if rows and "words_done" in rows[0]:  # a word2vec run: a row per round
        return [(k, {key: v for key, v in r.items() if key != "words_per_s"})
                for k, r in enumerate(rows, start=1)]  # fmt: skip
    return [(r["step"], r["loss"]) for r in rows]


def _outputs(run_dir: Path) -> list[bytes]:
    """The final files a word2vec run must reproduce exactly; none for the other tasks."""
    return [(run_dir / name).read_bytes() for name in W2V_OUTPUTS if (run_dir / name).is_file()]


def _steps_on_disk(root: Path) -> set[int]:
    return {int(p.name[5:]) for p in root.glob("step-*") if p.name[5:].isdigit()}


def _kill_when(
    process: subprocess.Popen, run_dir: Path, rng: random.Random, steps: int
) -> set[int]:
    """Wait for the trial's moment, SIGKILL, and return the checkpoint steps seen before it.

    Half the trials wait for a train step in [1, steps-1] then sleep U(0, 20 ms); the others
    wait until after a random step and kill as soon as a `.tmp-step-*` directory appears.
    """
    at_write, target, delay = rng.random() < 0.5, rng.randint(1, steps - 1), rng.uniform(0, 0.02)
    root, seen, deadline = run_dir / "checkpoints", set(), time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        seen |= _steps_on_disk(root)
        reached = (run_dir / "metrics.jsonl").is_file() and any(
            s >= target for s, _ in _losses(run_dir)
        )
        if reached and (not at_write or any(root.glob(".tmp-step-*"))):
            if not at_write:
                time.sleep(delay)
            seen |= _steps_on_disk(root)
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.0005 if at_write else 0.002)
    process.wait(timeout=60)
    return seen


def _lost(run_dir: Path, seen: set[int]) -> str:
    """Why the checkpoints after the kill are not intact, or "" when they are."""
    manager = CheckpointManager(run_dir / "checkpoints")
    try:
        for path in manager.checkpoints():
            read_checkpoint(path)
        latest = manager.latest()
    except RnnkitError as err:
        return f"a checkpoint does not load: {err}"
    newest_seen = max(seen, default=0)
    latest_step = int(latest.name[5:]) if latest is not None else 0
    if newest_seen and newest_seen not in _steps_on_disk(manager.root):
        return f"step-{newest_seen} was complete before the kill and is gone (latest {latest_step})"
    return ""  # a `latest` pointer one checkpoint behind (killed between the two writes) is kept


def _trial(argv: list[str], run_dir: Path, seed: int, steps: int, reference: Path) -> list[str]:
    """One kill-and-resume trial; its findings (lost, write, differing, killed) as notes.

    `argv` is the train command without --run-dir; `reference` the unbroken run's directory.
    """
    process = subprocess.Popen(
        _cli(*argv, "--run-dir", str(run_dir)), env=ENV,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    seen = _kill_when(process, run_dir, random.Random(seed), steps)
    if process.returncode != -signal.SIGKILL:
        return [f"seed {seed}: not killed (exit {process.returncode})"]
    notes = ["write"] if any((run_dir / "checkpoints").glob(".tmp-step-*")) else []
    lost = _lost(run_dir, seen)
    if lost:
        notes.append(f"lost: seed {seed}: {lost}")
    has_checkpoint = CheckpointManager(run_dir / "checkpoints").latest() is not None
    command = ["resume", str(run_dir), "--quiet"]
    if not has_checkpoint:  # killed before the first checkpoint: nothing to resume, start again
        notes.append("restarted")
        if argv[0] != "word2vec":  # a word2vec resume starts again by itself
            command = [*argv, "--run-dir", str(run_dir)]  # into the killed run's folder
    done = subprocess.run(_cli(*command), env=ENV, capture_output=True, text=True, check=False)
    got = _losses(run_dir) if done.returncode == 0 else []
    expected = _losses(reference)
    if got != expected:
        pairs = zip(got, expected, strict=False)
        first = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(got), len(expected)))
        tail = done.stdout[-300:] if done.returncode else ""
        notes.append(f"differs: seed {seed}: {len(got)} rows, first differing row {first} {tail}")
    elif _outputs(run_dir) != _outputs(reference):
        notes.append(f"differs: seed {seed}: the final vectors or vocabulary")
    return notes


def _command(task: str, data: Path, steps: int) -> tuple[list[str], int]:
    """The train command of `task` (without --run-dir) and the rows a run logs."""
    if task == "word2vec":  # two rounds (and checkpoints) an epoch
        epochs = max(1, steps // 2)
        return [*_word2vec(data), "--epochs", str(epochs)], 2 * epochs
    argv = ["train", *TASKS[task](data), *COMMON, "--max-steps", str(steps),
            "--checkpoint-every", str(EVERY)]  # fmt: skip
    return argv, steps


def _campaign(task: str, trials: int, seed: int, steps: int, scratch: Path) -> Tally:
    """The reference run of `task`, then `trials` kill-and-resume trials, two at a time."""
    data = scratch / task / "data"
    data.mkdir(parents=True)
    argv, steps = _command(task, data, steps)
    reference_dir = scratch / task / "reference"
    done = subprocess.run(_cli(*argv, "--run-dir", str(reference_dir)), env=ENV,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{task}: the reference run failed:\n{done.stdout[-2000:]}")
    seeds = [seed * 1000 + k for k in range(trials)]
    runs = [scratch / task / f"trial-{s}" for s in seeds]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda s, r: _trial(argv, r, s, steps, reference_dir), seeds, runs))
    tally = Tally(trials=trials)
    for notes in results:
        tally.differing += any(n.startswith("differs") for n in notes)
        tally.lost += any(n.startswith("lost") for n in notes)
        tally.during_write += "write" in notes
        tally.restarted += "restarted" in notes
        tally.notes += [n for n in notes if n not in ("write", "restarted")]
    return tally


def _table(tallies: dict[str, Tally]) -> str:
    lines = ["| task | trials | differing | lost checkpoints | killed during a write |",
             "|---|---|---|---|---|"]  # fmt: skip
    for task, t in tallies.items():
        lines.append(f"| {task} | {t.trials} | {t.differing} | {t.lost} | {t.during_write} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the campaign; print the table and any findings; exit 1 when a trial failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated task names")
    parser.add_argument("--trials", type=int, default=20, help="trials per task")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    parser.add_argument("--steps", type=int, default=24, help="train steps of every run")
    parser.add_argument("--quick", action="store_true", help="3 trials of 12 steps per task")
    args = parser.parse_args(argv)
    trials, steps = (3, 12) if args.quick else (args.trials, args.steps)
    tasks = [t for t in args.tasks.split(",") if t]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        parser.error(f"unknown task(s) {unknown}; known: {', '.join(TASKS)}")
    tallies = {}
    with tempfile.TemporaryDirectory(prefix="kill-resume-") as scratch:
        for task in tasks:
            tallies[task] = _campaign(task, trials, args.seed, steps, Path(scratch))
            print(f"{task}: {tallies[task]}", flush=True)
    print(_table(tallies))
    for task, tally in tallies.items():
        for note in tally.notes:
            print(f"{task}: {note}")
    return 1 if any(t.differing or t.lost for t in tallies.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

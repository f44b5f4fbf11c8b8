"""Tree-structured networks on ListOps: Tree-LSTMs and the recursive net against a sequential LSTM.

Data: ListOps (Nangia & Bowman 2018) from `rnnkit.datasets.trees`, generated with the authors'
constants (VALUE_P 0.25, MAX_ARGS 5, MAX_DEPTH 20), seeded, train and test disjoint; at most
`max_tokens` tokens per expression (ours: it keeps CPU batches short; the paper sets no such
cap). Ten classes, the value of the expression.

Models, all embedding → encoder → linear on one vector → softmax over 10 values:
    child_sum   Child-Sum Tree-LSTM on the n-ary tree: op node, its arguments as children
    binary      binary Tree-LSTM on the authors' left-branching binarisation, tokens at leaves
    recursive   Socher et al.'s recursive net on the same binary trees (E = H)
    lstm        sequential LSTM on the token sequence, last state (`SequenceClassifier`)
Equal size: `child_sum` at `hidden_size` H sets the budget; every other model gets the H
closest to it in parameter count. Equal steps: every model takes `steps` Adam updates on the
same batches in the same order (global-norm clipping at `max_grad_norm`).

Measured: test accuracy overall and by op depth of the expression; then speed, trees/s of
forward + backward on the first test batch, level by level (one cell call per height) against
node by node (one cell call per node, `TreeLayer.forward_node_by_node`), same weights, same
batch; each the fastest of `speed_repeats` (level) or 3 (node) timed runs after a warm-up.
`run_trees` writes report.md (the table), trees.json, accuracy_by_depth.png and config.json;
`rnnkit analyze trees` and bench/tree.py call it.

References:
    https://arxiv.org/abs/1503.00075 (Tai, Socher & Manning 2015, Tree-LSTM)
    https://icml.cc/2011/papers/125_icmlpaper.pdf (Socher, Lin, Ng & Manning 2011)
    https://arxiv.org/abs/1804.06028 (Nangia & Bowman 2018, ListOps)
    https://arxiv.org/abs/1702.02181 (Looks et al. 2017, dynamic batching)
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.analysis.experiments.trees_config import TreeStudyConfig
from rnnkit.config import save_config
from rnnkit.datasets.trees import (
    NUM_CLASSES,
    VOCAB,
    ListOpsConfig,
    ListOpsExample,
    collate_sequences,
    collate_trees,
    generate_listops,
)
from rnnkit.models.many_to_one import SequenceClassifier, SequenceClassifierConfig
from rnnkit.models.tree_classifier import TreeClassifier, TreeClassifierConfig
from rnnkit.seeding import seed_everything

logger = logging.getLogger(__name__)

DEPTH_BUCKETS = ((1, 1), (2, 2), (3, 3), (4, 5), (6, 20))  # op depths reported together
VIEWS = {"child_sum": "tree", "binary": "binary", "recursive": "binary"}  # else "sequence"


def build(name: str, hidden_size: int, embed_dim: int) -> nn.Module:
    """The model `name` with H = hidden_size."""
    if name == "lstm":
        config = SequenceClassifierConfig(
            vocab_size=len(VOCAB), num_classes=NUM_CLASSES, embed_dim=embed_dim,
            hidden_size=hidden_size, pooling="last",
        )  # fmt: skip
        return SequenceClassifier(config)
    E = hidden_size if name == "recursive" else embed_dim
    config = TreeClassifierConfig(
        vocab_size=len(VOCAB), num_classes=NUM_CLASSES, cell=name, embed_dim=E,
        hidden_size=hidden_size,
    )  # fmt: skip
    return TreeClassifier(config)


def size(model: nn.Module) -> int:
    """The number of parameters."""
    return sum(p.numel() for p in model.parameters())


def matched_hidden_size(name: str, budget: int, embed_dim: int) -> int:
    """The H in 2 … 512 whose model has the parameter count closest to `budget` (the smaller
    H on a tie); the count grows with H, so a bisection finds it."""
    low, high = 2, 512  # the first H with at least `budget` parameters is in [low, high]
    while low < high:
        middle = (low + high) // 2
        if size(build(name, middle, embed_dim)) < budget:
            low = middle + 1
        else:
            high = middle
    candidates = [h for h in (low - 1, low) if h >= 2]
    return min(candidates, key=lambda h: abs(size(build(name, h, embed_dim)) - budget))


class Batches:
    """Fixed batches of the training set (seeded), collated once per view, shuffled per epoch."""

    def __init__(self, examples: Sequence[ListOpsExample], batch_size: int, seed: int) -> None:
        order = list(range(len(examples)))
        random.Random(seed).shuffle(order)
        self.groups = [
            [examples[i] for i in order[start : start + batch_size]]
            for start in range(0, len(order), batch_size)
        ]
        self.cache: dict[tuple[str, int], tuple] = {}
        self.seed = seed

    def collated(self, view: str, index: int) -> tuple:
        """Batch `index` as the model of `view` reads it (cached)."""
        key = (view, index)
        if key not in self.cache:
            group = self.groups[index]
            self.cache[key] = (
                collate_sequences(group) if view == "sequence" else collate_trees(group, view)
            )
        return self.cache[key]

    def schedule(self, steps: int) -> list[int]:
        """The batch index of every step: epochs of a seeded permutation, same for all models."""
        rng, indices = random.Random(self.seed + 1), []
        while len(indices) < steps:
            epoch = list(range(len(self.groups)))
            rng.shuffle(epoch)
            indices += epoch
        return indices[:steps]


def logits_of(name: str, model: nn.Module, batch: tuple, *, node_by_node: bool = False) -> Tensor:
    """Logits (B, C) of model `name` on a collated batch."""
    if name == "lstm":
        token_ids, lengths, _ = batch
        return model(token_ids, lengths)
    return model(batch[0], node_by_node=node_by_node)


def train(name: str, model: nn.Module, batches: Batches, config: TreeStudyConfig) -> float:
    """`config.steps` Adam updates; returns the wall seconds."""
    view = VIEWS.get(name, "sequence")
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    model.train()
    start = time.perf_counter()
    for step, index in enumerate(batches.schedule(config.steps), 1):
        batch = batches.collated(view, index)
        loss = F.cross_entropy(logits_of(name, model, batch), batch[-1])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        if step % max(1, config.steps // 5) == 0:
            logger.info("%s step %d: loss %.3f", name, step, loss.item())
    return time.perf_counter() - start


def depth_key(depth: int) -> str:
    """The DEPTH_BUCKETS label of an op depth: "1", "2", "3", "4-5", "6-20"."""
    low, high = next(b for b in DEPTH_BUCKETS if b[0] <= depth <= b[1])
    return f"{low}-{high}" if high > low else str(low)


@torch.no_grad()
def accuracy_by_depth(
    name: str, model: nn.Module, test: Batches
) -> tuple[dict[str, float], dict[str, int]]:
    """(accuracy, count) per depth bucket and "all", over every test batch."""
    model.eval()
    view = VIEWS.get(name, "sequence")
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for index, group in enumerate(test.groups):
        batch = test.collated(view, index)
        correct = (logits_of(name, model, batch).argmax(-1) == batch[-1]).tolist()
        for example, ok in zip(group, correct, strict=True):
            for key in ("all", depth_key(example.depth)):
                right[key] += ok
                total[key] += 1
    return {key: right[key] / total[key] for key in total}, dict(total)


def trees_per_second(run: Callable[[], None], count: int, repeats: int) -> float:
    """count / (fastest of `repeats` timed runs), after one warm-up: the minimum is the run
    least disturbed by other processes on shared cores."""
    run()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return count / best


def speed(name: str, model: nn.Module, test: Batches, repeats: int) -> tuple[float, float | None]:
    """Trees/s forward + backward on the first test batch: level by level, node by node."""
    model.train()
    batch = test.collated(VIEWS.get(name, "sequence"), 0)
    count = len(test.groups[0])

    def run(node_by_node: bool) -> None:
        model.zero_grad()
        logits_of(name, model, batch, node_by_node=node_by_node).sum().backward()

    fast = trees_per_second(lambda: run(False), count, repeats)
    if name == "lstm":
        return fast, None
    return fast, trees_per_second(lambda: run(True), count, 3)


@dataclass(frozen=True, kw_only=True)
class TreeStudyResult:
    """One row per model (dicts as in trees.json), the test counts per depth, the files."""

    rows: list[dict[str, Any]]
    counts: dict[str, int]
    files: list[Path] = field(default_factory=list)


def trees_report(config: TreeStudyConfig, rows: list[dict], counts: dict[str, int]) -> str:
    """The markdown table: size, train time, accuracy by depth, trees/s level vs node."""
    keys = ["all"] + [k for k in (depth_key(low) for low, _ in DEPTH_BUCKETS) if k in counts]
    heads = [f"test acc (n={counts['all']})"] + [f"acc depth {k} (n={counts[k]})" for k in keys[1:]]
    lines = [
        f"# Tree study on ListOps: {config.num_train} train, {config.num_test} test, "
        f"≤ {config.max_tokens} tokens",
        "",
        f"steps {config.steps}, batch {config.batch_size}, lr {config.lr}, seed {config.seed}",
        "",
        "| model | H | params | train s | " + " | ".join(heads)
        + " | trees/s level | trees/s node | ratio |",
        "|---|---:|---:|---:|" + "---:|" * len(keys) + "---:|---:|---:|",
    ]  # fmt: skip
    for row in rows:
        cells = " | ".join(f"{row['accuracy'][k]:.3f}" for k in keys)
        slow = row["trees_per_second_node"]
        node = f"{slow:.0f}" if slow else "–"
        ratio = f"{row['trees_per_second_level'] / slow:.1f}×" if slow else "–"
        lines.append(
            f"| {row['model']} | {row['hidden_size']} | {row['parameters']} | "
            f"{row['train_seconds']:.0f} | {cells} | {row['trees_per_second_level']:.0f} | "
            f"{node} | {ratio} |"
        )
    return "\n".join(lines) + "\n"


def plot_accuracy_by_depth(path: Path, rows: list[dict], counts: dict[str, int]) -> Path:
    """Test accuracy against op depth, one line per model, chance (0.1) dashed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # matplotlib loads only here
    from matplotlib.figure import Figure

    keys = [k for k in (depth_key(low) for low, _ in DEPTH_BUCKETS) if k in counts]
    figure = Figure(figsize=(6.5, 4), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    for row in rows:
        accuracy = [row["accuracy"][k] for k in keys]
        axes.plot(range(len(keys)), accuracy, marker="o", label=row["model"])
    axes.axhline(1 / NUM_CLASSES, color="grey", linestyle="--", label="chance")
    axes.set_xticks(range(len(keys)), [f"{k}\n(n={counts[k]})" for k in keys])
    axes.set_xlabel("op depth of the expression")
    axes.set_ylabel("test accuracy")
    axes.set_ylim(0, 1)
    axes.set_title("ListOps: accuracy by depth, equal parameters and updates")
    axes.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure).print_png(str(path))
    return path


def run_trees(config: TreeStudyConfig, out_dir: str | Path) -> TreeStudyResult:
    """Generate ListOps, train and evaluate every model; write report.md, trees.json,
    accuracy_by_depth.png and config.json to `out_dir`.

    Example (the CLI's `rnnkit analyze trees --quick --out runs/trees`):
        >>> run_trees(TreeStudyConfig(quick=True), "runs/trees")  # doctest: +SKIP
    """
    sized = config.sized()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    threads = torch.get_num_threads()
    if sized.threads:
        torch.set_num_threads(sized.threads)
    try:
        start = time.perf_counter()
        train_set, test_set = generate_listops(
            ListOpsConfig(num_train=sized.num_train, num_test=sized.num_test, seed=sized.seed,
                          max_tokens=sized.max_tokens)
        )  # fmt: skip
        logger.info("ListOps generated in %.1f s", time.perf_counter() - start)
        batches = Batches(train_set, sized.batch_size, sized.seed)
        test = Batches(test_set, sized.batch_size, sized.seed)
        budget = size(build("child_sum", sized.hidden_size, sized.embed_dim))
        rows, counts = [], {}
        for name in sized.models:
            H = sized.hidden_size
            if name != "child_sum":
                H = matched_hidden_size(name, budget, sized.embed_dim)
            seed_everything(sized.seed)
            model = build(name, H, sized.embed_dim)
            seconds = train(name, model, batches, sized)
            accuracy, counts = accuracy_by_depth(name, model, test)
            fast, slow = speed(name, model, test, repeats=sized.speed_repeats)
            rows.append({
                "model": name, "hidden_size": H, "parameters": size(model),
                "train_seconds": seconds, "accuracy": accuracy,
                "trees_per_second_level": fast, "trees_per_second_node": slow,
            })  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    report = out / "report.md"
    report.write_text(trees_report(sized, rows, counts), encoding="utf-8")
    data = {"config": dataclasses.asdict(sized), "torch": torch.__version__,
            "threads": sized.threads or threads,
            "counts": counts, "rows": rows}  # fmt: skip
    results = out / "trees.json"
    results.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    plot = plot_accuracy_by_depth(out / "accuracy_by_depth.png", rows, counts)
    save_config(config, out / "config.json")
    return TreeStudyResult(
        rows=rows, counts=counts, files=[report, results, plot, out / "config.json"]
    )


__all__ = [
    "DEPTH_BUCKETS",
    "Batches",
    "TreeStudyResult",
    "accuracy_by_depth",
    "build",
    "matched_hidden_size",
    "run_trees",
    "speed",
    "train",
    "trees_report",
]

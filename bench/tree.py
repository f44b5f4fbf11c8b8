"""Tree-structured networks on ListOps: Tree-LSTMs and the recursive net against a sequential LSTM.

Usage:
    python bench/tree.py [--quick] [--steps 2000] [--batch-size 64] [--hidden-size 64]
                         [--lr 2e-3] [--num-train 20000] [--num-test 2000] [--max-tokens 100]
                         [--seed 0] [--threads N] [--models child_sum,binary,recursive,lstm]

Data: ListOps (Nangia & Bowman 2018) from `rnnkit.datasets.trees`, generated with the authors'
constants (VALUE_P 0.25, MAX_ARGS 5, MAX_DEPTH 20), seeded, train and test disjoint; at most
`--max-tokens` tokens per expression (ours: it keeps CPU batches short; the paper sets no
such cap). Ten classes, the value of the expression.

Models, all embedding → encoder → linear on one vector → softmax over 10 values:
    child_sum   Child-Sum Tree-LSTM on the n-ary tree: op node, its arguments as children
    binary      binary Tree-LSTM on the authors' left-branching binarisation, tokens at leaves
    recursive   Socher et al.'s recursive net on the same binary trees (E = H)
    lstm        sequential LSTM on the token sequence, last state (`SequenceClassifier`)
Equal size: `child_sum` at `--hidden-size` H sets the budget; every other model gets the H
closest to it in parameter count. Equal steps: every model takes `--steps` Adam updates on the
same batches in the same order (global-norm clipping at 5).

Printed: test accuracy overall and by op depth of the expression; then speed, trees/s of
forward + backward on test batches, level by level (one cell call per height) against node by
node (one cell call per node, `TreeLayer.forward_node_by_node`), same weights, same batch;
each the fastest of 10 (level) or 3 (node) timed runs after a warm-up.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

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

DEPTH_BUCKETS = ((1, 1), (2, 2), (3, 3), (4, 5), (6, 20))
VIEWS = {"child_sum": "tree", "binary": "binary", "recursive": "binary"}


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
    return sum(p.numel() for p in model.parameters())


def matched_hidden_size(name: str, budget: int, embed_dim: int) -> int:
    """The H whose model has the parameter count closest to `budget`."""
    return min(range(2, 513), key=lambda h: abs(size(build(name, h, embed_dim)) - budget))


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
        key = (view, index)
        if key not in self.cache:
            group = self.groups[index]
            self.cache[key] = (
                collate_sequences(group) if view == "sequence" else (collate_trees(group, view))
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
    if name == "lstm":
        token_ids, lengths, _ = batch
        return model(token_ids, lengths)
    return model(batch[0], node_by_node=node_by_node)


def train(name: str, model: nn.Module, batches: Batches, args: argparse.Namespace) -> float:
    """`args.steps` Adam updates; returns the wall seconds."""
    view = VIEWS.get(name, "sequence")
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    model.train()
    start = time.perf_counter()
    for step, index in enumerate(batches.schedule(args.steps), 1):
        batch = batches.collated(view, index)
        loss = F.cross_entropy(logits_of(name, model, batch), batch[-1])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        if step % max(1, args.steps // 5) == 0:
            print(f"  {name} step {step}: loss {loss.item():.3f}", flush=True)
    return time.perf_counter() - start


@torch.no_grad()
def accuracy_by_depth(name: str, model: nn.Module, test: Batches) -> dict[str, float]:
    model.eval()
    view = VIEWS.get(name, "sequence")
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for index, group in enumerate(test.groups):
        batch = test.collated(view, index)
        correct = (logits_of(name, model, batch).argmax(-1) == batch[-1]).tolist()
        for example, ok in zip(group, correct, strict=True):
            low, high = next(b for b in DEPTH_BUCKETS if b[0] <= example.depth <= b[1])
            for key in ("all", f"{low}-{high}" if high > low else str(low)):
                right[key] += ok
                total[key] += 1
    return {key: right[key] / total[key] for key in total} | {"n": total}  # type: ignore[dict-item]


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


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="600 steps, 6000/1000 examples")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--embed-dim", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--num-train", type=int, default=20000)
    parser.add_argument("--num-test", type=int, default=2000)
    parser.add_argument("--max-tokens", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--models", default="child_sum,binary,recursive,lstm")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.num_train, args.num_test = 600, 6000, 1000
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.models.split(",")
    start = time.perf_counter()
    train_set, test_set = generate_listops(
        ListOpsConfig(num_train=args.num_train, num_test=args.num_test, seed=args.seed,
                      max_tokens=args.max_tokens)
    )  # fmt: skip
    print(f"ListOps: {len(train_set)} train, {len(test_set)} test, ≤ {args.max_tokens} tokens, "
          f"generated in {time.perf_counter() - start:.1f} s", flush=True)  # fmt: skip
    batches = Batches(train_set, args.batch_size, args.seed)
    test = Batches(test_set, args.batch_size, args.seed)
    budget = size(build("child_sum", args.hidden_size, args.embed_dim))
    rows = []
    for name in names:
        H = (
            args.hidden_size
            if name == "child_sum"
            else matched_hidden_size(name, budget, args.embed_dim)
        )
        seed_everything(args.seed)
        model = build(name, H, args.embed_dim)
        seconds = train(name, model, batches, args)
        accuracy = accuracy_by_depth(name, model, test)
        fast, slow = speed(name, model, test, repeats=10)
        rows.append((name, H, size(model), seconds, accuracy, fast, slow))
    counts = rows[0][4]["n"]
    keys = ["all"] + [k for k in (f"{a}-{b}" if b > a else str(a) for a, b in DEPTH_BUCKETS)
                      if k in counts]  # fmt: skip
    print(f"\nsteps {args.steps}, batch {args.batch_size}, lr {args.lr}, seed {args.seed}")
    print("| model | H | params | train s | " + " | ".join(
        f"acc depth {k} (n={counts[k]})" if k != "all" else f"test acc (n={counts[k]})"
        for k in keys) + " | trees/s level | trees/s node | ratio |")  # fmt: skip
    print("|---|---:|---:|---:|" + "---:|" * len(keys) + "---:|---:|---:|")
    for name, H, params, seconds, accuracy, fast, slow in rows:
        cells = " | ".join(f"{accuracy[k]:.3f}" for k in keys)
        node = f"{slow:.0f}" if slow else "–"
        ratio = f"{fast / slow:.1f}×" if slow else "–"
        print(f"| {name} | {H} | {params} | {seconds:.0f} | {cells} | {fast:.0f} | {node} | "
              f"{ratio} |")  # fmt: skip


if __name__ == "__main__":
    main()

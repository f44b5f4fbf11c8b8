"""Tree-structured networks on ListOps: Tree-LSTMs and the recursive net against a sequential LSTM.

Usage:
    python -m bench.tree [--quick] [--steps 2000] [--batch-size 64] [--hidden-size 64]
                         [--lr 2e-3] [--num-train 20000] [--num-test 2000] [--max-tokens 100]
                         [--seed 0] [--threads N] [--models child_sum,binary,recursive,lstm]
                         [--out DIR]

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

The data, models, training, evaluation and timing live in `rnnkit.analysis.experiments.trees`
(`run_trees`, also `rnnkit analyze trees`); this script prints its table. --out also receives
report.md, trees.json, accuracy_by_depth.png and config.json.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from rnnkit.analysis.experiments.trees import run_trees
from rnnkit.analysis.experiments.trees_config import TreeStudyConfig

ROOT = Path(__file__).resolve().parents[1]


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
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch default)")
    parser.add_argument("--models", default="child_sum,binary,recursive,lstm")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "trees")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="  %(message)s")  # loss every steps / 5
    config = TreeStudyConfig(
        models=tuple(args.models.split(",")), steps=args.steps, batch_size=args.batch_size,
        hidden_size=args.hidden_size, embed_dim=args.embed_dim, lr=args.lr,
        num_train=args.num_train, num_test=args.num_test, max_tokens=args.max_tokens,
        seed=args.seed, threads=args.threads, quick=args.quick,
    )  # fmt: skip
    result = run_trees(config, args.out)
    print(result.files[0].read_text(encoding="utf-8"), end="")  # report.md: the table
    for path in result.files[1:]:
        print(f"saved {path}")


if __name__ == "__main__":
    main()

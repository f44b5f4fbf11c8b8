"""Tree classifier: embed each node's token, run a tree cell bottom-up, classify the root.

    x_j = E[w_j]  at nodes that carry a token w_j, else 0         (N, E)
    h_j = cell(x_j, {h_k, c_k : k ∈ C(j)})                        level by level (layers/tree.py)
    ŷ = softmax(W h_root + b)  (Tai, Socher & Manning 2015, §4.1)   (B, C)

The cell is the recursive net (Socher et al. 2011), the Child-Sum or the binary Tree-LSTM
(Tai et al. 2015). The sequential baseline on the same tokens is
`rnnkit.models.many_to_one.SequenceClassifier` (LSTM, pooling "last").

References:
    https://icml.cc/2011/papers/125_icmlpaper.pdf (Socher, Lin, Ng & Manning 2011)
    https://arxiv.org/abs/1503.00075 (Tai, Socher & Manning 2015)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from rnnkit.cells.tree import BinaryTreeLSTMCell, ChildSumTreeLSTMCell, RecursiveCell, TreeCell
from rnnkit.errors import ConfigError
from rnnkit.layers.tree import TreeBatch, TreeLayer, root_states


@dataclass(frozen=True, kw_only=True)
class TreeClassifierConfig:
    """Embedding → tree layer → linear on the root → logits (B, C)."""

    vocab_size: int  # V
    num_classes: int = 10  # C
    cell: Literal["child_sum", "binary", "recursive"] = "child_sum"
    embed_dim: int = 64  # E; the recursive net needs E = H (its leaves are the word vectors)
    hidden_size: int = 64  # H
    pad_id: int = 0  # id of <pad>: its row of E is zero

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embed_dim", "hidden_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.num_classes < 2:
            raise ConfigError(f"num_classes must be ≥ 2, got {self.num_classes}")
        if self.cell not in ("child_sum", "binary", "recursive"):
            raise ConfigError(f"cell must be child_sum, binary or recursive, got {self.cell!r}")
        if self.cell == "recursive" and self.embed_dim != self.hidden_size:
            raise ConfigError(
                f"cell='recursive' needs embed_dim == hidden_size (leaves are word vectors); "
                f"got {self.embed_dim} and {self.hidden_size}"
            )
        if not 0 <= self.pad_id < self.vocab_size:
            raise ConfigError(f"pad_id must be in [0, {self.vocab_size}), got {self.pad_id}")

    def parameter_count(self) -> int:
        """All parameters: V·E, the cell, C·(H + 1)."""
        E, H = self.embed_dim, self.hidden_size
        cell = {
            "child_sum": 4 * H * (E + H) + 4 * H,
            "binary": 4 * H * E + 5 * H * 2 * H + 4 * H,
            "recursive": H * 2 * H + H,
        }[self.cell]
        return self.vocab_size * E + cell + self.num_classes * (H + 1)


def build_tree_cell(config: TreeClassifierConfig) -> TreeCell:
    """The cell named by `config.cell`."""
    if config.cell == "recursive":
        return RecursiveCell(config.hidden_size)
    if config.cell == "binary":
        return BinaryTreeLSTMCell(config.embed_dim, config.hidden_size)
    return ChildSumTreeLSTMCell(config.embed_dim, config.hidden_size)


class TreeClassifier(nn.Module):
    """A `TreeBatch` of B trees -> class logits (B, C), from the state at each root.

    Shapes: batch with N nodes; returns logits (B, C).

    >>> from rnnkit.layers.tree import batch_trees, tree_from_nested
    >>> model = TreeClassifier(TreeClassifierConfig(vocab_size=4, cell="binary", hidden_size=8))
    >>> batch = batch_trees([tree_from_nested((("a", "b"), "c"))], {"a": 1, "b": 2, "c": 3})
    >>> model(batch).shape  # (B, C)
    torch.Size([1, 10])
    """

    def __init__(self, config: TreeClassifierConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim, config.pad_id)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        with torch.no_grad():
            self.embedding.weight[config.pad_id] = 0.0
        self.tree = TreeLayer(build_tree_cell(config))
        self.output = nn.Linear(config.hidden_size, config.num_classes)  # W, b

    def node_inputs(self, batch: TreeBatch) -> Tensor:
        """x_j = E[w_j] where node j has a token, else 0: (N, E)."""
        has_token = batch.has_token.unsqueeze(-1)  # (N, 1)
        return self.embedding(batch.token_ids.clamp(min=0)) * has_token  # (N, E)

    def forward(self, batch: TreeBatch, *, node_by_node: bool = False) -> Tensor:
        """Logits (B, C); `node_by_node` runs the slow reference traversal instead."""
        x = self.node_inputs(batch)
        run = self.tree.forward_node_by_node if node_by_node else self.tree
        return self.output(root_states(run(x, batch), batch))  # W h_root + b, (B, C)


__all__ = ["TreeClassifier", "TreeClassifierConfig", "build_tree_cell"]

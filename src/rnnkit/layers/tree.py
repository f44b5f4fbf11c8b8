"""Batches of trees as tensors, and the layer that runs a tree cell over them level by level.

A tree is evaluated bottom-up: a node needs its children's states first. Node by node, a batch
of trees costs one cell call per node. Grouping the nodes by height,

    height(j) = 0 for a leaf,   height(j) = 1 + max_{k ∈ C(j)} height(k)

every node of height l has all its children at heights < l, so all nodes of one height (in
all trees of the batch) are independent and go through the cell in one batched call:

    for l = 0 … max height:   S[level_l] = cell(x[level_l], S[children(level_l)])

(the dynamic batching of Looks et al. 2017). The cost is one call per level instead of one per
node.

Encoding of a batch of B trees with N nodes in all (`TreeBatch`), nodes of each tree in
post-order, trees one after another:
    children   (N, K) int64   the node indices of each node's children, −1 padding
    token_ids  (N,) int64     the token at each node, −1 where the node has none
    heights    (N,) int64     as above
    roots      (B,) int64     the index of each tree's root
    levels     tuple of (n_l,) int64: the nodes of height l

References:
    https://arxiv.org/abs/1503.00075 (Tai, Socher & Manning 2015, Tree-LSTM)
    https://arxiv.org/abs/1702.02181 (Looks, Herreshoff, Hutchins & Norvig 2017, dynamic batching)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from rnnkit.cells.base import LSTMState, RNNState
from rnnkit.cells.tree import TreeCell
from rnnkit.errors import DataError, ShapeError, VocabError


@dataclass(frozen=True)
class TreeNode:
    """One node of a tree: an optional token and its ordered children (none at a leaf)."""

    token: str | None = None
    children: tuple[TreeNode, ...] = ()


def tree_from_nested(obj: Any) -> TreeNode:
    """A tree from nested lists/tuples: a str (or int) is a leaf, a sequence a node without token.

    >>> tree = tree_from_nested((("a", "b"), "c"))
    >>> [child.token for child in tree.children], tree.children[0].children[1].token
    ([None, 'c'], 'b')
    """
    if isinstance(obj, TreeNode):
        return obj
    if isinstance(obj, str | int):
        return TreeNode(token=str(obj))
    if isinstance(obj, list | tuple) and obj:
        return TreeNode(children=tuple(tree_from_nested(item) for item in obj))
    raise DataError(f"a tree is a str leaf or a non-empty list/tuple of trees; got {obj!r}")


def parse_bracketed(text: str, *, labelled: bool = False) -> TreeNode:
    """A tree from a bracketed string, e.g. "((a b) c)"; with labelled=True "(MAX 2 (MIN 3 1))".

    Tokens are separated by spaces or brackets. With `labelled`, the first token after "(" is
    the node's own token (the form of the Penn Treebank); otherwise nodes carry no token.

    >>> parse_bracketed("(MAX 2 (MIN 3 1))", labelled=True).children[1].token
    'MIN'
    """
    tokens = text.replace("(", " ( ").replace(")", " ) ").split()
    if not tokens:
        raise DataError("parse_bracketed: empty string")
    position = 0

    def node() -> TreeNode:
        nonlocal position
        if position >= len(tokens):
            raise DataError(f"parse_bracketed: missing ')' at the end of {text!r}")
        token = tokens[position]
        position += 1
        if token == ")":
            raise DataError(f"parse_bracketed: unexpected ')' at token {position} of {text!r}")
        if token != "(":
            return TreeNode(token=token)
        label = None
        if labelled:
            if position >= len(tokens) or tokens[position] in "()":
                raise DataError(f"parse_bracketed: a labelled node needs a label in {text!r}")
            label, position = tokens[position], position + 1
        children = []
        while position < len(tokens) and tokens[position] != ")":
            children.append(node())
        if position >= len(tokens):
            raise DataError(f"parse_bracketed: missing ')' at the end of {text!r}")
        position += 1  # the ")"
        if not children:
            if label is None:
                raise DataError(f"parse_bracketed: empty brackets '()' in {text!r}")
            return TreeNode(token=label)
        return TreeNode(token=label, children=tuple(children))

    tree = node()
    if position != len(tokens):
        raise DataError(f"parse_bracketed: text after the tree at token {position} of {text!r}")
    return tree


@dataclass(frozen=True)
class TreeBatch:
    """B trees as tensors (see the module docstring); build with `batch_trees`."""

    children: Tensor  # (N, K) int64, −1 padding
    token_ids: Tensor  # (N,) int64, −1 where a node has no token
    heights: Tensor  # (N,) int64
    roots: Tensor  # (B,) int64
    levels: tuple[Tensor, ...]  # level l: (n_l,) int64 node indices of height l
    level_arity: tuple[int, ...]  # most children of a node at level l (0 at l = 0)

    @property
    def num_nodes(self) -> int:
        """N, nodes in all trees."""
        return self.token_ids.shape[0]

    @property
    def has_token(self) -> Tensor:
        """(N,) bool, True where the node carries a token."""
        return self.token_ids >= 0

    def to(self, device: torch.device | str) -> TreeBatch:
        """The same batch with every tensor on `device`."""
        return TreeBatch(
            self.children.to(device),
            self.token_ids.to(device),
            self.heights.to(device),
            self.roots.to(device),
            tuple(level.to(device) for level in self.levels),
            self.level_arity,
        )


def batch_trees(trees: Sequence[TreeNode], vocab: Mapping[str, int]) -> TreeBatch:
    """Encode trees as one `TreeBatch`, nodes in post-order tree after tree.

    Args:
        trees: B trees (`TreeNode`, or nested lists / bracketed strings parsed beforehand).
        vocab: token -> id; every token in the trees must be in it.

    Raises:
        DataError: no trees, or a leaf without a token.
        VocabError: a token not in `vocab`.

    >>> batch = batch_trees([tree_from_nested(("a", ("b", "c")))], {"a": 0, "b": 1, "c": 2})
    >>> batch.children.tolist(), batch.heights.tolist(), batch.roots.tolist()
    ([[-1, -1], [-1, -1], [-1, -1], [1, 2], [0, 3]], [0, 0, 0, 1, 2], [4])
    """
    if not trees:
        raise DataError("batch_trees needs at least one tree")
    children: list[list[int]] = []
    token_ids: list[int] = []
    heights: list[int] = []
    roots: list[int] = []
    for tree in trees:
        stack: list[tuple[TreeNode, bool]] = [(tree, False)]
        done: list[int] = []  # indices of finished nodes, the last ones are the current children
        while stack:  # iterative post-order: deep trees do not hit the recursion limit
            node, expanded = stack.pop()
            if not expanded and node.children:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node.children))
                continue
            kids = done[len(done) - len(node.children) :] if node.children else []
            del done[len(done) - len(kids) :]
            if node.token is None and not kids:
                raise DataError("batch_trees: a leaf has no token; every leaf needs one")
            if node.token is not None and node.token not in vocab:
                raise VocabError(f"batch_trees: token {node.token!r} is not in the vocabulary")
            token_ids.append(-1 if node.token is None else vocab[node.token])
            children.append(kids)
            heights.append(1 + max(heights[k] for k in kids) if kids else 0)
            done.append(len(token_ids) - 1)
        roots.append(done[0])
    K = max(1, max(len(kids) for kids in children))
    padded = [kids + [-1] * (K - len(kids)) for kids in children]
    child_tensor = torch.tensor(padded, dtype=torch.int64)  # (N, K)
    height_tensor = torch.tensor(heights, dtype=torch.int64)  # (N,)
    order = torch.argsort(height_tensor, stable=True)  # node indices sorted by height
    sizes = torch.bincount(height_tensor).tolist()  # n_l for l = 0 … max height
    levels = tuple(order.split(sizes))
    arity = [0] * len(sizes)
    for kids, height in zip(children, heights, strict=True):
        arity[height] = max(arity[height], len(kids))
    return TreeBatch(
        child_tensor,
        torch.tensor(token_ids, dtype=torch.int64),
        height_tensor,
        torch.tensor(roots, dtype=torch.int64),
        levels,
        tuple(arity),
    )


TreeState = RNNState | LSTMState


class TreeLayer(nn.Module):
    """Runs a tree cell over a `TreeBatch`, one batched cell call per level of height.

    Shapes:
        node_inputs (N, F): x_j at every node, rows of nodes without a token are not read;
        returns the state of every node, each field (N, H); `roots(states, batch)` gives (B, H).

    Args:
        cell: a `RecursiveCell`, `ChildSumTreeLSTMCell` or `BinaryTreeLSTMCell`.
    """

    def __init__(self, cell: TreeCell) -> None:
        super().__init__()
        self.cell = cell

    def _check(self, node_inputs: Tensor, batch: TreeBatch) -> None:
        F_ = self.cell.input_size
        if node_inputs.dim() != 2 or node_inputs.shape != (batch.num_nodes, F_):
            raise ShapeError(
                f"node_inputs must be (N, F) = ({batch.num_nodes}, {F_}); "
                f"got {tuple(node_inputs.shape)}"
            )
        arity = self.cell.arity
        if arity is not None:
            counts = set((batch.children >= 0).sum(1).tolist()) - {0, arity}
            if counts:
                raise ShapeError(
                    f"{type(self.cell).__name__} needs every internal node to have {arity} "
                    f"children; this batch has nodes with {sorted(counts)}. Binarise the trees."
                )

    def forward(self, node_inputs: Tensor, batch: TreeBatch) -> TreeState:
        """States of all N nodes, computed level by level (see the module docstring)."""
        self._check(node_inputs, batch)
        H = self.cell.hidden_size
        has_token = batch.has_token
        fields = len(self.cell.state_type._fields)
        states = [node_inputs.new_zeros(batch.num_nodes, H) for _ in range(fields)]  # (N, H)
        for ell, level in enumerate(batch.levels):
            if ell == 0:
                new = self.cell.leaf(node_inputs.index_select(0, level))  # (n_0, F) -> (n_0, H)
            else:
                K = batch.level_arity[ell]
                child_index = batch.children.index_select(0, level)[:, :K]  # (n_l, K)
                child_mask = child_index >= 0
                flat = child_index.clamp(min=0).flatten()  # (n_l·K,)
                children = self.cell.state_type(
                    *(s.index_select(0, flat).view(len(level), K, H) for s in states)
                )  # each (n_l, K, H)
                x = None
                if bool(has_token.index_select(0, level).any()):
                    mask = has_token.index_select(0, level).unsqueeze(-1)  # (n_l, 1)
                    x = node_inputs.index_select(0, level) * mask  # no token: x_j = 0
                new = self.cell(x, children, child_mask)
            states = [s.index_copy(0, level, value) for s, value in zip(states, new, strict=True)]
        return self.cell.state_type(*states)

    def forward_node_by_node(self, node_inputs: Tensor, batch: TreeBatch) -> TreeState:
        """The same states, one cell call per node in post-order: the reference path.

        Slow on purpose (N calls); tests check `forward` against it and bench/tree.py times both.
        """
        self._check(node_inputs, batch)
        has_token = batch.has_token.tolist()
        child_lists = [[k for k in row if k >= 0] for row in batch.children.tolist()]
        done: list[TreeState] = []
        for j, kids in enumerate(child_lists):
            x_j = node_inputs[j : j + 1]  # (1, F)
            if not kids:
                done.append(self.cell.leaf(x_j))
                continue
            children = self.cell.state_type(
                *(torch.stack([done[k][f] for k in kids], 1) for f in range(len(done[0])))
            )  # each (1, K, H)
            mask = torch.ones(1, len(kids), dtype=torch.bool, device=node_inputs.device)
            done.append(self.cell(x_j if has_token[j] else None, children, mask))
        return self.cell.state_type(
            *(torch.cat([state[f] for state in done]) for f in range(len(done[0])))
        )


def root_states(states: TreeState, batch: TreeBatch) -> Tensor:
    """h at each tree's root: (B, H)."""
    return states.hidden.index_select(0, batch.roots)


__all__ = [
    "TreeBatch",
    "TreeLayer",
    "TreeNode",
    "TreeState",
    "batch_trees",
    "parse_bracketed",
    "root_states",
]

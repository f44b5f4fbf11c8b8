"""Tree batching: the encoding, parsing, and level-by-level == node-by-node (values, gradients)."""

from __future__ import annotations

import random

import pytest
import torch

from rnnkit.cells.tree import BinaryTreeLSTMCell, ChildSumTreeLSTMCell, RecursiveCell
from rnnkit.errors import DataError, ShapeError, VocabError
from rnnkit.layers.tree import (
    TreeLayer,
    TreeNode,
    batch_trees,
    parse_bracketed,
    root_states,
    tree_from_nested,
)

VOCAB = {token: i for i, token in enumerate("abcdefgh")}


def random_tree(rng: random.Random, depth: int, *, binary: bool, labelled: bool) -> TreeNode:
    """A random tree; binary: 0 or 2 children, else 0–4; labelled: internal nodes get tokens
    at random (so a level mixes nodes with and without input)."""
    if depth == 0 or rng.random() < 0.3:
        return TreeNode(token=rng.choice("abcdefgh"))
    count = 2 if binary else rng.randint(1, 4)
    children = tuple(
        random_tree(rng, depth - 1, binary=binary, labelled=labelled) for _ in range(count)
    )
    token = rng.choice("abcdefgh") if labelled and rng.random() < 0.5 else None
    return TreeNode(token=token, children=children)


def test_batch_encoding_by_hand() -> None:
    trees = [parse_bracketed("(a (b c))"), parse_bracketed("d")]
    batch = batch_trees(trees, VOCAB)
    assert batch.children.tolist() == [[-1, -1], [-1, -1], [-1, -1], [1, 2], [0, 3], [-1, -1]]
    assert batch.token_ids.tolist() == [0, 1, 2, -1, -1, 3]
    assert batch.heights.tolist() == [0, 0, 0, 1, 2, 0]
    assert batch.roots.tolist() == [4, 5]
    assert [level.tolist() for level in batch.levels] == [[0, 1, 2, 5], [3], [4]]
    assert batch.level_arity == (0, 2, 2)


def test_parse_bracketed_forms() -> None:
    labelled = parse_bracketed("(MAX 2 (MIN 3 1) 9)", labelled=True)
    assert labelled.token == "MAX"
    assert [child.token for child in labelled.children] == ["2", "MIN", "9"]
    assert [c.token for c in labelled.children[1].children] == ["3", "1"]
    assert parse_bracketed("((a b) c)") == tree_from_nested((("a", "b"), "c"))
    for bad in ("", "(a b", "a b", "(a))", "()"):
        with pytest.raises(DataError):
            parse_bracketed(bad)


def test_bad_trees_and_inputs_are_clear_errors() -> None:
    with pytest.raises(VocabError, match="'z'"):
        batch_trees([tree_from_nested(("a", "z"))], VOCAB)
    with pytest.raises(DataError, match="leaf has no token"):
        batch_trees([TreeNode(children=(TreeNode(token="a"), TreeNode()))], VOCAB)
    with pytest.raises(DataError):
        batch_trees([], VOCAB)
    batch = batch_trees([tree_from_nested(("a", "b", "c"))], VOCAB)
    with pytest.raises(ShapeError, match="Binarise"):
        TreeLayer(BinaryTreeLSTMCell(3, 4))(torch.zeros(batch.num_nodes, 3), batch)
    with pytest.raises(ShapeError, match="node_inputs"):
        TreeLayer(ChildSumTreeLSTMCell(3, 4))(torch.zeros(batch.num_nodes, 2), batch)


def test_deep_tree_is_built_without_recursion() -> None:
    tree = TreeNode(token="a")
    for _ in range(3000):  # deeper than Python's recursion limit
        tree = TreeNode(children=(tree, TreeNode(token="b")))
    batch = batch_trees([tree], VOCAB)
    assert len(batch.levels) == 3001
    assert batch.roots.tolist() == [batch.num_nodes - 1]


CASES = [
    (lambda: ChildSumTreeLSTMCell(3, 4), False, True),
    (lambda: BinaryTreeLSTMCell(3, 4), True, True),
    (lambda: RecursiveCell(3), True, False),
]


@pytest.mark.parametrize(("make_cell", "binary", "labelled"), CASES)
def test_level_by_level_equals_node_by_node(
    float64: torch.dtype, make_cell: object, binary: bool, labelled: bool
) -> None:
    """Random trees of different shapes and heights in one batch: all states and gradients."""
    rng = random.Random(7)
    trees = [random_tree(rng, depth, binary=binary, labelled=labelled) for depth in range(7)]
    trees += [TreeNode(token="a")]  # a one-node tree
    batch = batch_trees(trees, VOCAB)
    assert len(batch.levels) >= 5  # trees of several heights
    arities = set((batch.children >= 0).sum(1).tolist())
    assert arities == {0, 2} if binary else len(arities) >= 4  # padding is exercised
    layer = TreeLayer(make_cell())
    x = torch.randn(batch.num_nodes, layer.cell.input_size, requires_grad=True)
    fast, slow = layer(x, batch), layer.forward_node_by_node(x, batch)
    for field_fast, field_slow in zip(fast, slow, strict=True):
        torch.testing.assert_close(field_fast, field_slow, rtol=0, atol=1e-12)
    weights = torch.randn(len(batch.roots), layer.cell.hidden_size)
    gradients = []
    for states in (fast, slow):
        loss = (root_states(states, batch) * weights).sum() + states.hidden.pow(2).sum()
        gradients.append(torch.autograd.grad(loss, [x, *layer.parameters()]))
    for grad_fast, grad_slow in zip(*gradients, strict=True):
        torch.testing.assert_close(grad_fast, grad_slow, rtol=0, atol=1e-10)


def test_level_by_level_differs_when_a_child_is_moved(float64: torch.dtype) -> None:
    """The batched path reads each node's own children: swapping two subtrees changes roots."""
    layer = TreeLayer(BinaryTreeLSTMCell(3, 4))
    one = parse_bracketed("((a b) (c (d e)))")
    two = parse_bracketed("((c (d e)) (a b))")
    batch = batch_trees([one, two], VOCAB)
    x = torch.randn(len(VOCAB), 3)[batch.token_ids.clamp(min=0)] * batch.has_token[:, None]
    roots = root_states(layer(x, batch), batch)
    assert not torch.allclose(roots[0], roots[1])


def test_layer_gradcheck(float64: torch.dtype) -> None:
    rng = random.Random(3)
    trees = [random_tree(rng, 2, binary=False, labelled=True) for _ in range(3)]
    batch = batch_trees(trees, VOCAB)
    layer = TreeLayer(ChildSumTreeLSTMCell(2, 3))
    x = torch.randn(batch.num_nodes, 2, requires_grad=True)
    assert len(batch.levels) == 3
    assert torch.autograd.gradcheck(lambda x: tuple(layer(x, batch)), (x,))

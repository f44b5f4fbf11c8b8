"""ListOps generator: follows the grammar, labels agree with an independent evaluator, seeded."""

from __future__ import annotations

import pytest
import torch

from rnnkit.datasets.trees import (
    END,
    OPERATORS,
    VOCAB,
    ListOpsConfig,
    collate_sequences,
    collate_trees,
    generate_listops,
)
from rnnkit.errors import ConfigError, DataError
from rnnkit.layers.tree import TreeNode


def value_of_tokens(tokens: list[str]) -> int:
    """Evaluate prefix tokens with a stack, written apart from the generator's evaluator."""
    stack: list[list] = []
    result = None
    for token in tokens:
        if token in OPERATORS:
            stack.append([token])
            continue
        if token == END:
            op, *args = stack.pop()
            ordered = sorted(args)
            middle = len(ordered) // 2
            median = (
                ordered[middle]
                if len(ordered) % 2
                else (ordered[middle - 1] + ordered[middle]) // 2
            )
            value = {"[MIN": min(args), "[MAX": max(args), "[MED": median}.get(op)
            value = sum(args) % 10 if op == "[SM" else value
        else:
            value = int(token)
        if stack:
            stack[-1].append(value)
        else:
            result = value
    assert not stack
    return result


def check_grammar(tokens: list[str], config: ListOpsConfig) -> tuple[int, int]:
    """Parse expr := digit | op expr{2..max_args} ]; return (op depth, position after)."""

    def expr(position: int, depth: int) -> tuple[int, int]:
        token = tokens[position]
        if token.isdigit():
            assert len(token) == 1
            return 0, position + 1
        assert token in OPERATORS, token
        assert depth < config.max_depth  # at max_depth every argument is a digit
        position, count, deepest = position + 1, 0, 0
        while tokens[position] != END:
            sub, position = expr(position, depth + 1)
            deepest, count = max(deepest, sub), count + 1
        assert 2 <= count <= config.max_args
        return deepest + 1, position + 1

    assert tokens[0] in OPERATORS  # the root is an op
    depth, end = expr(0, 1)
    assert end == len(tokens)
    return depth, end


def leaves(tree: TreeNode) -> list[str]:
    if not tree.children:
        return [tree.token]
    return [token for child in tree.children for token in leaves(child)]


def prefix(tree: TreeNode) -> list[str]:
    if not tree.children:
        return [tree.token]
    return [tree.token, *(t for child in tree.children for t in prefix(child)), END]


@pytest.mark.parametrize(
    "config",
    [
        ListOpsConfig(num_train=400, num_test=100, seed=3),  # the paper's constants
        ListOpsConfig(num_train=400, num_test=100, seed=4, value_p=0.9, max_depth=3),
    ],
)
def test_examples_follow_the_grammar_and_their_labels(config: ListOpsConfig) -> None:
    train, test = generate_listops(config)
    for example in train + test:
        tokens = list(example.tokens)
        depth, _ = check_grammar(tokens, config)
        assert example.depth == depth
        assert example.label == value_of_tokens(tokens)
        assert leaves(example.binary) == tokens  # the binarisation keeps every token in order
        assert prefix(example.tree) == tokens
        assert all(len(node.children) in (0, 2) for node in _nodes(example.binary))
    assert {example.label for example in train} == set(range(10))
    if config.max_depth == 3:  # with value_p = 0.9 the cap is reached, and never passed
        assert max(example.depth for example in train) == 2


def _nodes(tree: TreeNode) -> list[TreeNode]:
    return [tree, *(node for child in tree.children for node in _nodes(child))]


def test_median_and_sum_mod_by_hand() -> None:
    assert value_of_tokens(["[MED", "1", "4", "]"]) == 2  # int(2.5), as int(np.median)
    assert value_of_tokens(["[SM", "9", "8", "[MAX", "1", "7", "]", "]"]) == 4


def test_seeded_and_disjoint_splits() -> None:
    config = ListOpsConfig(num_train=300, num_test=50, seed=11)
    train, test = generate_listops(config)
    again, _ = generate_listops(config)
    other, _ = generate_listops(ListOpsConfig(num_train=300, num_test=50, seed=12))
    assert [e.tokens for e in train] == [e.tokens for e in again]
    assert [e.tokens for e in train] != [e.tokens for e in other]
    assert (len(train), len(test)) == (300, 50)
    assert not {e.tokens for e in train} & {e.tokens for e in test}
    assert len({e.tokens for e in train}) == 300


def test_argument_is_an_op_with_probability_value_p() -> None:
    """Below max_depth an argument is an op with probability VALUE_P = 0.25 (the paper's)."""
    train, _ = generate_listops(ListOpsConfig(num_train=1500, num_test=0, seed=5))
    ops = arguments = 0
    for example in train:
        for node in _nodes(example.tree):
            arguments += len(node.children)
            ops += sum(1 for child in node.children if child.children)
    assert ops / arguments == pytest.approx(0.25, abs=0.02)  # dedup skews it slightly


def test_max_tokens_and_config_errors() -> None:
    train, _ = generate_listops(ListOpsConfig(num_train=200, num_test=0, max_tokens=12))
    assert max(len(e.tokens) for e in train) <= 12
    with pytest.raises(ConfigError):
        ListOpsConfig(value_p=1.5)
    with pytest.raises(ConfigError):
        ListOpsConfig(max_args=1)
    with pytest.raises(DataError, match="distinct"):
        generate_listops(ListOpsConfig(num_train=500, num_test=0, max_tokens=4, max_args=2))


def test_collate_views() -> None:
    train, _ = generate_listops(ListOpsConfig(num_train=5, num_test=0, seed=1))
    token_ids, lengths, labels = collate_sequences(train)
    assert token_ids.shape == (5, int(lengths.max()))
    assert labels.tolist() == [e.label for e in train]
    assert token_ids[0, : lengths[0]].tolist() == [VOCAB[t] for t in train[0].tokens]
    for view in ("tree", "binary"):
        batch, tree_labels = collate_trees(train, view)
        assert torch.equal(tree_labels, labels)
        assert len(batch.roots) == 5
    binary, _ = collate_trees(train, "binary")
    assert int(binary.has_token.sum()) == int(lengths.sum())  # one leaf per token

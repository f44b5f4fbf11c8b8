"""models/tree_classifier.py: shapes, the root-only readout, level path == node path, bad config."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnnkit.datasets.trees import NUM_CLASSES, VOCAB, ListOpsConfig, collate_trees, generate_listops
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.tree import root_states
from rnnkit.models.tree_classifier import TreeClassifier, TreeClassifierConfig

CELLS = ["child_sum", "binary", "recursive"]
VIEW = {"child_sum": "tree", "binary": "binary", "recursive": "binary"}


def _examples(count: int = 6) -> list:
    train, _ = generate_listops(ListOpsConfig(num_train=count, num_test=1, seed=3, max_tokens=40))
    return train


def _model(cell: str, hidden_size: int = 6) -> TreeClassifier:
    embed_dim = hidden_size if cell == "recursive" else 5
    config = TreeClassifierConfig(
        vocab_size=len(VOCAB), num_classes=NUM_CLASSES, cell=cell, embed_dim=embed_dim,
        hidden_size=hidden_size,
    )  # fmt: skip
    return TreeClassifier(config)


@pytest.mark.parametrize("cell", CELLS)
def test_logits_shape_and_parameter_count(cell: str) -> None:
    examples = _examples()
    batch, labels = collate_trees(examples, VIEW[cell])
    model = _model(cell)
    assert model(batch).shape == (len(examples), NUM_CLASSES)  # (B, C)
    assert labels.shape == (len(examples),)
    assert sum(p.numel() for p in model.parameters()) == model.config.parameter_count()


@pytest.mark.parametrize("cell", CELLS)
def test_logits_read_the_root_only(float64: torch.dtype, cell: str) -> None:
    """ŷ = W h_root + b: the same as the layer's root states through the output layer, and each
    tree's logits are those it gets alone (no other tree or node leaks into its root)."""
    examples = _examples()
    batch, labels = collate_trees(examples, VIEW[cell])
    model = _model(cell)
    states = model.tree(model.node_inputs(batch), batch)
    expected = model.output(root_states(states, batch))  # (B, C)
    logits = model(batch)
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-12)
    for b, example in enumerate(examples):
        alone, _ = collate_trees([example], VIEW[cell])
        torch.testing.assert_close(model(alone)[0], logits[b], rtol=0, atol=1e-12)
    # the loss at the roots reaches the embedding of every token in the trees, and no other row
    F.cross_entropy(logits, labels).backward()
    used = set(batch.token_ids[batch.has_token].tolist())
    reached = set(torch.nonzero(model.embedding.weight.grad.abs().sum(1)).flatten().tolist())
    assert reached == used


@pytest.mark.parametrize("cell", CELLS)
def test_node_by_node_equals_level_by_level(float64: torch.dtype, cell: str) -> None:
    batch, labels = collate_trees(_examples(), VIEW[cell])
    model = _model(cell)
    gradients, outputs = [], []
    for node_by_node in (False, True):
        logits = model(batch, node_by_node=node_by_node)
        outputs.append(logits)
        loss = F.cross_entropy(logits, labels)
        gradients.append(torch.autograd.grad(loss, list(model.parameters())))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=1e-12)
    for fast, slow in zip(*gradients, strict=True):
        torch.testing.assert_close(fast, slow, rtol=0, atol=1e-10)


def test_binary_cell_rejects_n_ary_trees() -> None:
    batch, _ = collate_trees(_examples(), "tree")  # ops with 2 to 5 arguments
    with pytest.raises(ShapeError, match="Binarise the trees"):
        _model("binary")(batch)


@pytest.mark.parametrize(
    ("values", "match"),
    [({"vocab_size": 0}, "vocab_size"), ({"hidden_size": 0}, "hidden_size"),
     ({"num_classes": 1}, "num_classes"), ({"cell": "gru"}, "cell must be"),
     ({"cell": "recursive", "embed_dim": 4, "hidden_size": 8}, "embed_dim == hidden_size"),
     ({"pad_id": 16}, "pad_id")],
)  # fmt: skip
def test_bad_config_is_a_config_error(values: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        TreeClassifierConfig(**{"vocab_size": len(VOCAB), **values})

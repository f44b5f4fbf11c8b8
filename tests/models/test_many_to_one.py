"""SequenceClassifier: padding never changes a prediction, pooling over real steps, learning."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.many_to_one import (
    SequenceClassifier,
    SequenceClassifierConfig,
    hashing_table,
    pool_states,
)
from rnnkit.text.vocab import PAD, UNK, Vocab

V = 20


pytestmark = pytest.mark.usefixtures("one_thread")


def _model(**overrides: object) -> SequenceClassifier:
    options = {"vocab_size": V, "embed_dim": 6, "hidden_size": 5, "num_classes": 3, **overrides}
    return SequenceClassifier(SequenceClassifierConfig(**options)).eval()


def _alone_and_padded(model: SequenceClassifier) -> tuple[torch.Tensor, torch.Tensor]:
    """Probabilities of one text alone (B=1, T=4) and inside a batch padded to T=9."""
    text = torch.tensor([3, 7, 11, 5])
    alone = model.predict_proba(text[None], torch.tensor([4]))  # (1, C)
    batch = torch.zeros(3, 9, dtype=torch.long)  # <pad> = 0 everywhere past a length
    batch[0] = torch.arange(2, 11)
    batch[1, :4] = text
    batch[2, :6] = torch.tensor([9, 9, 8, 4, 2, 13])
    padded = model.predict_proba(batch, torch.tensor([9, 4, 6]))  # (3, C)
    return alone[0], padded[1]


@pytest.mark.parametrize(
    ("cell", "bidirectional", "pooling"),
    list(itertools.product(("rnn", "lstm", "gru"), (False, True), ("last", "mean", "max"))),
)
def test_padding_never_changes_a_prediction(cell: str, bidirectional: bool, pooling: str) -> None:
    model = _model(cell=cell, bidirectional=bidirectional, pooling=pooling, num_layers=2)
    alone, padded = _alone_and_padded(model)
    assert torch.allclose(alone, padded, atol=1e-6, rtol=0)
    assert float(alone.sum()) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("representation", ["onehot", "hashing"])
def test_padding_never_changes_a_prediction_with_other_inputs(representation: str) -> None:
    vocab = Vocab([f"w{i}ord" for i in range(V - 2)], specials=(PAD, UNK))
    table, buckets = hashing_table(vocab)
    model = SequenceClassifier(
        SequenceClassifierConfig(
            vocab_size=V, embed_dim=6, hidden_size=5, representation=representation,
            hash_buckets=buckets, hash_width=table.shape[1], bidirectional=True,
        ),
        ngram_table=table,
    ).eval()  # fmt: skip
    alone, padded = _alone_and_padded(model)
    assert torch.allclose(alone, padded, atol=1e-6, rtol=0)


def test_hashing_sums_the_ngram_rows_of_each_word() -> None:
    vocab = Vocab(["good", "goody"], specials=(PAD, UNK))
    table, buckets = hashing_table(vocab)
    config = SequenceClassifierConfig(
        vocab_size=len(vocab), embed_dim=3, representation="hashing",
        hash_buckets=buckets, hash_width=table.shape[1],
    )  # fmt: skip
    model = SequenceClassifier(config, ngram_table=table)
    x = model.represent(torch.tensor([[2, 3]]))  # good, goody: (1, 2, 3)
    grams = model.ngrams.weight
    good = grams[table[2][table[2] < buckets]].sum(0)  # #go goo ood od#
    assert torch.allclose(x[0, 0], good)
    assert int((table[2] < buckets).sum()) == 4
    assert int((table[3] < buckets).sum()) == 5  # #go goo ood ody dy#
    assert torch.equal(table[2, :3], table[3, :3])  # shared #go goo ood


def test_last_pooling_of_a_bidirectional_layer_equals_its_final_states() -> None:
    model = _model(cell="gru", bidirectional=True, pooling="last")
    token_ids = torch.tensor([[4, 5, 6, 7, 0], [8, 9, 0, 0, 0]])
    lengths = torch.tensor([4, 2])
    x = model.represent(token_ids)
    outputs, h_n = model.recurrent(x, lengths=lengths)  # h_n (D, B, H)
    pooled = pool_states(outputs, lengths, "last", bidirectional=True)
    assert torch.allclose(pooled, torch.cat([h_n[0], h_n[1]], dim=-1), atol=1e-6)


def test_max_and_mean_pooling_ignore_padding() -> None:
    outputs = torch.tensor([[[-3.0], [-1.0], [0.0]], [[-2.0], [5.0], [0.0]]])  # (B, T, 1)
    lengths = torch.tensor([2, 3])
    assert pool_states(outputs, lengths, "max").flatten().tolist() == [-1.0, 5.0]
    assert pool_states(outputs, lengths, "mean").flatten().tolist() == [-2.0, 1.0]
    with pytest.raises(ConfigError, match="pooling"):
        pool_states(outputs, lengths, "median")


def test_pretrained_vectors_are_copied_and_can_be_frozen() -> None:
    model = _model()
    vectors = torch.randn(V, 6)
    model.load_pretrained(vectors, freeze=True)
    assert torch.equal(model.embedding.weight[1:], vectors[1:])
    assert torch.equal(model.embedding.weight[0], torch.zeros(6))  # <pad> stays zero
    assert not model.embedding.weight.requires_grad
    with pytest.raises(ShapeError, match="got"):
        model.load_pretrained(torch.randn(V, 7))


def test_bad_input_is_refused() -> None:
    model = _model()
    with pytest.raises(ShapeError, match="int64"):
        model(torch.zeros(2, 3), torch.tensor([3, 3]))
    with pytest.raises(ShapeError, match="lie in"):
        model(torch.full((1, 3), V), torch.tensor([3]))
    with pytest.raises(ShapeError, match="lengths"):
        model(torch.ones(2, 3, dtype=torch.long), torch.tensor([4, 1]))
    with pytest.raises(ConfigError, match="hashing"):
        SequenceClassifierConfig(vocab_size=V, representation="hashing")


def test_a_tiny_classifier_learns_a_separable_task() -> None:
    """Class 1 iff token 3 occurs anywhere in a text of 3 to 12 tokens."""
    generator = torch.Generator().manual_seed(0)
    N, T = 128, 12
    lengths = torch.randint(3, T + 1, (N,), generator=generator)
    token_ids = torch.randint(4, V, (N, T), generator=generator)
    labels = torch.randint(0, 2, (N,), generator=generator)
    for n in range(N):
        if labels[n]:
            token_ids[n, torch.randint(0, int(lengths[n]), (1,), generator=generator)] = 3
        token_ids[n, int(lengths[n]) :] = 0
    model = SequenceClassifier(
        SequenceClassifierConfig(vocab_size=V, embed_dim=8, hidden_size=16, cell="gru")
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
    for step in range(60):
        rows = torch.arange(step * 32, step * 32 + 32) % N
        loss = torch.nn.functional.cross_entropy(
            model(token_ids[rows], lengths[rows]), labels[rows]
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    predicted = model.predict_proba(token_ids, lengths).argmax(-1)
    assert float((predicted == labels).double().mean()) >= 0.99

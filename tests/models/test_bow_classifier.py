"""BowClassifier: its tf-idf equals represent.bow's, padding is not counted, it learns."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.models.bow_classifier import BowClassifier, BowClassifierConfig
from rnnkit.represent.bow import BagOfWords
from rnnkit.text.batching import pad_sequences
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import PAD, UNK, Vocab

DOCUMENTS = ["a fine fine film", "a dull film", "dull dull dull plot", "fine plot twist"]


pytestmark = pytest.mark.usefixtures("one_thread")


def _vocab() -> Vocab:
    return Vocab.build_from_iterator(DOCUMENTS, Tokenizer(kind="word"), specials=(PAD, UNK))


@pytest.mark.parametrize("sublinear", [False, True])
def test_features_equal_bag_of_words_tfidf(sublinear: bool) -> None:
    vocab = _vocab()
    ids = [vocab.encode(document) for document in DOCUMENTS]
    model = BowClassifier(BowClassifierConfig(vocab_size=len(vocab), sublinear=sublinear))
    model.fit_idf(ids)
    reference = BagOfWords(vocab, mode="tfidf", norm="l2", sublinear=sublinear).fit(DOCUMENTS)
    token_ids, lengths = pad_sequences(ids, pad_id=0)  # (4, T)
    features = model.features(token_ids, lengths)  # (4, V)
    expected = reference.transform_batch(DOCUMENTS)
    assert torch.allclose(features, expected, atol=1e-6)


def test_padding_is_not_counted() -> None:
    vocab = _vocab()
    model = BowClassifier(BowClassifierConfig(vocab_size=len(vocab)))
    model.fit_idf([vocab.encode(document) for document in DOCUMENTS])
    text = vocab.encode("a dull film")
    alone = model.features(text[None], torch.tensor([3]))
    padded = model.features(
        torch.cat([text, torch.zeros(5, dtype=torch.long)])[None], torch.tensor([3])
    )
    assert torch.equal(alone, padded)
    assert float(padded[0, 0]) == 0.0  # the <pad> column stays empty


def test_logistic_regression_separates_a_separable_task() -> None:
    generator = torch.Generator().manual_seed(0)
    V, N, T = 30, 200, 8
    token_ids = torch.randint(2, V, (N, T), generator=generator)
    labels = (token_ids < 16).sum(1).gt(T // 2).long()  # more low ids than high ones
    lengths = torch.full((N,), T)
    model = BowClassifier(BowClassifierConfig(vocab_size=V, sublinear=False))
    model.fit_idf(list(token_ids))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.2)
    for _ in range(150):
        loss = torch.nn.functional.cross_entropy(model(token_ids, lengths), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    accuracy = (model.predict_proba(token_ids, lengths).argmax(-1) == labels).double().mean()
    assert float(accuracy) >= 0.98


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ConfigError, match="num_classes"):
        BowClassifierConfig(vocab_size=5, num_classes=1)
    model = BowClassifier(BowClassifierConfig(vocab_size=5))
    with pytest.raises(DataError, match="at least one"):
        model.fit_idf([])
    with pytest.raises(ShapeError, match="lie in"):
        model(torch.tensor([[7]]), torch.tensor([1]))

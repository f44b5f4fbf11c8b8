"""SequenceTagger: shapes, padding never changes a sentence's scores or tags, char features."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.tagger import SequenceTagger, SequenceTaggerConfig

TAGS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")


pytestmark = pytest.mark.usefixtures("one_thread")


def _batch(pad_to: int) -> tuple[torch.Tensor, ...]:
    """Two sentences (lengths 4 and 2) padded to `pad_to` words, each word 1–3 characters."""
    token_ids = torch.zeros(2, pad_to, dtype=torch.int64)
    token_ids[0, :4] = torch.tensor([3, 4, 5, 6])
    token_ids[1, :2] = torch.tensor([7, 8])
    char_lengths = torch.zeros(2, pad_to, dtype=torch.int64)
    char_lengths[0, :4] = torch.tensor([3, 1, 2, 3])
    char_lengths[1, :2] = torch.tensor([2, 1])
    char_ids = torch.zeros(2, pad_to, 3 + pad_to, dtype=torch.int64)  # extra char padding too
    for b in range(2):
        for t in range(pad_to):
            n = int(char_lengths[b, t])
            char_ids[b, t, :n] = torch.arange(2, 2 + n) + t
    return token_ids, torch.tensor([4, 2]), char_ids, char_lengths


@pytest.mark.parametrize(("crf", "chars"), [(True, True), (False, False), (True, False)])
def test_padding_never_changes_scores_or_tags(float64: torch.dtype, crf: bool, chars: bool):
    config = SequenceTaggerConfig(vocab_size=10, tags=TAGS, embed_dim=6, hidden_size=5,
                                  char_vocab_size=12 if chars else 0, char_embed_dim=3,
                                  char_hidden_size=4, num_layers=2, crf=crf)  # fmt: skip
    tagger = SequenceTagger(config).eval()
    short, long = _batch(4), _batch(7)
    scores = tagger(*short)
    assert scores.shape == (2, 4, 5)
    assert torch.allclose(tagger(*long)[:, :4][0], scores[0], atol=1e-12)
    assert torch.allclose(tagger(*long)[1, :2], scores[1, :2], atol=1e-12)
    alone = [t[1:] for t in short]  # the second sentence in a batch of its own, unpadded
    alone[0], alone[2], alone[3] = alone[0][:, :2], alone[2][:, :2, :2], alone[3][:, :2]
    assert torch.allclose(tagger(*alone)[0], scores[1, :2], atol=1e-12)
    paths = tagger.decode(*short)
    assert [len(p) for p in paths] == [4, 2]
    assert tagger.decode(*long) == paths
    tags = torch.randint(0, 5, (2, 7))
    loss_long = tagger.loss(tagger(*long), tags, long[1])
    assert torch.allclose(loss_long, tagger.loss(scores, tags[:, :4], short[1]), atol=1e-12)


def test_char_features_matter_and_training_reduces_loss():
    config = SequenceTaggerConfig(vocab_size=10, tags=TAGS, embed_dim=6, hidden_size=8,
                                  char_vocab_size=12, dropout=0.0)  # fmt: skip
    tagger = SequenceTagger(config)
    token_ids, lengths, char_ids, char_lengths = _batch(4)
    changed = char_ids.clone()
    changed[0, 0, 0] = 11
    assert not torch.allclose(tagger(token_ids, lengths, changed, char_lengths)[0, 0],
                              tagger(token_ids, lengths, char_ids, char_lengths)[0, 0])  # fmt: skip
    tags = torch.tensor([[1, 2, 0, 3], [3, 4, 0, 0]])
    optimizer = torch.optim.Adam(tagger.parameters(), lr=0.05)
    first = None
    for _ in range(30):
        loss = tagger.loss(tagger(token_ids, lengths, char_ids, char_lengths), tags, lengths)
        first = float(loss.detach()) if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < first / 4
    assert tagger.eval().decode(token_ids, lengths, char_ids, char_lengths) == [
        [1, 2, 0, 3],
        [3, 4],
    ]


def test_bad_input_and_config():
    tagger = SequenceTagger(SequenceTaggerConfig(vocab_size=10, tags=TAGS, char_vocab_size=5))
    with pytest.raises(ShapeError, match="char_ids"):
        tagger(torch.tensor([[1, 2]]), torch.tensor([2]))
    with pytest.raises(ShapeError, match="got"):
        tagger(torch.tensor([1, 2]), torch.tensor([2]))
    with pytest.raises(ConfigError, match="distinct"):
        SequenceTaggerConfig(vocab_size=10, tags=("O", "O"))
    with pytest.raises(ShapeError, match="pretrained"):
        tagger.load_pretrained(torch.zeros(3, 3))

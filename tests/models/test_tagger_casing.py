"""Casing classes of the sequence tagger (`SequenceTaggerConfig(casing=True)`)."""

from __future__ import annotations

import string

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.configs.tagger import NUM_CASINGS, SequenceTaggerConfig
from rnnkit.models.tagger import CASINGS, SequenceTagger, word_casing

CHARS = ["<pad>", "<unk>", *string.ascii_letters, *string.digits, *"@#:/.-'"]


@pytest.mark.parametrize(
    ("word", "casing"),
    [
        ("paris", "lower"),
        ("don't", "lower"),
        ("Paris", "initial_upper"),
        ("NASA", "upper"),
        ("I", "upper"),
        ("iPhone", "other"),
        (",", "other"),
        ("2017", "numeric"),
        ("1.5", "numeric"),
        ("3pm", "has_digit"),
        ("@bob", "mention"),
        ("#nlp", "hashtag"),
        ("@", "other"),  # the mark alone is not a mention
        ("http://t.co/x", "url"),
        ("", "<pad>"),
    ],
)
def test_word_casing(word: str, casing: str) -> None:
    assert word_casing(word) == casing


def _config(**changes: object) -> SequenceTaggerConfig:
    settings = dict(vocab_size=12, tags=("O", "B-X", "I-X"), embed_dim=6, hidden_size=5,
                    char_vocab_size=len(CHARS), char_embed_dim=4, char_hidden_size=3,
                    casing=True, crf=False)  # fmt: skip
    return SequenceTaggerConfig(**{**settings, **changes})


def _encode(words: list[str], width: int) -> torch.Tensor:
    ids = [[CHARS.index(c) for c in word] + [0] * (width - len(word)) for word in words]
    return torch.tensor(ids)  # (T, W)


def test_casing_of_char_ids_matches_word_casing() -> None:
    tagger = SequenceTagger(_config())
    tagger.set_char_vocabulary(CHARS)
    words = ["Paris", "NASA", "don't", "3pm", "@bob", "#nlp", "http://t.co/x", "2017", "-", "iPh"]
    char_ids = torch.stack([_encode(words, 13), _encode(words[::-1], 13)])  # (2, 10, 13)
    char_ids[1, 7:] = 0  # three padded words in the second sentence
    onehot = tagger.casing(char_ids)  # (2, 10, NUM_CASINGS)
    assert onehot.shape == (2, 10, NUM_CASINGS) == (2, 10, len(CASINGS))
    names = [[CASINGS[int(i)] for i in row] for row in onehot.argmax(-1)]
    assert names[0] == [word_casing(w) for w in words]
    assert names[1] == [word_casing(w) for w in words[::-1][:7]] + ["<pad>"] * 3
    assert names[0][:5] == ["initial_upper", "upper", "lower", "has_digit", "mention"]


def test_casing_feeds_the_bilstm_and_changes_the_scores() -> None:
    config = _config()
    assert config.input_size == 6 + 2 * 3 + NUM_CASINGS
    tagger = SequenceTagger(config)
    tagger.set_char_vocabulary(CHARS)
    tagger.eval()
    token_ids, lengths = torch.tensor([[4, 5]]), torch.tensor([2])
    lower = _encode(["paris", "nasa"], 5).unsqueeze(0)  # (1, 2, 5)
    upper = _encode(["Paris", "NASA"], 5).unsqueeze(0)
    char_lengths = torch.tensor([[5, 4]])
    # same word ids; only the casing input differs once the char features are zeroed
    torch.nn.init.zeros_(tagger.chars.embedding.weight)
    a = tagger(token_ids, lengths, lower, char_lengths)
    b = tagger(token_ids, lengths, upper, char_lengths)
    assert a.shape == (1, 2, 3)
    assert not torch.allclose(a, b)
    tagger.train()
    loss = tagger.loss(tagger(token_ids, lengths, upper, char_lengths), torch.tensor([[1, 2]]),
                       lengths)  # fmt: skip
    loss.backward()
    assert loss.isfinite()
    assert tagger.output.weight.grad is not None


def test_char_classes_are_saved_with_the_weights() -> None:
    tagger = SequenceTagger(_config())
    tagger.set_char_vocabulary(CHARS)
    other = SequenceTagger(_config())
    other.load_state_dict(tagger.state_dict())
    char_ids = _encode(["Paris", "2017"], 5).unsqueeze(0)
    assert torch.equal(other.casing(char_ids), tagger.casing(char_ids))


def test_casing_errors() -> None:
    with pytest.raises(ConfigError, match="needs char features"):
        _config(char_vocab_size=0)
    tagger = SequenceTagger(_config())
    char_ids = _encode(["Paris"], 5).unsqueeze(0)
    with pytest.raises(ConfigError, match="set_char_vocabulary"):
        tagger(torch.tensor([[4]]), torch.tensor([1]), char_ids, torch.tensor([[5]]))
    with pytest.raises(ShapeError, match="char vocabulary"):
        tagger.set_char_vocabulary(CHARS[:-1])
    plain = SequenceTagger(_config(casing=False))
    with pytest.raises(ConfigError, match="casing=True"):
        plain.set_char_vocabulary(CHARS)
    assert plain.config.input_size == 6 + 2 * 3

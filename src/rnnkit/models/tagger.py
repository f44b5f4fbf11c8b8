"""Sequence tagger: a tag per word from a BiLSTM over word (and character) features, softmax or CRF.

    x_t = [E[w_t] ; c_t ; k_t]                         word embedding, optional char features
    c_t = [c→_t ; c←_t]                                final states of a char BiLSTM over w_t
    k_t = onehot(casing(w_t))                          optional casing class (`casing=True`)
    h_t = [h→_t ; h←_t] = BiLSTM(x_1 … x_n)_t          stacked, over the real words only
    P_t = W h_t + b                                    scores of the C tags at word t, (C,)
    softmax:  p(y_t | x) = softmax(P_t)[y_t],  L = −(1/N) Σ_t log p(y_t | x)
    CRF:      L = (1/N) Σ_sentences (log Z(x) − s(x, y))   (`rnnkit.models.crf`)

where N counts the real words of the batch. The character BiLSTM reads the letters of each word,
so an unseen word (Hermione) still gets features from its spelling and capitals (Lample et al.
2016); the word table can start from pretrained word2vec vectors (`load_pretrained`).

Casing (`SequenceTaggerConfig(casing=True)`): a one-hot class of each word's spelling, read from
its character ids (`set_char_vocabulary` gives the class of each character id): numeric, all
lower, all upper, initial capital, has a digit, @mention, #hashtag, URL (contains ":" and "/"),
other (`CASINGS`; `word_casing` is the same rule on a string). Pretrained word vectors are
uncased (GloVe 6B), so this gives back what lower-casing removed; orthographic features of this
kind help NER on tweets (Limsopatham & Collier, W-NUT 2016) and casing classes of this list
are those of Reimers & Gurevych (EMNLP 2017), plus the Twitter ones.

References:
    Huang, Xu, Yu. Bidirectional LSTM-CRF Models for Sequence Tagging. arXiv:1508.01991, 2015.
    Lample, Ballesteros, Subramanian, Kawakami, Dyer. Neural Architectures for Named Entity
        Recognition. NAACL 2016. https://arxiv.org/abs/1603.01360
    Limsopatham, Collier. Bidirectional LSTM for Named Entity Recognition in Twitter Messages.
        W-NUT 2016. https://aclanthology.org/W16-3920/
    Reimers, Gurevych. Reporting Score Distributions Makes a Difference: Performance Study of
        LSTM-networks for Sequence Tagging. EMNLP 2017 (the casing classes).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import LSTM
from rnnkit.layers.lengths import check_lengths, lengths_mask
from rnnkit.models.configs.tagger import (  # torch-free: a task config nests it
    NUM_CASINGS,
    SequenceTaggerConfig,
)
from rnnkit.models.crf import CRF
from rnnkit.represent.embedding import copy_pretrained
from rnnkit.text.tags import allowed_transitions

# casing classes of a word, k_t = onehot(index); 0 is a padded word
CASINGS = ("<pad>", "other", "numeric", "lower", "upper", "initial_upper", "has_digit",
           "mention", "hashtag", "url")  # fmt: skip
assert len(CASINGS) == NUM_CASINGS
# classes of one character, what the casing rule reads (0: padding, 1: anything else)
_PAD, _OTHER, _LOWER, _UPPER, _DIGIT, _AT, _HASH, _SLASH, _COLON = range(9)
_MARKS = {"@": _AT, "#": _HASH, "/": _SLASH, ":": _COLON}


def char_class(char: str) -> int:
    """The class of one character: lower, upper, digit, @, #, /, : or other."""
    if char in _MARKS:
        return _MARKS[char]
    if char.isdigit():
        return _DIGIT
    if char.islower():
        return _LOWER
    return _UPPER if char.isupper() else _OTHER


def _casing_of_classes(classes: Tensor) -> Tensor:
    """Casing index (`CASINGS`) of words given as char classes (..., W) -> (...) int64.

    The first rule that holds: padding (no characters), @mention and #hashtag (the mark, then
    more), URL (":" and "/"), numeric (digits, no letters), has_digit, lower (letters, none
    upper), upper (letters, none lower), initial_upper, other.
    """

    def count(kind: int) -> Tensor:  # characters of one class per word, (..., W) -> (...)
        return (classes == kind).sum(-1)

    real = (classes != _PAD).sum(-1)
    lower, upper, digit = count(_LOWER), count(_UPPER), count(_DIGIT)
    first = classes[..., 0]
    letters = lower + upper
    rules = [  # (condition, casing), first match wins: applied in reverse below
        (real == 0, 0),
        ((first == _AT) & (real > 1), CASINGS.index("mention")),
        ((first == _HASH) & (real > 1), CASINGS.index("hashtag")),
        ((count(_COLON) > 0) & (count(_SLASH) > 0), CASINGS.index("url")),
        ((digit > 0) & (letters == 0), CASINGS.index("numeric")),
        (digit > 0, CASINGS.index("has_digit")),
        ((letters > 0) & (upper == 0), CASINGS.index("lower")),
        ((letters > 0) & (lower == 0), CASINGS.index("upper")),
        (first == _UPPER, CASINGS.index("initial_upper")),
    ]
    casing = torch.full_like(real, CASINGS.index("other"))
    for condition, index in reversed(rules):
        casing = torch.where(condition, torch.full_like(casing, index), casing)
    return casing


def word_casing(word: str) -> str:
    """The casing class (a name of `CASINGS`) of a word, the rule the tagger applies to ids.

    >>> [word_casing(w) for w in ("Paris", "NASA", "iPhone", "3pm", "2017", "@bob", "#nlp")]
    ['initial_upper', 'upper', 'other', 'has_digit', 'numeric', 'mention', 'hashtag']
    """
    classes = torch.tensor([char_class(c) for c in word] or [_PAD])
    return CASINGS[int(_casing_of_classes(classes))]


class CharFeatures(nn.Module):
    """c_t = [c→ ; c←]: a BiLSTM's final states over the characters of each real word.

    Shapes: char_ids (B, T, W) int64, char_lengths (B, T) with 0 on padded words;
    returns (B, T, 2·H_c), zero on padded words.
    """

    def __init__(self, config: SequenceTaggerConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(config.char_vocab_size, config.char_embed_dim, config.pad_id)
        self.lstm = LSTM(
            config.char_embed_dim, config.char_hidden_size, batch_first=True, bidirectional=True
        )

    def forward(self, char_ids: Tensor, char_lengths: Tensor) -> Tensor:
        B, T, _ = char_ids.shape
        real = char_lengths > 0  # (B, T)
        words = char_ids[real]  # (N, W), the real words only
        lengths = char_lengths[real].cpu()  # (N,)
        width = int(lengths.max()) if len(lengths) else 1
        x = self.embedding(words[:, :width])  # (N, W, E_c)
        _, (hidden, _) = self.lstm(x, lengths=lengths)  # h_n (2, N, H_c)
        features = torch.cat([hidden[0], hidden[1]], dim=-1)  # [c→ ; c←], (N, 2H_c)
        out = features.new_zeros(B, T, features.shape[-1])  # (B, T, 2H_c)
        out[real] = features
        return out


class SequenceTagger(nn.Module):
    """Token ids (B, T) and lengths (B,) -> tag scores P (B, T, C); `loss`, `decode`.

    >>> config = SequenceTaggerConfig(vocab_size=10, tags=("O", "B-PER", "I-PER"), hidden_size=4)
    >>> tagger = SequenceTagger(config).eval()
    >>> tagger.decode(torch.tensor([[4, 5, 6], [7, 0, 0]]), torch.tensor([3, 1]))[1].__len__()
    1
    """

    def __init__(self, config: SequenceTaggerConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim, config.pad_id)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        with torch.no_grad():
            self.embedding.weight[config.pad_id] = 0.0
        self.chars = CharFeatures(config) if config.char_vocab_size else None
        if config.casing:  # the class of each char id, from set_char_vocabulary
            table = torch.full((config.char_vocab_size,), _OTHER, dtype=torch.long)
            table[config.pad_id] = _PAD
            self.register_buffer("char_classes", table)
        self.recurrent = LSTM(
            config.input_size, config.hidden_size, num_layers=config.num_layers,
            batch_first=True, bidirectional=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )  # fmt: skip
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(2 * config.hidden_size, len(config.tags))
        self.crf: CRF | None = None
        if config.crf:
            constraints = allowed_transitions(config.tags) if config.constrain else None
            self.crf = CRF(len(config.tags), constraints=constraints)

    def set_char_vocabulary(self, chars: list[str]) -> None:
        """The characters of ids 0 … char_vocab_size − 1, which the casing classes read.

        Entries that are not one character (the specials <pad>, <unk>) count as "other",
        except id pad_id, which is padding. Saved with the weights (a buffer).
        """
        if not self.config.casing:
            raise ConfigError("set_char_vocabulary is for a tagger with casing=True")
        if len(chars) != self.config.char_vocab_size:
            raise ShapeError(
                f"got {len(chars)} characters for a char vocabulary of"
                f" {self.config.char_vocab_size}"
            )
        table = torch.tensor([char_class(c) if len(c) == 1 else _OTHER for c in chars])
        table[self.config.pad_id] = _PAD
        self.char_classes.copy_(table)

    def casing(self, char_ids: Tensor) -> Tensor:
        """k_t: the one-hot casing class of each word. Shapes: (B, T, W) -> (B, T, NUM_CASINGS)."""
        classes = self.char_classes.to(char_ids.device)[char_ids]  # (B, T, W)
        return F.one_hot(_casing_of_classes(classes), NUM_CASINGS)

    def load_pretrained(self, vectors: Tensor, *, freeze: bool = False) -> None:
        """Copy a (V, E) table (word2vec rows aligned to the vocabulary) into E."""
        copy_pretrained(self.embedding.weight, vectors, pad_id=self.config.pad_id, freeze=freeze)

    def forward(
        self,
        token_ids: Tensor,
        lengths: Tensor,
        char_ids: Tensor | None = None,
        char_lengths: Tensor | None = None,
    ) -> Tensor:
        """Emission scores P_t of every word.

        Shapes:
            token_ids (B, T) int64 padded with pad_id; lengths (B,) in [1, T];
            char_ids (B, T, W) int64 and char_lengths (B, T) (0 on padding), with char features;
            returns P (B, T, C).
        """
        if token_ids.ndim != 2 or token_ids.dtype != torch.long:
            raise ShapeError(
                f"token_ids must be (B, T) int64; got {tuple(token_ids.shape)} {token_ids.dtype}"
            )
        B, T = token_ids.shape
        lengths = check_lengths(lengths, batch_size=B, steps=T)
        x = self.embedding(token_ids)  # E[w_t], (B, T, E)
        if self.chars is not None:
            if char_ids is None or char_lengths is None:
                raise ShapeError("this tagger has character features: pass char_ids, char_lengths")
            if tuple(char_ids.shape[:2]) != (B, T) or tuple(char_lengths.shape) != (B, T):
                raise ShapeError(
                    f"char_ids must be (B, T, W) and char_lengths (B, T) with (B, T) = {(B, T)}; "
                    f"got {tuple(char_ids.shape)}, {tuple(char_lengths.shape)}"
                )
            x = torch.cat([x, self.chars(char_ids, char_lengths)], dim=-1)  # (B, T, F)
            if self.config.casing:
                if not bool((self.char_classes > _OTHER).any()):
                    raise ConfigError(
                        "casing=True reads the characters: call set_char_vocabulary(chars) first"
                    )
                x = torch.cat([x, self.casing(char_ids).to(x.dtype)], dim=-1)  # [E ; c ; k]
        outputs, _ = self.recurrent(self.dropout(x), lengths=lengths)  # h_t, (B, T, 2H)
        return self.output(self.dropout(outputs))  # P, (B, T, C)

    def loss(self, scores: Tensor, tags: Tensor, lengths: Tensor) -> Tensor:
        """L per real word: mean token cross-entropy, or Σ CRF NLL / N. Shapes: P (B, T, C)."""
        mask = lengths_mask(lengths, scores.shape[1], device=scores.device)  # (B, T)
        if self.crf is None:
            return F.cross_entropy(scores[mask].float(), tags[mask])
        return self.crf.nll(scores.float(), tags, mask).sum() / mask.sum()

    @torch.no_grad()
    def decode_scores(self, scores: Tensor, lengths: Tensor) -> list[list[int]]:
        """Tag ids of each sentence from P (B, T, C): Viterbi with a CRF, else argmax per word."""
        mask = lengths_mask(lengths, scores.shape[1], device=scores.device)  # (B, T)
        if self.crf is not None:
            return self.crf.decode(scores.float(), mask)
        best = scores.argmax(-1).tolist()  # (B, T)
        return [row[:n] for row, n in zip(best, lengths.tolist(), strict=True)]

    @torch.no_grad()
    def decode(
        self,
        token_ids: Tensor,
        lengths: Tensor,
        char_ids: Tensor | None = None,
        char_lengths: Tensor | None = None,
    ) -> list[list[int]]:
        """The tag ids of each sentence, without padding (call in eval mode)."""
        return self.decode_scores(self(token_ids, lengths, char_ids, char_lengths), lengths)

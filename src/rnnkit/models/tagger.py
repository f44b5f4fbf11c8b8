"""Sequence tagger: a tag per word from a BiLSTM over word (and character) features, softmax or CRF.

    x_t = [E[w_t] ; c_t]                               word embedding, optional char features
    c_t = [c→_t ; c←_t]                                final states of a char BiLSTM over w_t
    h_t = [h→_t ; h←_t] = BiLSTM(x_1 … x_n)_t          stacked, over the real words only
    P_t = W h_t + b                                    scores of the C tags at word t, (C,)
    softmax:  p(y_t | x) = softmax(P_t)[y_t],  L = −(1/N) Σ_t log p(y_t | x)
    CRF:      L = (1/N) Σ_sentences (log Z(x) − s(x, y))   (`rnnkit.models.crf`)

where N counts the real words of the batch. The character BiLSTM reads the letters of each word,
so an unseen word (Hermione) still gets features from its spelling and capitals (Lample et al.
2016); the word table can start from pretrained word2vec vectors (`load_pretrained`).

References:
    Huang, Xu, Yu. Bidirectional LSTM-CRF Models for Sequence Tagging. arXiv:1508.01991, 2015.
    Lample, Ballesteros, Subramanian, Kawakami, Dyer. Neural Architectures for Named Entity
        Recognition. NAACL 2016. https://arxiv.org/abs/1603.01360
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import LSTM
from rnnkit.layers.lengths import check_lengths, lengths_mask
from rnnkit.models.crf import CRF
from rnnkit.models.size import check_fits, recurrent_parameters
from rnnkit.represent.embedding import copy_pretrained
from rnnkit.text.tags import allowed_transitions


@dataclass(frozen=True, kw_only=True)
class SequenceTaggerConfig:
    """Word (+ char) features → stacked BiLSTM → linear → softmax or CRF over `tags`."""

    vocab_size: int  # V words
    tags: tuple[str, ...]  # the C tag names, e.g. ("O", "B-PER", "I-PER")
    embed_dim: int = 100  # E
    char_vocab_size: int = 0  # characters; 0: no character features
    char_embed_dim: int = 25  # E_c
    char_hidden_size: int = 25  # H_c per direction
    hidden_size: int = 100  # H per direction
    num_layers: int = 1  # L
    dropout: float = 0.5  # on x_t and on h_t
    crf: bool = True  # CRF layer; False: independent softmax per word
    constrain: bool = True  # CRF: forbid transitions invalid in BIO / BIOES
    pad_id: int = 0  # padding id of words and characters

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embed_dim", "char_embed_dim", "char_hidden_size",
                     "hidden_size", "num_layers"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if len(self.tags) < 1 or len(set(self.tags)) != len(self.tags):
            raise ConfigError(f"tags must be distinct and non-empty, got {list(self.tags)}")
        if self.char_vocab_size < 0:
            raise ConfigError(f"char_vocab_size must be ≥ 0, got {self.char_vocab_size}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        C, H_c = len(self.tags), self.char_hidden_size
        parameters = self.vocab_size * self.embed_dim + self.char_vocab_size * self.char_embed_dim
        if self.char_vocab_size:
            parameters += recurrent_parameters(self.char_embed_dim, H_c, 1, "lstm", 2)
        parameters += recurrent_parameters(self.input_size, self.hidden_size, self.num_layers,
                                           "lstm", 2)  # fmt: skip
        check_fits("this tagger", parameters + C * (2 * self.hidden_size + 1) + C * (C + 2))

    @property
    def input_size(self) -> int:
        """F = E (+ 2·H_c with character features)."""
        return self.embed_dim + (2 * self.char_hidden_size if self.char_vocab_size else 0)


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

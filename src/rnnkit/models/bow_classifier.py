"""Bag-of-words baseline: tf-idf features and (multinomial) logistic regression, as a torch module.

It takes the same batch as `SequenceClassifier` (token ids (B, T) and lengths (B,)), so the same
objective, trainer and `rnnkit predict` serve both; word order is thrown away:

    tf(j, d) = #{ t ≤ len : w_t = j }                 counts of the real steps (padding excluded)
    tf ← 1 + ln tf  for tf > 0                          sublinear tf (Manning et al. 2008, 6.4.1)
    x[j] = tf(j, d) · idf(j),  x ← x / ‖x‖₂             tf-idf as `represent.bow.BagOfWords`
    y = softmax(W x + b)                                logistic regression (C = 2: the sigmoid)

idf(j) = ln((1 + N) / (1 + df(j))) + 1 comes from the N training documents (`fit_idf`) and is
a buffer, so it is saved with the weights. L2 regularisation is the trainer's weight decay.

References:
    Salton & Buckley. Term-weighting approaches in automatic text retrieval. IP&M 24(5), 1988.
    Manning, Raghavan & Schütze. Introduction to Information Retrieval. CUP 2008, ch. 6.
    Wang & Manning. Baselines and Bigrams: Simple, Good Sentiment and Topic Classification.
        ACL 2012 (bag-of-words baselines on these sentiment sets).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.layers.lengths import check_lengths, lengths_mask


@dataclass(frozen=True, kw_only=True)
class BowClassifierConfig:
    """tf-idf over a vocabulary of V words → linear → C logits."""

    vocab_size: int  # V
    num_classes: int = 2  # C
    sublinear: bool = True  # tf ← 1 + ln tf
    pad_id: int = 0  # never counted (it is padding)

    def __post_init__(self) -> None:
        if self.vocab_size < 1:
            raise ConfigError(f"vocab_size must be a positive integer, got {self.vocab_size}")
        if self.num_classes < 2:
            raise ConfigError(f"num_classes must be ≥ 2, got {self.num_classes}")


class BowClassifier(nn.Module):
    """Logistic regression on tf-idf vectors; token ids (B, T), lengths (B,) -> logits (B, C).

    >>> model = BowClassifier(BowClassifierConfig(vocab_size=6))
    >>> model.fit_idf([torch.tensor([2, 3]), torch.tensor([3, 4, 4])])
    >>> x = model.features(torch.tensor([[3, 4, 4], [2, 0, 0]]), torch.tensor([3, 1]))
    >>> x.shape, round(float(x[1].norm()), 4)  # (B, V), rows of unit length
    (torch.Size([2, 6]), 1.0)
    """

    def __init__(self, config: BowClassifierConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("idf", torch.ones(config.vocab_size))  # idf(j), (V,)
        self.output = nn.Linear(config.vocab_size, config.num_classes)
        nn.init.zeros_(self.output.weight)  # the convex problem starts at y = uniform
        nn.init.zeros_(self.output.bias)

    def fit_idf(self, documents: Iterable[Tensor]) -> None:
        """idf(j) = ln((1 + N)/(1 + df(j))) + 1 from N documents given as id tensors (T_d,)."""
        V = self.config.vocab_size
        document_freq = torch.zeros(V, dtype=torch.float64)  # df(j)
        count = 0
        for ids in documents:
            present = torch.zeros(V, dtype=torch.bool)
            present[ids.long()] = True
            document_freq += present
            count += 1
        if count == 0:
            raise DataError("fit_idf needs at least one document, got none")
        idf = torch.log((1.0 + count) / (1.0 + document_freq)) + 1.0  # idf(j)
        self.idf.copy_(idf.to(self.idf.dtype))

    def features(self, token_ids: Tensor, lengths: Tensor) -> Tensor:
        """x, the l2-normalised tf-idf vectors of the real steps: (B, T) -> (B, V)."""
        if token_ids.ndim != 2 or token_ids.dtype != torch.long:
            raise ShapeError(
                f"token_ids must be (B, T) int64; got {tuple(token_ids.shape)} {token_ids.dtype}"
            )
        B, T = token_ids.shape
        V = self.config.vocab_size
        if token_ids.numel() and (int(token_ids.min()) < 0 or int(token_ids.max()) >= V):
            raise ShapeError(f"token ids must lie in [0, {V}); got max {int(token_ids.max())}")
        lengths = check_lengths(lengths, batch_size=B, steps=T)
        real = lengths_mask(lengths, T, device=token_ids.device)  # (B, T)
        real = real & (token_ids != self.config.pad_id)
        tf = self.idf.new_zeros(B, V).scatter_add_(1, token_ids, real.to(self.idf.dtype))
        if self.config.sublinear:
            tf = torch.where(tf > 0, 1.0 + torch.log(tf.clamp(min=1.0)), tf)  # 1 + ln tf
        x = tf * self.idf  # tf · idf, (B, V)
        return x / torch.linalg.vector_norm(x, dim=1, keepdim=True).clamp(min=1e-12)  # x/‖x‖₂

    def forward(self, token_ids: Tensor, lengths: Tensor) -> Tensor:
        """Logits z = W x + b.

        Shapes:
            token_ids (B, T) int64; lengths (B,) in [1, T]; returns logits (B, C).
        """
        return self.output(self.features(token_ids, lengths))

    @torch.no_grad()
    def predict_proba(self, token_ids: Tensor, lengths: Tensor) -> Tensor:
        """y = softmax(z) (B, C)."""
        return torch.softmax(self(token_ids, lengths), dim=-1)

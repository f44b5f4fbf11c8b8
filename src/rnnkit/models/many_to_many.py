"""Synchronous many-to-many models: one output per input step (language modelling).

    Pr(x_1 … x_T) = Π_t Pr(x_t | x_<t)                       the chain rule of probability
    e_t = E[x_t]                                             embedding lookup (V, E)
    h_t = RNN(e_t, h_{t-1})                                  stacked RNN / LSTM / GRU
    Pr(x_{t+1} | x_≤t) = softmax(W_hy h_t + b_y)             (Mikolov et al. 2010)

With weight tying (Press & Wolf 2017; Inan et al. 2017) the output matrix W_hy is the
embedding matrix E itself, which needs E = H.

References:
    Mikolov, Karafiát, Burget, Černocký, Khudanpur. Recurrent neural network based language
        model. Interspeech 2010.
    Press & Wolf. Using the Output Embedding to Improve Language Models. EACL 2017.
    Karpathy. The Unreasonable Effectiveness of Recurrent Neural Networks. 2015 (char-rnn).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import GRU, LSTM, RNN
from rnnkit.layers.multiplicative import MLSTM, MRNN
from rnnkit.models.size import check_fits, recurrent_parameters


@dataclass(frozen=True, kw_only=True)
class LanguageModelConfig:
    """Embedding → stacked recurrent layers → linear → softmax over the vocabulary."""

    vocab_size: int  # V
    embed_dim: int = 64  # E
    hidden_size: int = 256  # H
    num_layers: int = 2  # L
    cell: Literal["rnn", "lstm", "gru", "mrnn", "mlstm"] = "lstm"  # mrnn/mlstm: M = H
    dropout: float = 0.0  # between layers and before the output projection
    tie_weights: bool = False  # W_hy = E (needs embed_dim == hidden_size)
    nonlinearity: Literal["tanh", "relu"] = "tanh"  # Elman cell only
    peephole: bool = False  # LSTM only (Gers & Schmidhuber 2000)
    coupled_gates: bool = False  # LSTM only (Greff et al. 2017)
    reset_after: bool = True  # GRU only: torch's form (True) or Cho et al. 2014 (False)

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embed_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.tie_weights and self.embed_dim != self.hidden_size:
            raise ConfigError(
                "tie_weights needs embed_dim == hidden_size, "
                f"got embed_dim={self.embed_dim}, hidden_size={self.hidden_size}"
            )
        check_fits("this language model", self.parameter_count())

    def parameter_count(self) -> int:
        """P = V·E + the recurrent stack + V·(H + 1) (`rnnkit.models.size`), before allocating."""
        V, E, H = self.vocab_size, self.embed_dim, self.hidden_size
        head = V * (H + 1) - (V * E if self.tie_weights else 0)
        return V * E + recurrent_parameters(E, H, self.num_layers, self.cell) + head


def build_recurrent_stack(config: LanguageModelConfig, input_size: int) -> nn.Module:
    """The rnnkit layer named by `config.cell`, batch-first, with its variant options."""
    common = {
        "num_layers": config.num_layers,
        "batch_first": True,
        "dropout": config.dropout if config.num_layers > 1 else 0.0,
    }
    if config.cell == "lstm":
        return LSTM(
            input_size,
            config.hidden_size,
            peephole=config.peephole,
            coupled_gates=config.coupled_gates,
            **common,
        )
    if config.cell == "gru":
        return GRU(input_size, config.hidden_size, reset_after=config.reset_after, **common)
    if config.cell in ("mrnn", "mlstm"):  # Sutskever et al. 2011; Krause et al. 2016
        layer = MLSTM if config.cell == "mlstm" else MRNN
        return layer(input_size, config.hidden_size, **common)
    return RNN(input_size, config.hidden_size, nonlinearity=config.nonlinearity, **common)


class LanguageModel(nn.Module):
    """Next-token model over a vocabulary: token ids (B, T) -> logits (B, T, V) and the state.

    Shapes: token_ids (B, T) int64; logits (B, T, V); state as the recurrent layer's
    (L, B, H), or a pair of them for LSTM.
    """

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim)
        self.recurrent = build_recurrent_stack(config, config.embed_dim)
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(config.hidden_size, config.vocab_size)
        if config.tie_weights:
            self.output.weight = self.embedding.weight  # W_hy = E
        self.reset_output_parameters()

    def reset_output_parameters(self) -> None:
        """E and W_hy ~ U(−0.1, 0.1), b_y = 0, as PyTorch's word_language_model example.

        nn.Embedding's default N(0, 1) would, once tied to the output, start the softmax with
        logits of size ~√H and a loss far above ln V.
        """
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        nn.init.uniform_(self.output.weight, -0.1, 0.1)
        nn.init.zeros_(self.output.bias)

    def forward(self, token_ids: Tensor, state: object = None) -> tuple[Tensor, object]:
        """Logits of the next token at every step, and the state after the last step."""
        if token_ids.ndim != 2:
            raise ShapeError(f"token_ids must be (B, T); got shape {tuple(token_ids.shape)}")
        if token_ids.dtype != torch.long:
            raise ShapeError(f"token_ids must be int64; got {token_ids.dtype}")
        V = self.config.vocab_size
        if token_ids.numel() and (token_ids.min() < 0 or token_ids.max() >= V):
            raise ShapeError(f"token ids must lie in [0, {V}); got max {int(token_ids.max())}")
        embedded = self.embedding(token_ids)  # (B, T, E)
        hidden, state = self.recurrent(embedded, state)  # (B, T, H)
        logits = self.output(self.dropout(hidden))  # (B, T, V)
        return logits, state

    def step(self, token_ids: Tensor, state: object = None) -> tuple[Tensor, object]:
        """Logits after the last of `token_ids` (B, T) -> (B, V), for generation."""
        logits, state = self(token_ids, state)
        return logits[:, -1], state

"""Synchronous many-to-many models: one output per input step (language modelling).

    Pr(x_1 … x_T) = Π_t Pr(x_t | x_<t)                       the chain rule of probability
    e_t = E[x_t]                                             embedding lookup (V, E)
    h_t = RNN(e_t, h_{t-1})                                  stacked RNN / LSTM / GRU
    Pr(x_{t+1} | x_≤t) = softmax(W_hy h_t + b_y)             (Mikolov et al. 2010)

With weight tying (Press & Wolf 2017; Inan et al. 2017) the output matrix W_hy is the
embedding matrix E itself, which needs E = H.

Regularisers of the AWD-LSTM (Merity, Keskar & Socher 2017), all off by default (and then
every number is as without them), all acting in training only:

    embedding_dropout p_e     Ẽ = diag(m) E / (1 − p_e), m_w ~ Bernoulli(1 − p_e) per word w of
                              the vocabulary, one m per forward pass: a dropped word loses its
                              whole row at every position (Gal & Ghahramani 2016 §4; Merity et
                              al. 2017 §4.3); the output layer of a tied model keeps E
    input_dropout p_i         ẽ_t = m_i ⊙ e_t, one locked mask m_i (B, E) for all steps
                              (Gal & Ghahramani 2016; AWD's dropouti)
    output_dropout p_o        h̃_t = m_o ⊙ h_t on the last layer's output, one locked mask (B, H)
                              for all steps (AWD's dropout), before the output projection
    layer_norm, recurrent_dropout, zoneout, weight_drop
                              the cells' regularisers (`rnnkit.cells.lstm.LSTMCell`): every
                              cell of the stack gets them (rnn, lstm and gru cells)
    activation_reg α          AR = α · mean_{b,t,j} (m_o ⊙ h_t)²_{b,j}, on the dropped output
    temporal_activation_reg β TAR = β · mean_{b,t≥2,j} (h_t − h_{t−1})²_{b,j}, on the undropped
                              output (Merity et al. 2017 §4.6, their L2 as AWD's code: a mean)

AR and TAR are activity regularisers in the Keras sense: the forward pass of a training-mode
model leaves AR + TAR in `activity_loss` (None in eval mode or with α = β = 0), and the
training objective adds it (`activity_regularisation`).

References:
    Mikolov, Karafiát, Burget, Černocký, Khudanpur. Recurrent neural network based language
        model. Interspeech 2010.
    Press & Wolf. Using the Output Embedding to Improve Language Models. EACL 2017.
    Karpathy. The Unreasonable Effectiveness of Recurrent Neural Networks. 2015 (char-rnn).
    Gal & Ghahramani. A Theoretically Grounded Application of Dropout in Recurrent Neural
        Networks. NeurIPS 2016, https://arxiv.org/abs/1512.05287 (embedding and locked dropout).
    Merity, Keskar & Socher. Regularizing and Optimizing LSTM Language Models. ICLR 2018,
        https://arxiv.org/abs/1708.02182 (AWD-LSTM: weight drop, AR/TAR, NT-ASGD).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from rnnkit.cells.regularisers import dropout_mask
from rnnkit.errors import ShapeError
from rnnkit.layers import GRU, LSTM, RNN
from rnnkit.layers.multiplicative import MLSTM, MRNN
from rnnkit.models.configs.language_model import LanguageModelConfig  # torch-free: tasks nest it


def build_recurrent_stack(config: LanguageModelConfig, input_size: int) -> nn.Module:
    """The rnnkit layer named by `config.cell`, batch-first, with its variant options."""
    common: dict[str, Any] = {
        "num_layers": config.num_layers,
        "batch_first": True,
        "dropout": config.dropout if config.num_layers > 1 else 0.0,
    }
    if config.cell in ("rnn", "lstm", "gru"):  # the cells' own regularisers (docstring)
        common.update({name: getattr(config, name) for name in config.CELL_REGULARISERS})
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

    In training mode with activation_reg or temporal_activation_reg > 0, `forward` leaves
    AR + TAR of that pass (a scalar tensor in the graph) in `activity_loss`; else None.
    """

    activity_loss: Tensor | None

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
        self.activity_loss = None

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
        config, training = self.config, self.training
        embedded = self.embedding(token_ids)  # (B, T, E)
        if training and config.embedding_dropout > 0.0:  # one m (V, 1) per pass: whole rows
            rows = dropout_mask((V, 1), config.embedding_dropout, embedded)
            embedded = embedded * rows[token_ids]  # = lookup in diag(m) E / (1 − p_e)
        if training and config.input_dropout > 0.0:  # locked: one mask (B, 1, E) for all t
            embedded = embedded * _locked_mask(embedded, config.input_dropout)
        hidden, state = self.recurrent(embedded, state)  # (B, T, H)
        dropped = hidden
        if training and config.output_dropout > 0.0:
            dropped = hidden * _locked_mask(hidden, config.output_dropout)  # m_o ⊙ h_t
        dropped = self.dropout(dropped)
        self.activity_loss = self._activity_loss(hidden, dropped) if training else None
        logits = self.output(dropped)  # (B, T, V)
        return logits, state

    def _activity_loss(self, hidden: Tensor, dropped: Tensor) -> Tensor | None:
        """AR + TAR (Merity et al. 2017 §4.6) of the last layer's output, or None when off.

        AR = α · mean((m ⊙ h_t)²) over the dropped output (B, T, H);
        TAR = β · mean((h_t − h_{t−1})²) over the undropped output, steps t = 2…T.
        """
        alpha, beta = self.config.activation_reg, self.config.temporal_activation_reg
        if alpha == 0.0 and beta == 0.0:
            return None
        penalty = hidden.new_zeros(())
        if alpha > 0.0:
            penalty = penalty + alpha * dropped.pow(2).mean()
        if beta > 0.0 and hidden.shape[1] > 1:
            penalty = penalty + beta * (hidden[:, 1:] - hidden[:, :-1]).pow(2).mean()
        return penalty

    def step(self, token_ids: Tensor, state: object = None) -> tuple[Tensor, object]:
        """Logits after the last of `token_ids` (B, T) -> (B, V), for generation."""
        logits, state = self(token_ids, state)
        return logits[:, -1], state


def _locked_mask(x: Tensor, p: float) -> Tensor:
    """m ~ Bernoulli(1 − p) / (1 − p) of shape (B, 1, F): one mask per sequence for all steps."""
    return dropout_mask((x.shape[0], 1, x.shape[2]), p, x)


def activity_regularisation(model: nn.Module) -> Tensor | None:
    """Take the AR + TAR penalty the model's last training forward pass left (None if none).

    The model's `activity_loss` is reset to None, so that it holds no graph past its use (a
    model holding one could not be deep-copied). Looks through a DistributedDataParallel or
    other wrapper holding the model as `.module`.
    """
    inner = getattr(model, "module", model)
    penalty = getattr(inner, "activity_loss", None)
    if penalty is not None:
        inner.activity_loss = None
    return penalty

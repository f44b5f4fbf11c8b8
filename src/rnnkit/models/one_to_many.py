"""One-to-many: one input vector v (an image's features, or any vector), a token sequence out.

Each output token is fed back as the next input until <eos>. The lecture writes the image
entering the recurrence as

    h_t = tanh(W_xh x_t + W_hh h_{t-1} + W_ih v)        x_t = E[y_{t-1}],  y_0 = <bos>
    Pr(y_t | y_<t, v) = softmax(W_out h_t + b_out)

`ConditionedDecoder` offers two ways for v to enter:

    "init"        x_0 = W_v v + b_v, read once before <bos>  (Vinyals et al. 2015, Show and Tell)
    "every_step"  the layer input is [E[y_{t-1}] ; v] at every t; any cell's input projection
                  splits as W_ih [x_t ; v] = W_x x_t + W_v v, which for the Elman cell gives
                  h_t = tanh(W_x x_t + W_hh h_{t-1} + W_v v + b)    the lecture's form above

(The lecture's image weight W_ih is W_v here: rnnkit's W_ih is the layer's input weight.)

With `condition_output`, v also enters the output layer, z_t = W_out [h_t ; v] + b_out, as in
the multimodal layer of Mao et al. (2015): a direct path from v to every word's score, which a
weak condition (a sentence's class) needs to show in the text before the recurrence learns it.
"init" is Show and Tell's form: the image is the layer's input at one extra first step (from
h_0 = 0), whose output predicts nothing; the state it leaves is where <bos> starts. (Karpathy's
NeuralTalk instead adds W_hi v as a bias to the first step only; Donahue et al. 2015's LRCN
gives the image features and the previous word to the LSTM at every step, as "every_step"
does.) In "every_step", the columns E… of the first layer's `weight_ih_l0` are W_v; with
several layers, v enters the first one.

References:
    Vinyals, Toshev, Bengio, Erhan. Show and Tell: A Neural Image Caption Generator. CVPR 2015.
        https://arxiv.org/abs/1411.4555
    Karpathy & Fei-Fei. Deep Visual-Semantic Alignments for Generating Image Descriptions.
        CVPR 2015. https://arxiv.org/abs/1412.2306
    Donahue, Hendricks, Guadarrama, Rohrbach, Venugopalan, Saenko, Darrell. Long-term Recurrent
        Convolutional Networks for Visual Recognition and Description. CVPR 2015.
        https://arxiv.org/abs/1411.4389
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.cells.base import LSTMState
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import GRU, LSTM, RNN
from rnnkit.layers.checks import shape_of
from rnnkit.models.configs.conditioned_decoder import (
    ConditionedDecoderConfig,  # torch-free: a task config nests it
)
from rnnkit.models.decoding import (
    Hypothesis,
    SamplingConfig,
    beam_decode,
    choose_next,
    greedy_decode,
)


class ConditionedState(NamedTuple):
    """What a decoder step needs: the layer state and the condition v.

    Shapes: hidden (L, N, H) or an LSTMState of two such; condition (N, F).
    """

    hidden: Tensor | LSTMState
    condition: Tensor


class ConditionedDecoder(nn.Module):
    """A recurrent decoder of one vector v: teacher-forced logits, steps, search and sampling.

    The equations are in the module docstring.

    >>> config = ConditionedDecoderConfig(vocab_size=7, embed_dim=4, condition_size=3,
    ...                                   hidden_size=5, conditioning="every_step")
    >>> decoder = ConditionedDecoder(config)
    >>> v, target_in = torch.randn(2, 3), torch.tensor([[2, 4, 5], [2, 6, 0]])  # <bos> y_1 y_2
    >>> decoder(v, target_in).shape  # (B, T, V)
    torch.Size([2, 3, 7])
    >>> [len(h.tokens) <= 4 for [h] in decoder.search(v, max_length=4)]
    [True, True]
    """

    def __init__(self, config: ConditionedDecoderConfig) -> None:
        super().__init__()
        self.config = config
        E, F, H = config.embed_dim, config.condition_size, config.hidden_size
        self.embedding = nn.Embedding(config.vocab_size, E, config.pad_id)  # E[·]
        every_step = config.conditioning == "every_step"
        if not every_step:
            self.condition_projection = nn.Linear(F, E)  # W_v, b_v
        kind = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[config.cell]
        self.layer = kind(E + F if every_step else E, H, num_layers=config.num_layers,
                          batch_first=True,
                          dropout=config.dropout if config.num_layers > 1 else 0.0)  # fmt: skip
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(H + (F if config.condition_output else 0), config.vocab_size)

    def logits(self, outputs: Tensor, condition: Tensor) -> Tensor:
        """z_t = W_out h_t + b_out, or W_out [h_t ; v] + b_out with condition_output.

        Shapes: outputs (B, T, H) or (N, H); condition (B, F) or (N, F); returns (…, V).
        """
        outputs = self.dropout(outputs)
        if self.config.condition_output:
            v = condition if outputs.ndim == 2 else condition.unsqueeze(1).expand(
                *outputs.shape[:2], -1)  # fmt: skip
            outputs = torch.cat([outputs, v], dim=-1)  # [h_t ; v]
        return self.output(outputs)

    def forward(self, condition: Tensor, target_in: Tensor) -> Tensor:
        """Teacher-forced logits of every step, all T steps in one layer call.

        Shapes:
            condition v (B, F) float; target_in (B, T) int64, <bos> y_1 … y_{T-1} padded with
            pad_id; returns logits (B, T, V), step t predicting y_{t+1}.

        Raises:
            ShapeError: v is not (B, F) float, target_in not (B, T) int64 ids in [0, V), or
                their batch sizes differ.
        """
        B = self._check_condition(condition)
        T = self._check_ids(target_in, B)
        x = self.embedding(target_in)  # x_t = E[y_{t-1}], (B, T, E)
        if self.config.conditioning == "every_step":
            x = torch.cat([x, condition.unsqueeze(1).expand(B, T, -1)], dim=-1)  # (B, T, E+F)
            outputs, _ = self.layer(self.dropout(x))  # h_1 … h_T, (B, T, H)
        else:
            first = self.condition_projection(condition).unsqueeze(1)  # x_0 = W_v v, (B, 1, E)
            outputs, _ = self.layer(self.dropout(torch.cat([first, x], dim=1)))  # (B, 1+T, H)
            outputs = outputs[:, 1:]  # the image step predicts nothing, (B, T, H)
        return self.logits(outputs, condition)  # z_t, (B, T, V)

    def start(self, condition: Tensor) -> ConditionedState:
        """The state before <bos>: after reading x_0 = W_v v ("init"), or zeros ("every_step").

        Shapes: condition (B, F) float; the state's hidden fields are (L, B, H).
        """
        B = self._check_condition(condition)
        if self.config.conditioning == "init":
            first = self.condition_projection(condition).unsqueeze(1)  # x_0, (B, 1, E)
            _, hidden = self.layer(self.dropout(first))  # (L, B, H)
            return ConditionedState(hidden, condition)
        L, H = self.config.num_layers, self.config.hidden_size
        zeros = condition.new_zeros(L, B, H)  # h_0 = 0, (L, B, H)
        hidden = LSTMState(zeros, zeros.clone()) if self.config.cell == "lstm" else zeros
        return ConditionedState(hidden, condition)

    def decode_step(
        self, tokens: Tensor, state: ConditionedState
    ) -> tuple[Tensor, ConditionedState]:
        """One step, unchecked (the hot path): y_{t-1} (N,) -> logits (N, V) and the next state."""
        x = self.embedding(tokens)  # E[y_{t-1}], (N, E)
        if self.config.conditioning == "every_step":
            x = torch.cat([x, state.condition], dim=-1)  # [E[y_{t-1}] ; v], (N, E+F)
        output, hidden = self.layer(self.dropout(x).unsqueeze(1), state.hidden)  # (N, 1, H)
        logits = self.logits(output.squeeze(1), state.condition)  # (N, V)
        return logits, ConditionedState(hidden, state.condition)

    @torch.no_grad()
    def search(self, condition: Tensor, *, beam_size: int = 1, max_length: int = 20,
               length_penalty: float = 1.0) -> list[list[Hypothesis]]:  # fmt: skip
        """The best sequences of each v (greedy for beam_size 1), best first, until <eos>.

        Shapes: condition (B, F); returns B lists of hypotheses (one for greedy).
        """
        state = self.start(condition)
        ids = {"batch_size": condition.shape[0], "bos_id": self.config.bos_id,
               "eos_id": self.config.eos_id, "max_length": max_length,
               "length_penalty": length_penalty}  # fmt: skip
        if beam_size == 1:
            return [[found] for found in greedy_decode(self._search_step, state, **ids)]
        return beam_decode(self._search_step, state, reorder=reorder_state, beam_size=beam_size,
                           **ids)  # fmt: skip

    def _search_step(
        self, tokens: Tensor, state: ConditionedState
    ) -> tuple[Tensor, ConditionedState]:
        return self.decode_step(tokens.to(state.condition.device), state)

    @torch.no_grad()
    def sample(self, condition: Tensor, *, temperature: float = 1.0, top_k: int | None = None,
               max_length: int = 20,
               generator: torch.Generator | None = None) -> list[list[int]]:  # fmt: skip
        """Sampled token ids of each v, each ending at its first <eos> or after max_length.

        Each step draws y_t from softmax(z_t / τ) over the top-k tokens (`choose_next`);
        temperature 0 takes the argmax, as greedy search does.

        Shapes: condition (B, F); returns B lists of token ids.
        """
        if max_length < 1:
            raise ConfigError(f"max_length must be a positive integer, got {max_length}")
        sampling = SamplingConfig(temperature=temperature, top_k=top_k)
        state = self.start(condition)
        B = condition.shape[0]
        tokens = torch.full((B,), self.config.bos_id, dtype=torch.long, device=condition.device)
        finished = torch.zeros(B, dtype=torch.bool, device=condition.device)
        rows: list[list[int]] = [[] for _ in range(B)]
        for _ in range(max_length):
            logits, state = self.decode_step(tokens, state)  # (B, V)
            tokens = choose_next(logits, sampling, generator)  # y_t, (B,)
            for row, token, done in zip(rows, tokens.tolist(), finished.tolist(), strict=True):
                if not done:
                    row.append(token)
            finished |= tokens == self.config.eos_id
            if bool(finished.all()):
                break
        return rows

    def _check_condition(self, condition: Tensor) -> int:
        F = self.config.condition_size
        if not isinstance(condition, Tensor) or condition.ndim != 2 or condition.shape[1] != F:
            raise ShapeError(f"condition v must be (B, {F}), F = condition_size; got "
                             f"{shape_of(condition)}. "
                             f"Match the encoder's feature_size to condition_size")  # fmt: skip
        if not condition.is_floating_point() or condition.shape[0] == 0:
            raise ShapeError(f"condition v must be a non-empty float tensor; "
                             f"got {condition.dtype} {tuple(condition.shape)}")  # fmt: skip
        return condition.shape[0]

    def _check_ids(self, ids: Tensor, batch_size: int) -> int:
        V = self.config.vocab_size
        if not isinstance(ids, Tensor) or ids.ndim != 2 or ids.dtype != torch.long:
            raise ShapeError(f"target_in must be (B, T) int64 token ids; got {shape_of(ids)}")
        if ids.shape[0] != batch_size or ids.shape[1] == 0:
            raise ShapeError(f"target_in must be (B, T) with B = {batch_size} rows like the "
                             f"condition and T ≥ 1; got {tuple(ids.shape)}")  # fmt: skip
        if int(ids.min()) < 0 or int(ids.max()) >= V:
            raise ShapeError(f"target_in ids must lie in [0, {V}); got min {int(ids.min())}, "
                             f"max {int(ids.max())}. Check vocab_size")  # fmt: skip
        return ids.shape[1]


def reorder_state(state: ConditionedState, index: Tensor) -> ConditionedState:
    """The rows `index` of a decoder state (beams kept, or a sequence copied K times)."""
    index = index.to(state.condition.device)
    if isinstance(state.hidden, LSTMState):
        hidden = LSTMState(*(h.index_select(1, index) for h in state.hidden))  # (L, N', H)
    else:
        hidden = state.hidden.index_select(1, index)  # (L, N', H)
    return ConditionedState(hidden, state.condition.index_select(0, index))


__all__ = [
    "ConditionedDecoder",
    "ConditionedDecoderConfig",
    "ConditionedState",
    "reorder_state",
]

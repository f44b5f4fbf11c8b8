"""Encoder–decoder (asynchronous many-to-many): read the whole source, then write the target.

    h_s = RNN_enc(E_src[x_s], h_{s-1})   s = 1 … S  (Sutskever, Vinyals & Le 2014)
    s_0 = h_S                                          one direction, as many layers as the decoder
    s_0 = tanh(W_b [h_S of every layer and direction] + b_b)   otherwise (a learned bridge;
                                                       an LSTM's c_0 = W_b' [c_S …] + b_b')
    s_t = RNN_dec(E_tgt[y_{t-1}], s_{t-1})             y_0 = <bos>
    Pr(y_t | y_<t, x) = softmax(W_out õ_t + b_out)
    õ_t = s_t                                          without attention
    õ_t = tanh(W_c [c_t ; s_t])                        with attention  (Luong et al. 2015, eq. 5)

where c_t is the context vector of `rnnkit.layers.attention` over the encoder states h_1 … h_S:
with Luong's dot / general scores the query is s_t; with Bahdanau's additive score the query is
s_{t-1} and c_t also enters the recurrence, s_t = RNN_dec([E_tgt[y_{t-1}] ; c_t], s_{t-1}).

Training feeds the target shifted right: in = <bos> y_1 … y_n, out = y_1 … y_n <eos>. Under
teacher forcing y_{t-1} is the reference token; with ratio r < 1 each step instead feeds the
model's own previous argmax with probability 1 − r (Bengio et al. 2015). `reverse_source` reads
the source backwards (Sutskever et al. 2014), which puts its first words next to the decoder's
first steps; the encoder states are flipped back so that attention weight s is source word s.

References:
    Sutskever, Vinyals, Le. Sequence to Sequence Learning with Neural Networks. NIPS 2014.
    Cho et al. Learning Phrase Representations using RNN Encoder–Decoder for Statistical
        Machine Translation. EMNLP 2014.
    Bahdanau, Cho, Bengio. Neural Machine Translation by Jointly Learning to Align and
        Translate. ICLR 2015.
    Luong, Pham, Manning. Effective Approaches to Attention-based Neural Machine Translation.
        EMNLP 2015.
    Bengio, Vinyals, Jaitly, Shazeer. Scheduled Sampling for Sequence Prediction with Recurrent
        Neural Networks. NIPS 2015.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.cells.base import LSTMState
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import GRU, LSTM, RNN
from rnnkit.layers.attention import Attention
from rnnkit.layers.lengths import check_lengths, flip_sequences, lengths_mask
from rnnkit.models.configs.seq2seq import Seq2SeqConfig  # torch-free: a task config nests it
from rnnkit.models.decoding import Hypothesis, beam_decode, greedy_decode


class DecoderState(NamedTuple):
    """What a decoder step needs: the layer state and the encoder's states, mask and keys.

    Shapes: hidden (L_dec, N, H) or an LSTMState of two; memory (N, S, K); mask (N, S) bool;
    keys (N, S, ·) the attention's projected keys (None without attention).
    """

    hidden: Tensor | LSTMState
    memory: Tensor
    mask: Tensor
    keys: Tensor | None


class Seq2SeqOutput(NamedTuple):
    """Logits (B, T, V_tgt) of every target step and attention weights (B, T, S) or None."""

    logits: Tensor
    attention: Tensor | None


def _layer(config: Seq2SeqConfig, input_size: int, num_layers: int, bidirectional: bool):
    kind = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[config.cell]
    return kind(input_size, config.hidden_size, num_layers=num_layers, batch_first=True,
                dropout=config.dropout if num_layers > 1 else 0.0,
                bidirectional=bidirectional)  # fmt: skip


def _map_state(state: Tensor | LSTMState, fn) -> Tensor | LSTMState:
    """Apply `fn` to every tensor of a layer state."""
    if isinstance(state, LSTMState):
        return LSTMState(fn(state.hidden), fn(state.cell))
    return fn(state)


class Seq2Seq(nn.Module):
    """Encoder, bridge, decoder with optional attention, and greedy / beam-search decoding.

    >>> config = Seq2SeqConfig(source_vocab_size=9, target_vocab_size=7, embed_dim=4,
    ...                        hidden_size=5, attention="general")
    >>> model = Seq2Seq(config)
    >>> source, lengths = torch.tensor([[4, 5, 6], [7, 8, 0]]), torch.tensor([3, 2])
    >>> target_in = torch.tensor([[2, 4, 5], [2, 6, 0]])  # <bos> y_1 y_2
    >>> out = model(source, lengths, target_in)
    >>> tuple(out.logits.shape), tuple(out.attention.shape)  # (B, T, V), (B, T, S)
    ((2, 3, 7), (2, 3, 3))
    """

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.config = config
        E, H = config.embed_dim, config.hidden_size
        self.source_embedding = nn.Embedding(config.source_vocab_size, E, config.pad_id)
        self.target_embedding = (
            self.source_embedding
            if config.share_embeddings
            else nn.Embedding(config.target_vocab_size, E, config.pad_id)
        )
        self.encoder = _layer(config, E, config.encoder_layers, config.bidirectional)
        directions = 2 if config.bidirectional else 1
        self.copies_state = directions == 1 and config.encoder_layers == config.decoder_layers
        if not self.copies_state:
            finals = config.encoder_layers * directions * H
            self.bridge = nn.Linear(finals, config.decoder_layers * H)  # W_b, b_b
            if config.cell == "lstm":
                self.cell_bridge = nn.Linear(finals, config.decoder_layers * H)
        K = config.memory_size
        context_input = K if config.attention == "additive" else 0
        self.decoder = _layer(config, E + context_input, config.decoder_layers, False)
        self.attention = None
        if config.attention != "none":
            self.attention = Attention(config.attention, query_size=H, key_size=K)
            self.combine = nn.Linear(K + H, H, bias=False)  # W_c
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(H, config.target_vocab_size)  # W_out, b_out

    # -- encoder --------------------------------------------------------------------------------
    def encode(self, source_ids: Tensor, source_lengths: Tensor) -> DecoderState:
        """Read the source: encoder states (B, S, K), their mask and the decoder's s_0."""
        B, S = self._check_ids(source_ids, self.config.source_vocab_size, "source_ids")
        lengths = check_lengths(source_lengths, batch_size=B, steps=S, argument="source_lengths")
        x = self.dropout(self.source_embedding(source_ids))  # E_src[x_s], (B, S, E)
        if self.config.reverse_source:
            x = flip_sequences(x, lengths)
        memory, final = self.encoder(x, lengths=lengths)  # (B, S, K), (L·D, B, H)
        if self.config.reverse_source:
            memory = flip_sequences(memory, lengths)  # memory[:, s] is source word s again
        mask = lengths_mask(lengths, S, device=memory.device)  # (B, S)
        keys = None if self.attention is None else self.attention.project_keys(memory)
        return DecoderState(self._bridge(final), memory, mask, keys)

    def _bridge(self, final: Tensor | LSTMState) -> Tensor | LSTMState:
        """s_0 from the encoder's final states: a copy, or tanh(W_b [h_S …] + b_b)."""
        if self.copies_state:
            return final
        L, H = self.config.decoder_layers, self.config.hidden_size

        def project(layer: nn.Linear, states: Tensor, squash: bool) -> Tensor:
            B = states.shape[1]
            flat = states.transpose(0, 1).reshape(B, -1)  # (B, L_enc·D·H)
            start = layer(flat)
            start = torch.tanh(start) if squash else start
            return start.view(B, L, H).transpose(0, 1).contiguous()  # (L_dec, B, H)

        if isinstance(final, LSTMState):
            return LSTMState(project(self.bridge, final.hidden, True),
                             project(self.cell_bridge, final.cell, False))  # fmt: skip
        return project(self.bridge, final, True)

    # -- decoder --------------------------------------------------------------------------------
    def decode_step(
        self, tokens: Tensor, state: DecoderState
    ) -> tuple[Tensor, DecoderState, Tensor | None]:
        """One decoder step: y_{t-1} (N,) -> logits (N, V_tgt), the next state, α_t (N, S)."""
        x = self.dropout(self.target_embedding(tokens)).unsqueeze(1)  # (N, 1, E)
        weights = None
        if self.config.attention == "additive":
            query = self._top_hidden(state.hidden)  # s_{t-1}, (N, H)
            context, weights = self.attention(query, state.memory, state.mask, state.keys)
            x = torch.cat([x, context.unsqueeze(1)], dim=-1)  # [E y_{t-1} ; c_t], (N, 1, E+K)
        output, hidden = self.decoder(x, state.hidden)  # s_t, (N, 1, H)
        output = output.squeeze(1)
        if self.config.attention in ("dot", "general"):
            context, weights = self.attention(output, state.memory, state.mask, state.keys)
        if self.attention is not None:
            output = torch.tanh(self.combine(torch.cat([context, output], dim=-1)))  # õ_t
        logits = self.output(self.dropout(output))  # (N, V_tgt)
        return logits, state._replace(hidden=hidden), weights

    def _top_hidden(self, hidden: Tensor | LSTMState) -> Tensor:
        """h of the decoder's top layer: (N, H)."""
        return (hidden.hidden if isinstance(hidden, LSTMState) else hidden)[-1]

    def forward(
        self,
        source_ids: Tensor,
        source_lengths: Tensor,
        target_in: Tensor,
        *,
        teacher_forcing: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> Seq2SeqOutput:
        """Logits of every target step given the source and the shifted target.

        Shapes:
            source_ids (B, S) int64 padded with pad_id; source_lengths (B,) in [1, S];
            target_in (B, T) int64, <bos> y_1 … y_{T-1} padded with pad_id; returns logits
            (B, T, V_tgt) and attention weights (B, T, S) (None without attention).

        Args:
            teacher_forcing: r, the probability of feeding the reference y_{t-1}; below 1
                each step feeds the model's own argmax with probability 1 − r.
            generator: draws those coin flips (reproducible scheduled sampling).
        """
        B, _ = self._check_ids(source_ids, self.config.source_vocab_size, "source_ids")
        self._check_ids(target_in, self.config.target_vocab_size, "target_in")
        if target_in.shape[0] != B:
            raise ShapeError(f"target_in must have B = {B} rows like source_ids;"
                             f" got {tuple(target_in.shape)}")  # fmt: skip
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ConfigError(f"teacher_forcing must be in [0, 1], got {teacher_forcing}")
        state = self.encode(source_ids, source_lengths)
        if teacher_forcing == 1.0 and self.config.attention != "additive":
            return self._decode_parallel(target_in, state)
        return self._decode_steps(target_in, state, teacher_forcing, generator)

    def _decode_parallel(self, target_in: Tensor, state: DecoderState) -> Seq2SeqOutput:
        """All T steps in one layer call: the inputs are known when the reference is fed."""
        x = self.dropout(self.target_embedding(target_in))  # (B, T, E)
        outputs, _ = self.decoder(x, state.hidden)  # s_1 … s_T, (B, T, H)
        weights = None
        if self.attention is not None:
            context, weights = self.attention(outputs, state.memory, state.mask, state.keys)
            outputs = torch.tanh(self.combine(torch.cat([context, outputs], dim=-1)))  # õ_t
        return Seq2SeqOutput(self.output(self.dropout(outputs)), weights)

    def _decode_steps(
        self,
        target_in: Tensor,
        state: DecoderState,
        teacher_forcing: float,
        generator: torch.Generator | None,
    ) -> Seq2SeqOutput:
        """Step by step, feeding the reference or (with probability 1 − r) the own argmax."""
        logits, weights, tokens = [], [], target_in[:, 0]
        for t in range(target_in.shape[1]):
            if t > 0 and teacher_forcing < 1.0:
                coins = torch.rand(tokens.shape, generator=generator).to(tokens.device)
                own = logits[-1].argmax(dim=-1)  # the model's previous choice
                tokens = torch.where(coins < teacher_forcing, target_in[:, t], own)
            elif t > 0:
                tokens = target_in[:, t]
            step_logits, state, step_weights = self.decode_step(tokens, state)
            logits.append(step_logits)
            weights.append(step_weights)
        stacked = torch.stack(weights, dim=1) if self.attention is not None else None
        return Seq2SeqOutput(torch.stack(logits, dim=1), stacked)  # (B, T, V), (B, T, S)

    # -- search ---------------------------------------------------------------------------------
    @torch.no_grad()
    def search(
        self,
        source_ids: Tensor,
        source_lengths: Tensor,
        *,
        beam_size: int = 1,
        max_length: int | None = None,
        length_penalty: float = 1.0,
    ) -> list[list[Hypothesis]]:
        """The best target hypotheses of each source (greedy for beam_size 1), best first.

        `max_length` defaults to 2·S + 10 target tokens (<eos> included).
        """
        state = self.encode(source_ids, source_lengths)
        B, S = source_ids.shape
        max_length = 2 * S + 10 if max_length is None else max_length
        step = self._search_step
        ids = {"batch_size": B, "bos_id": self.config.bos_id, "eos_id": self.config.eos_id,
               "max_length": max_length}  # fmt: skip
        if beam_size == 1:
            found = greedy_decode(step, state, length_penalty=length_penalty, **ids)
            return [[hypothesis] for hypothesis in found]
        return beam_decode(step, state, reorder=reorder_state, beam_size=beam_size,
                           length_penalty=length_penalty, **ids)  # fmt: skip

    def _search_step(self, tokens: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState]:
        """decode_step for search; scores are the model's own (<pad> and <bos> are never targets
        in training, so a trained model gives them almost no mass)."""
        logits, state, _ = self.decode_step(tokens.to(state.memory.device), state)
        return logits, state

    @torch.no_grad()
    def attention_weights(
        self, source_ids: Tensor, source_lengths: Tensor, target_in: Tensor
    ) -> Tensor:
        """α (B, T, S) of a given target (e.g. a decoded one), read teacher-forced."""
        if self.attention is None:
            raise ConfigError("this model has no attention (attention='none')")
        return self(source_ids, source_lengths, target_in).attention

    @staticmethod
    def _check_ids(ids: Tensor, vocab_size: int, name: str) -> tuple[int, int]:
        if not isinstance(ids, Tensor) or ids.ndim != 2 or ids.dtype != torch.long:
            shape = tuple(ids.shape) if isinstance(ids, Tensor) else type(ids).__name__
            raise ShapeError(f"{name} must be (B, T) int64 token ids; got {shape}")
        if ids.shape[1] == 0:
            raise ShapeError(f"{name} must hold at least one step; got {tuple(ids.shape)}")
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab_size):
            raise ShapeError(f"{name} must lie in [0, {vocab_size}); got max {int(ids.max())}")
        return ids.shape[0], ids.shape[1]


def reorder_state(state: DecoderState, index: Tensor) -> DecoderState:
    """The rows `index` of a decoder state (beams kept, or a sequence copied K times)."""
    index = index.to(state.memory.device)
    hidden = _map_state(state.hidden, lambda h: h.index_select(1, index))  # (L, N', H)
    keys = None if state.keys is None else state.keys.index_select(0, index)
    return DecoderState(hidden, state.memory.index_select(0, index),
                        state.mask.index_select(0, index), keys)  # fmt: skip

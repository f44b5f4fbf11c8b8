"""Attention over a source sequence: additive (Bahdanau et al.), dot and general (Luong et al.).

A decoder state q_t (the query) scores every encoder state h_s (the keys, which are also the
values); the scores become weights over the real source steps, and the weights average the
encoder states into a context vector:

    additive   e_{t,s} = vᵀ tanh(W_q q_t + W_k h_s)  (Bahdanau, Cho & Bengio 2015)
    dot        e_{t,s} = q_tᵀ h_s  (Luong, Pham & Manning 2015)
    general    e_{t,s} = q_tᵀ W_a h_s
    α_{t,s} = exp(e_{t,s}) / Σ_{s' ≤ len} exp(e_{t,s'})       softmax over the real steps only
    c_t = Σ_s α_{t,s} h_s                                      the context vector

where q_t ∈ ℝ^{H_q} is the decoder state, h_s ∈ ℝ^{K} the encoder state at source step s (K = D·H
for a D-directional encoder), len the source length, and W_q (A, H_q), W_k (A, K), v (A,), W_a
(H_q, K) learned. Padding steps (s > len) get α = 0 exactly.

The keys' part of the score (W_k h_s, or W_a h_s) does not depend on t, so `project_keys`
computes it once per source sentence and every decoder step reuses it.

References:
    Bahdanau, Cho, Bengio. Neural Machine Translation by Jointly Learning to Align and
        Translate. ICLR 2015.
    Luong, Pham, Manning. Effective Approaches to Attention-based Neural Machine Translation.
        EMNLP 2015.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError

AttentionKind = Literal["additive", "dot", "general"]


class AttentionOutput(NamedTuple):
    """The context vectors c_t (B, T_q, K) and the weights α (B, T_q, S)."""

    context: Tensor
    weights: Tensor


class Attention(nn.Module):
    """Scores, masked softmax and context vector of one attention kind (see the module docstring).

    Shapes:
        query (B, T_q, H_q) (T_q decoder steps at once) or (B, H_q) for one step; keys
        (B, S, K); mask (B, S) bool, True on real source steps (each row at least one);
        returns context (B, T_q, K) and weights (B, T_q, S), or (B, K) and (B, S) for a
        (B, H_q) query.

    >>> attention = Attention("dot", query_size=2, key_size=2)
    >>> keys = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]]])  # (B=1, S=3, K=2)
    >>> mask = torch.tensor([[True, True, False]])  # step 3 is padding
    >>> out = attention(torch.tensor([[2.0, 0.0]]), keys, mask)
    >>> [round(a, 3) for a in out.weights[0].tolist()]  # e = (2, 0, -): softmax of the real two
    [0.881, 0.119, 0.0]
    """

    def __init__(
        self,
        kind: AttentionKind,
        *,
        query_size: int,
        key_size: int,
        attention_size: int | None = None,
    ) -> None:
        super().__init__()
        if kind not in ("additive", "dot", "general"):
            raise ConfigError(f"attention must be additive, dot or general; got {kind!r}")
        if kind == "dot" and query_size != key_size:
            raise ConfigError(
                f"dot attention needs query_size == key_size; got {query_size} and {key_size} "
                "(a bidirectional encoder doubles K: use general or additive attention)"
            )
        self.kind, self.query_size, self.key_size = kind, query_size, key_size
        if kind == "additive":
            size = attention_size or query_size  # A
            self.query_projection = nn.Linear(query_size, size, bias=False)  # W_q
            self.key_projection = nn.Linear(key_size, size, bias=True)  # W_k (+ bias)
            self.score_vector = nn.Linear(size, 1, bias=False)  # v
        elif kind == "general":
            self.key_projection = nn.Linear(key_size, query_size, bias=False)  # W_a

    def project_keys(self, keys: Tensor) -> Tensor:
        """The step-independent part of the score: W_k h_s (additive), W_a h_s (general), h_s.

        Shapes: keys (B, S, K) -> (B, S, A | H_q | K).
        """
        if keys.ndim != 3 or keys.shape[-1] != self.key_size:
            raise ShapeError(f"keys must be (B, S, {self.key_size}); got {tuple(keys.shape)}")
        return keys if self.kind == "dot" else self.key_projection(keys)

    def scores(self, query: Tensor, projected_keys: Tensor) -> Tensor:
        """e_{t,s} for every query step and source step: (B, T_q, H_q), (B, S, ·) -> (B, T_q, S)."""
        if self.kind == "additive":
            queries = self.query_projection(query).unsqueeze(2)  # W_q q_t, (B, T_q, 1, A)
            summed = torch.tanh(queries + projected_keys.unsqueeze(1))  # (B, T_q, S, A)
            return self.score_vector(summed).squeeze(-1)  # e = vᵀ tanh(…), (B, T_q, S)
        return query @ projected_keys.transpose(1, 2)  # e = q_tᵀ h_s or q_tᵀ W_a h_s

    def forward(
        self, query: Tensor, keys: Tensor, mask: Tensor, projected_keys: Tensor | None = None
    ) -> AttentionOutput:
        """Context vectors and weights; pass `projected_keys` to reuse `project_keys(keys)`."""
        one_step = query.ndim == 2
        if one_step:
            query = query.unsqueeze(1)  # (B, 1, H_q)
        B, S = keys.shape[0], keys.shape[1]
        if query.ndim != 3 or query.shape[0] != B or query.shape[-1] != self.query_size:
            raise ShapeError(
                f"query must be ({B}, T_q, {self.query_size}) or ({B}, {self.query_size}); "
                f"got {tuple(query.shape)}"
            )
        if tuple(mask.shape) != (B, S) or mask.dtype != torch.bool:
            raise ShapeError(f"mask must be (B, S) = {(B, S)} bool; got {tuple(mask.shape)}")
        if projected_keys is None:
            projected_keys = self.project_keys(keys)
        energies = self.scores(query, projected_keys)  # e, (B, T_q, S)
        energies = energies.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = energies.softmax(dim=-1)  # α_{t,s}, (B, T_q, S)
        context = weights @ keys  # c_t = Σ_s α_{t,s} h_s, (B, T_q, K)
        if one_step:
            return AttentionOutput(context.squeeze(1), weights.squeeze(1))
        return AttentionOutput(context, weights)

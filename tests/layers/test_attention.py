"""Attention: each score by hand, masked padding, one-step queries, gradcheck, bad input."""

from __future__ import annotations

import math

import pytest
import torch
from torch.func import functional_call

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.attention import Attention
from rnnkit.layers.lengths import lengths_mask

KINDS = ["additive", "dot", "general"]
B, T_Q, S, H_Q = 3, 2, 4, 3  # batch, query steps, source steps, query size
LENGTHS = torch.tensor([4, 1, 3])  # every sequence length in [1, S]: one full, one of a single step
pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors


def _key_size(kind: str) -> int:
    return H_Q if kind == "dot" else 5  # dot needs K = H_q


def _inputs(kind: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    query = torch.randn(B, T_Q, H_Q)
    keys = torch.randn(B, S, _key_size(kind))
    return query, keys, lengths_mask(LENGTHS, S)


def _hand_energy(attention: Attention, q: list[float], h: list[float]) -> float:
    """e = vᵀ tanh(W_q q + W_k h + b_k), q·h, or qᵀ W_a h, written out as sums."""
    if attention.kind == "dot":
        return sum(a * b for a, b in zip(q, h, strict=True))
    if attention.kind == "general":
        w_a = attention.key_projection.weight.tolist()  # (H_q, K)
        return sum(q[i] * sum(w_a[i][j] * h[j] for j in range(len(h))) for i in range(len(q)))
    w_q = attention.query_projection.weight.tolist()  # (A, H_q)
    w_k = attention.key_projection.weight.tolist()  # (A, K)
    b_k = attention.key_projection.bias.tolist()  # (A,)
    v = attention.score_vector.weight[0].tolist()  # (A,)
    total = 0.0
    for a in range(len(v)):
        inner = sum(w_q[a][i] * q[i] for i in range(len(q)))
        inner += sum(w_k[a][j] * h[j] for j in range(len(h))) + b_k[a]
        total += v[a] * math.tanh(inner)
    return total


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_matches_a_hand_computation(kind: str, float64: torch.dtype) -> None:
    attention = Attention(kind, query_size=H_Q, key_size=_key_size(kind), attention_size=6)
    query, keys, mask = _inputs(kind)
    out = attention(query, keys, mask)
    for b in range(B):
        real = int(LENGTHS[b])
        for t in range(T_Q):
            energies = [
                _hand_energy(attention, query[b, t].tolist(), keys[b, s].tolist())
                for s in range(real)
            ]
            top = max(energies)
            exps = [math.exp(e - top) for e in energies]
            alpha = [e / sum(exps) for e in exps] + [0.0] * (S - real)  # softmax of real steps
            context = [
                sum(alpha[s] * keys[b, s, k].item() for s in range(S))
                for k in range(keys.shape[-1])
            ]
            torch.testing.assert_close(out.weights[b, t], torch.tensor(alpha), rtol=0, atol=1e-12)
            torch.testing.assert_close(out.context[b, t], torch.tensor(context), rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_padding_gets_weight_zero_and_its_keys_change_nothing(kind: str) -> None:
    attention = Attention(kind, query_size=H_Q, key_size=_key_size(kind))
    query, keys, mask = _inputs(kind)
    out = attention(query, keys, mask)
    padding = ~mask.unsqueeze(1).expand_as(out.weights)  # (B, T_q, S)
    assert padding.any()
    assert (out.weights[padding] == 0).all()  # exactly zero, not merely small
    assert (out.weights[~padding] > 0).all()
    junk = torch.where(mask.unsqueeze(-1), keys, 1e3 * torch.randn_like(keys))  # new padded keys
    changed = attention(query, junk, mask)
    torch.testing.assert_close(changed.weights, out.weights, rtol=0, atol=0)
    torch.testing.assert_close(changed.context, out.context, rtol=0, atol=1e-7)


@pytest.mark.parametrize("kind", KINDS)
def test_weights_sum_to_one_over_the_real_steps(kind: str, float64: torch.dtype) -> None:
    attention = Attention(kind, query_size=H_Q, key_size=_key_size(kind))
    query, keys, mask = _inputs(kind)
    weights = attention(10 * query, keys, mask).weights  # sharp scores still sum to one
    real = (weights * mask.unsqueeze(1)).sum(-1)  # (B, T_q)
    torch.testing.assert_close(real, torch.ones(B, T_Q), rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_one_step_query_equals_a_one_step_sequence(kind: str) -> None:
    attention = Attention(kind, query_size=H_Q, key_size=_key_size(kind))
    query, keys, mask = _inputs(kind)
    single = attention(query[:, 0], keys, mask)  # (B, H_q)
    sequence = attention(query[:, :1], keys, mask)  # (B, 1, H_q)
    assert single.context.shape == (B, keys.shape[-1])
    assert single.weights.shape == (B, S)
    torch.testing.assert_close(single.context, sequence.context[:, 0], rtol=0, atol=0)
    torch.testing.assert_close(single.weights, sequence.weights[:, 0], rtol=0, atol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_reused_projected_keys_give_the_same_result(kind: str) -> None:
    attention = Attention(kind, query_size=H_Q, key_size=_key_size(kind))
    query, keys, mask = _inputs(kind)
    projected = attention.project_keys(keys)
    assert projected.shape == (B, S, H_Q)  # A defaults to H_q; W_a h_s is H_q wide; dot: K = H_q
    reused = attention(query, keys, mask, projected_keys=projected)
    fresh = attention(query, keys, mask)
    torch.testing.assert_close(reused.context, fresh.context, rtol=0, atol=0)


@pytest.mark.parametrize("kind", ["additive", "general"])
def test_gradcheck_in_float64(kind: str, float64: torch.dtype) -> None:
    attention = Attention(kind, query_size=H_Q, key_size=_key_size(kind), attention_size=4)
    query, keys, mask = _inputs(kind)
    names = [name for name, _ in attention.named_parameters()]

    def context_and_weights(q, k, *params):
        out = functional_call(attention, dict(zip(names, params, strict=True)), (q, k, mask))
        return out.context, out.weights

    inputs = [query.requires_grad_(), keys.requires_grad_()]
    inputs += [p.detach().clone().requires_grad_() for p in attention.parameters()]
    assert torch.autograd.gradcheck(context_and_weights, tuple(inputs), fast_mode=True)


def test_dot_needs_equal_sizes() -> None:
    with pytest.raises(ConfigError, match="query_size == key_size; got 3 and 6"):
        Attention("dot", query_size=3, key_size=6)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match="got 'cosine'"):
        Attention("cosine", query_size=3, key_size=3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("mask shape", r"mask must be \(B, S\) = \(3, 4\) bool; got \(3, 3\)"),
        ("mask dtype", r"mask must be .* bool"),
        ("query size", r"query must be \(3, T_q, 3\) or \(3, 3\); got \(3, 2, 4\)"),
        ("query batch", r"query must be .*; got \(2, 2, 3\)"),
        ("query rank", r"query must be .*; got \(3, 2, 1, 3\)"),
        ("key size", r"keys must be \(B, S, 5\); got \(3, 4, 4\)"),
    ],
)
def test_bad_input_raises_shape_error(case: str, match: str) -> None:
    attention = Attention("general", query_size=H_Q, key_size=5)
    query, keys, mask = _inputs("general")
    if case == "mask shape":
        mask = mask[:, :3]
    elif case == "mask dtype":
        mask = mask.float()
    elif case == "query size":
        query = torch.randn(B, T_Q, 4)
    elif case == "query batch":
        query = query[:2]
    elif case == "query rank":
        query = query.unsqueeze(2)
    else:
        keys = torch.randn(B, S, 4)
    with pytest.raises(ShapeError, match=match):
        attention(query, keys, mask)

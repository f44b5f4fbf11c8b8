"""Turning next-token distributions into text: temperature, top-k and top-p sampling, greedy, beam.

A language model gives Pr(x_t | x_<t) one step at a time; generation feeds each chosen token back
in with the recurrent state carried, so the prefix is read once and never re-read.

    p_i = exp(z_i / τ) / Σ_j exp(z_j / τ)      temperature τ > 0 (τ → 0: greedy; τ = 1: the model)
    top-k: keep the k most probable tokens, renormalise  (Fan et al. 2018)
    top-p: keep the smallest set whose mass reaches p, renormalise  (Holtzman et al. 2020)

References:
    Fan, Lewis, Dauphin. Hierarchical Neural Story Generation. ACL 2018.
    Holtzman, Buys, Du, Forbes, Choi. The Curious Case of Neural Text Degeneration. ICLR 2020.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from rnnkit.errors import ConfigError

# step(token_ids (B, 1), state) -> (logits (B, V), state); state is any layer state (or None).
MIN_TEMPERATURE = 1e-6  # the smallest τ > 0 accepted: z / τ stays finite for float32 logits
StepFn = Callable[[Tensor, object], tuple[Tensor, object]]


@dataclass(frozen=True, kw_only=True)
class SamplingConfig:
    """How the next token is chosen from the logits."""

    temperature: float = 1.0  # τ; 0 means greedy
    top_k: int | None = None  # keep the k most probable tokens
    top_p: float | None = None  # keep the smallest set with mass ≥ p

    def __post_init__(self) -> None:
        if not math.isfinite(self.temperature) or self.temperature < 0:
            raise ConfigError(f"temperature must be a finite number ≥ 0, got {self.temperature}")
        if 0 < self.temperature < MIN_TEMPERATURE:  # z / τ would overflow to ±inf, then NaN
            raise ConfigError(f"temperature must be 0 (greedy) or at least {MIN_TEMPERATURE}, "
                              f"got {self.temperature}")  # fmt: skip
        if self.top_k is not None and self.top_k < 1:
            raise ConfigError(f"top_k must be a positive integer, got {self.top_k}")
        if self.top_p is not None and not 0.0 < self.top_p <= 1.0:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p}")


def filter_logits(logits: Tensor, config: SamplingConfig) -> Tensor:
    """Temperature-scaled logits with the tokens outside top-k / top-p set to -inf.

    Shapes: logits (B, V) -> (B, V).

    >>> filter_logits(torch.tensor([[3.0, 2.0, 1.0, 0.0]]), SamplingConfig(top_k=2))
    tensor([[3., 2., -inf, -inf]])
    """
    scaled = logits / config.temperature if config.temperature > 0 else logits.clone()
    if config.top_k is not None and config.top_k < scaled.shape[-1]:
        kth_best = scaled.topk(config.top_k, dim=-1).values[..., -1:]  # (B, 1)
        scaled = scaled.masked_fill(scaled < kth_best, float("-inf"))
    if config.top_p is not None and config.top_p < 1.0:
        sorted_logits, order = scaled.sort(dim=-1, descending=True)
        mass_before = sorted_logits.softmax(dim=-1).cumsum(dim=-1) - sorted_logits.softmax(dim=-1)
        drop_sorted = mass_before >= config.top_p  # the token that crosses p is kept
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        scaled = scaled.masked_fill(drop, float("-inf"))
    return scaled


def choose_next(
    logits: Tensor, config: SamplingConfig, generator: torch.Generator | None = None
) -> Tensor:
    """Sample (or, with temperature 0, take the argmax of) the next token: (B, V) -> (B,)."""
    if config.temperature == 0:
        return logits.argmax(dim=-1)
    probabilities = filter_logits(logits, config).softmax(dim=-1)
    return torch.multinomial(probabilities, 1, generator=generator).squeeze(-1)


def generate_tokens(
    step: StepFn,
    prime_ids: Tensor,
    length: int,
    config: SamplingConfig,
    *,
    state: object = None,
    generator: torch.Generator | None = None,
) -> Iterator[int]:
    """Yield `length` sampled token ids one at a time, carrying the recurrent state.

    The prime is read once in a single call; each sampled token is then fed back alone.

    Shapes: prime_ids (T,) int64, at least one token.
    """
    if prime_ids.ndim != 1 or prime_ids.numel() == 0:
        raise ConfigError(
            f"the prime must hold at least one token, got shape {tuple(prime_ids.shape)}"
        )
    logits, state = step(prime_ids.unsqueeze(0), state)  # (1, V)
    for _ in range(length):
        token = choose_next(logits, config, generator)  # (1,)
        yield int(token.item())
        logits, state = step(token.unsqueeze(0), state)


def beam_search(
    step: StepFn,
    prime_ids: Tensor,
    length: int,
    *,
    beam_size: int = 5,
    state: object = None,
    select_state: Callable[[object, Tensor], object],
) -> list[int]:
    """The most probable continuation of `length` tokens found by beam search.

    Each beam's score is Σ log Pr(x_t | x_<t) over its continuation; at every step the
    `beam_size` best extensions of all beams are kept. `select_state(state, beam_index)`
    reorders a batched state along the beam (batch) dimension.
    """
    if beam_size < 1:
        raise ConfigError(f"beam_size must be a positive integer, got {beam_size}")
    logits, state = step(prime_ids.unsqueeze(0), state)  # (1, V)
    scores = torch.zeros(1, dtype=torch.float64)  # (K,)
    sequences = torch.zeros(1, 0, dtype=torch.long)  # (K, t)
    for _ in range(length):
        log_probs = logits.double().log_softmax(dim=-1) + scores.unsqueeze(-1)  # (K, V)
        V = log_probs.shape[-1]
        scores, flat = log_probs.flatten().topk(min(beam_size, log_probs.numel()))
        beam_index, token = flat // V, flat % V
        sequences = torch.cat([sequences[beam_index], token.unsqueeze(-1)], dim=-1)
        logits, state = step(token.unsqueeze(-1), select_state(state, beam_index))
    return sequences[0].tolist()


# -- decoding until <eos>: encoder–decoder and conditioned decoders ------------------------------
# step(tokens (N,), state) -> (logits (N, V), state), where N = B sequences (greedy) or B·K beams.
SearchStep = Callable[[Tensor, object], tuple[Tensor, object]]
# reorder(state, index (N',)) -> the state of rows `index` (beams kept, or copied K times).
ReorderState = Callable[[object, Tensor], object]


class Hypothesis(NamedTuple):
    """One decoded sequence: its tokens (ending with <eos> when finished) and its scores.

    score = Σ_t log Pr(y_t | y_<t, x) and normalised = score / |y|^α (Wu et al. 2016 use a
    related length penalty; α = 0 ranks by the raw sum, which favours short outputs).
    """

    tokens: list[int]
    score: float
    normalised: float
    finished: bool


def _normalised(score: float, length: int, length_penalty: float) -> float:
    """score / |y|^α, the length-normalised log-probability."""
    return score / max(length, 1) ** length_penalty


def greedy_decode(
    step: SearchStep,
    state: object,
    *,
    batch_size: int,
    bos_id: int,
    eos_id: int,
    max_length: int,
    length_penalty: float = 1.0,
) -> list[Hypothesis]:
    """The argmax token at each step, for B sequences at once, until <eos> or `max_length`.

    y_t = argmax_v Pr(v | y_<t, x),  y_0 = <bos>; a sequence stops at its first <eos>.
    `length_penalty` α only sets `Hypothesis.normalised`, as in `beam_decode`.
    """
    _check_search(max_length=max_length, length_penalty=length_penalty)
    tokens = torch.full((batch_size,), bos_id, dtype=torch.long)  # (B,)
    finished = torch.zeros(batch_size, dtype=torch.bool)
    scores = torch.zeros(batch_size, dtype=torch.float64)
    columns: list[Tensor] = []
    for _ in range(max_length):
        logits, state = step(tokens, state)  # (B, V)
        log_probs = logits.double().log_softmax(dim=-1).cpu()
        tokens = log_probs.argmax(dim=-1)  # y_t, (B,)
        chosen = log_probs.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
        scores += torch.where(finished, torch.zeros_like(chosen), chosen)
        columns.append(torch.where(finished, torch.full_like(tokens, -1), tokens))
        finished |= tokens == eos_id
        if bool(finished.all()):
            break
    rows = torch.stack(columns, dim=1).tolist() if columns else [[] for _ in range(batch_size)]
    hypotheses = []
    for row, score, done in zip(rows, scores.tolist(), finished.tolist(), strict=True):
        kept = [token for token in row if token >= 0]
        normalised = _normalised(score, len(kept), length_penalty)
        hypotheses.append(Hypothesis(kept, score, normalised, done))
    return hypotheses


def beam_decode(
    step: SearchStep,
    state: object,
    *,
    reorder: ReorderState,
    batch_size: int,
    bos_id: int,
    eos_id: int,
    beam_size: int = 5,
    max_length: int = 100,
    length_penalty: float = 1.0,
) -> list[list[Hypothesis]]:
    """The `beam_size` best hypotheses of each of B sequences, best first, by beam search.

    Every sequence keeps K live beams. At each step all K·V one-token extensions are scored by
    Σ log Pr; an extension ending in <eos> among the K best joins the sequence's finished list,
    the K best others stay live. Finished hypotheses are ranked by score / |y|^α, α =
    `length_penalty`. A sequence is done once it has K finished hypotheses and its best live
    beam, normalised at its current length, no longer beats the K-th best of them (the stopping
    rule of Hugging Face's beam search without early stopping); at `max_length` its live beams
    are added unfinished. With K = 1 this is `greedy_decode`.

    `state` is the state of the B sequences; `reorder(state, index)` selects its rows.
    """
    _check_search(max_length=max_length, beam_size=beam_size, length_penalty=length_penalty)
    B, K = batch_size, beam_size
    state = reorder(state, torch.arange(B).repeat_interleave(K))  # K copies, (B·K, …)
    scores = torch.full((B, K), float("-inf"), dtype=torch.float64)
    scores[:, 0] = 0.0  # one live beam at first: the copies would repeat it
    prefixes = torch.zeros(B * K, 0, dtype=torch.long)  # (B·K, t)
    tokens = torch.full((B * K,), bos_id, dtype=torch.long)
    finished: list[list[Hypothesis]] = [[] for _ in range(B)]
    done = [False] * B
    for t in range(1, max_length + 1):
        logits, state = step(tokens, state)  # (B·K, V)
        log_probs = logits.double().log_softmax(dim=-1).cpu()
        V = log_probs.shape[-1]
        extended = (scores.unsqueeze(-1) + log_probs.view(B, K, V)).view(B, K * V)
        top_scores, top_flat = extended.topk(min(2 * K, K * V), dim=-1)  # (B, 2K)
        live = [
            _extend(b, top_scores[b].tolist(), top_flat[b].tolist(), prefixes, finished, V,
                    beam_size=K, eos_id=eos_id, length_penalty=length_penalty, done=done[b])
            for b in range(B)
        ]  # fmt: skip
        index = torch.tensor([b * K + beam for b in range(B) for beam, _, _ in live[b]])
        tokens = torch.tensor([token for row in live for _, token, _ in row])  # (B·K,)
        scores = torch.tensor([[score for _, _, score in row] for row in live], dtype=torch.float64)
        prefixes = torch.cat([prefixes[index], tokens.unsqueeze(-1)], dim=-1)
        done = [done[b] or _settled(finished[b], live[b][0][2], t, K, length_penalty)
                for b in range(B)]  # fmt: skip
        if all(done):
            break
        state = reorder(state, index)
    return [
        _best(finished[b], prefixes[b * K : (b + 1) * K], scores[b], K, length_penalty)
        for b in range(B)
    ]


def _settled(
    finished: list[Hypothesis], best_live: float, length: int, beam_size: int, alpha: float
) -> bool:
    """Whether K hypotheses have finished and the best live beam no longer beats the K-th."""
    if len(finished) < beam_size:
        return False
    kth_best = sorted((h.normalised for h in finished), reverse=True)[beam_size - 1]
    return _normalised(best_live, length, alpha) <= kth_best


def _extend(
    b: int,
    candidate_scores: list[float],
    candidates: list[int],
    prefixes: Tensor,
    finished: list[list[Hypothesis]],
    vocab_size: int,
    *,
    beam_size: int,
    eos_id: int,
    length_penalty: float,
    done: bool,
) -> list[tuple[int, int, float]]:
    """Sort sequence b's best extensions into finished ones and the K live (beam, token, score).

    An extension ending in <eos> finishes only if it ranks among the K best extensions, as in
    fairseq: one ranked lower is worse than K live beams.
    """
    V, K = vocab_size, beam_size
    live: list[tuple[int, int, float]] = []
    for rank, (score, flat) in enumerate(zip(candidate_scores, candidates, strict=True)):
        beam, token = divmod(flat, V)
        if done or score == float("-inf") or len(live) == K:
            break
        if token == eos_id and rank < K:
            sequence = [*prefixes[b * K + beam].tolist(), token]
            normalised = _normalised(score, len(sequence), length_penalty)
            finished[b].append(Hypothesis(sequence, score, normalised, True))
        elif token != eos_id:
            live.append((beam, token, score))
    while len(live) < K:  # a done sequence, or too few extensions: dead beams
        live.append((0, eos_id, float("-inf")))
    return live


def _best(
    finished: list[Hypothesis],
    prefixes: Tensor,
    scores: Tensor,
    beam_size: int,
    length_penalty: float,
) -> list[Hypothesis]:
    """The K best of a sequence's finished hypotheses, topped up with live beams if too few."""
    hypotheses = list(finished)
    if len(hypotheses) < beam_size:
        for prefix, score in zip(prefixes.tolist(), scores.tolist(), strict=True):
            if score > float("-inf"):
                normalised = _normalised(score, len(prefix), length_penalty)
                hypotheses.append(Hypothesis(prefix, score, normalised, False))
    if not hypotheses:  # every score was NaN or -inf (a model whose numbers overflowed)
        hypotheses = [Hypothesis([], float("-inf"), float("-inf"), False)]
    return sorted(hypotheses, key=lambda h: h.normalised, reverse=True)[:beam_size]


def _check_search(*, max_length: int, beam_size: int = 1, length_penalty: float = 0.0) -> None:
    if max_length < 1:
        raise ConfigError(f"max_length must be a positive integer, got {max_length}")
    if beam_size < 1:
        raise ConfigError(f"beam_size must be a positive integer, got {beam_size}")
    if length_penalty < 0:
        raise ConfigError(f"length_penalty must be ≥ 0, got {length_penalty}")

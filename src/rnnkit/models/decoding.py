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

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit.errors import ConfigError

# step(token_ids (B, 1), state) -> (logits (B, V), state); state is any layer state (or None).
StepFn = Callable[[Tensor, object], tuple[Tensor, object]]


@dataclass(frozen=True, kw_only=True)
class SamplingConfig:
    """How the next token is chosen from the logits."""

    temperature: float = 1.0  # τ; 0 means greedy
    top_k: int | None = None  # keep the k most probable tokens
    top_p: float | None = None  # keep the smallest set with mass ≥ p

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ConfigError(f"temperature must be ≥ 0, got {self.temperature}")
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

"""Sampling semantics: temperature, top-k, top-p, greedy, carried state, beam search."""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.models.decoding import (
    SamplingConfig,
    beam_search,
    choose_next,
    filter_logits,
    generate_tokens,
)


def test_temperature_scales_logits() -> None:
    logits = torch.tensor([[2.0, 1.0, 0.0]])
    cooled = filter_logits(logits, SamplingConfig(temperature=0.5)).softmax(-1)
    expected = torch.tensor([[4.0, 2.0, 0.0]]).softmax(-1)
    torch.testing.assert_close(cooled, expected)


def test_top_p_keeps_the_token_that_crosses_p() -> None:
    probabilities = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    kept = filter_logits(probabilities.log(), SamplingConfig(top_p=0.7)).isfinite()
    assert kept.tolist() == [[True, True, False, False]]
    kept = filter_logits(probabilities.log(), SamplingConfig(top_p=0.5)).isfinite()
    assert kept.tolist() == [[True, False, False, False]]


def test_top_p_works_on_unsorted_vocabularies() -> None:
    probabilities = torch.tensor([[0.05, 0.5, 0.15, 0.3]])
    kept = filter_logits(probabilities.log(), SamplingConfig(top_p=0.7)).isfinite()
    assert kept.tolist() == [[False, True, False, True]]


def test_sample_frequencies_follow_the_filtered_distribution() -> None:
    logits = torch.tensor([[math.log(0.6), math.log(0.3), math.log(0.1)]]).expand(20000, 3)
    generator = torch.Generator().manual_seed(0)
    tokens = choose_next(logits, SamplingConfig(top_k=2), generator)
    frequencies = torch.bincount(tokens, minlength=3).double() / tokens.numel()
    assert frequencies[2] == 0
    assert abs(frequencies[0].item() - 2 / 3) < 0.02


def test_zero_temperature_is_greedy() -> None:
    logits = torch.tensor([[0.1, 3.0, 0.2], [5.0, 0.0, 0.0]])
    assert choose_next(logits, SamplingConfig(temperature=0.0)).tolist() == [1, 0]


@pytest.mark.parametrize(
    "kwargs", [{"temperature": -1.0}, {"top_k": 0}, {"top_p": 0.0}, {"top_p": 1.5}]
)
def test_bad_sampling_config(kwargs: dict) -> None:
    with pytest.raises(ConfigError, match="got"):
        SamplingConfig(**kwargs)


def _counting_step(calls: list[int]):
    """A fake model: the next token is (last token + 1) mod 5; the state counts tokens read."""

    def step(token_ids: torch.Tensor, state):
        calls.append(token_ids.shape[1])
        logits = torch.full((token_ids.shape[0], 5), -10.0)
        logits[torch.arange(token_ids.shape[0]), (token_ids[:, -1] + 1) % 5] = 10.0
        read = (0 if state is None else state) + token_ids.shape[1]
        return logits, read

    return step


def test_generation_reads_the_prefix_once() -> None:
    calls: list[int] = []
    tokens = list(
        generate_tokens(_counting_step(calls), torch.tensor([0, 1, 2]), 4, SamplingConfig())
    )
    assert tokens == [3, 4, 0, 1]
    assert calls == [3, 1, 1, 1, 1]


def test_empty_prime_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least one token"):
        list(generate_tokens(_counting_step([]), torch.tensor([], dtype=torch.long), 3,
                             SamplingConfig()))  # fmt: skip


def test_beam_search_beats_greedy_on_a_trap() -> None:
    # From state 0: token 1 (p=0.6) leads to a flat distribution; token 2 (p=0.4) leads to a
    # certain continuation. Greedy picks 1; the best two-token sequence is 2 then 3.
    def step(token_ids: torch.Tensor, state):
        last = token_ids[:, -1]
        rows = []
        for token in last.tolist():
            if token == 0:
                rows.append([1e-9, 0.6, 0.4, 1e-9])
            elif token == 1:
                rows.append([0.25, 0.25, 0.25, 0.25])
            else:
                rows.append([1e-9, 1e-9, 1e-9, 1.0])
        return torch.tensor(rows).log(), state

    best = beam_search(step, torch.tensor([0]), 2, beam_size=2, select_state=lambda s, i: s)
    assert best == [2, 3]
    greedy = list(generate_tokens(step, torch.tensor([0]), 2, SamplingConfig(temperature=0.0)))
    assert greedy[0] == 1

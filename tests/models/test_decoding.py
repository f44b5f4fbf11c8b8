"""Sampling semantics: temperature, top-k, top-p, greedy, carried state, beam search."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.models.decoding import (
    SamplingConfig,
    beam_decode,
    beam_search,
    choose_next,
    filter_logits,
    generate_tokens,
    greedy_decode,
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
        list(
            generate_tokens(
                _counting_step([]), torch.tensor([], dtype=torch.long), 3, SamplingConfig()
            )
        )


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


# -- decoding until <eos>: greedy_decode and beam_decode (issue 11) ------------------------------
EOS_4 = 3  # <eos> of the toy vocabulary V = 4 (and <bos> = 0)


def _prefix_tables(seed: int, rows: int, vocab: int, depth: int) -> list[dict]:
    """For each row, log Pr(· | prefix) (V,) for every prefix of at most `depth` tokens."""
    generator = torch.Generator().manual_seed(seed)
    tables = []
    for _ in range(rows):
        table = {}
        for n in range(depth + 1):
            for prefix in itertools.product(range(vocab), repeat=n):
                scores = 2 * torch.randn(vocab, generator=generator, dtype=torch.float64)
                table[prefix] = scores.log_softmax(-1)
        tables.append(table)
    return tables


def _table_step(tables: list[dict]):
    """A search step over hand tables; the state is each row's (table index, prefix after <bos>)."""

    def step(tokens: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        state = [
            (row, (*prefix, int(token)) if started else ())
            for (row, prefix, started), token in zip(state, tokens, strict=True)
        ]
        logits = torch.stack([tables[row][prefix] for row, prefix in state])  # (N, V)
        return logits, [(row, prefix, True) for row, prefix in state]

    return step


def _start(rows: int) -> list:
    return [(row, (), False) for row in range(rows)]  # nothing read yet: the first token is <bos>


def _reorder(state: list, index: torch.Tensor) -> list:
    return [state[i] for i in index.tolist()]


def _table_score(table: dict, tokens: list[int]) -> float:
    return sum(float(table[tuple(tokens[:t])][tokens[t]]) for t in range(len(tokens)))


def _search(tables: list[dict], *, beam_size: int | None, max_length: int, alpha: float = 1.0):
    ids = {"batch_size": len(tables), "bos_id": 0, "eos_id": EOS_4, "max_length": max_length}
    if beam_size is None:
        return greedy_decode(_table_step(tables), _start(len(tables)), length_penalty=alpha, **ids)
    return beam_decode(
        _table_step(tables),
        _start(len(tables)),
        reorder=_reorder,
        beam_size=beam_size,
        length_penalty=alpha,
        **ids,
    )


def _every_hypothesis(max_length: int) -> list[list[int]]:
    """All outputs over V = 4: ending at the first <eos> within max_length, or cut at it."""
    others = [0, 1, 2]
    finished = [[*p, EOS_4] for n in range(max_length) for p in itertools.product(others, repeat=n)]
    return finished + [list(p) for p in itertools.product(others, repeat=max_length)]


@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize("max_length", [3, 4])
def test_a_wide_beam_returns_exactly_the_best_hypotheses(max_length: int, alpha: float) -> None:
    (table,) = tables = _prefix_tables(max_length, 1, 4, max_length)
    everything = _every_hypothesis(max_length)  # 13 + 27 = 40, or 40 + 81 = 121
    ranked = sorted(
        everything, key=lambda y: _table_score(table, y) / len(y) ** alpha, reverse=True
    )
    widest_layer = 3**max_length  # live prefixes at the last step: from there the beam is exact
    for beam_size in (widest_layer, len(everything), 200):
        (found,) = _search(tables, beam_size=beam_size, max_length=max_length, alpha=alpha)
        assert [h.tokens for h in found] == ranked[:beam_size]
        for hypothesis in found:
            score = _table_score(table, hypothesis.tokens)
            assert hypothesis.score == pytest.approx(score, abs=1e-12)
            assert hypothesis.normalised == pytest.approx(score / len(hypothesis.tokens) ** alpha)
            assert hypothesis.finished == (hypothesis.tokens[-1] == EOS_4)


def test_beam_search_beats_greedy_when_the_first_step_misleads() -> None:
    table = {prefix: torch.full((4,), -30.0, dtype=torch.float64) for prefix in [(), (1,), (2,)]}
    table[()][[1, 2]] = torch.tensor([0.6, 0.4], dtype=torch.float64).log()  # greedy takes 1 …
    table[(1,)][:] = math.log(0.25)  # … where nothing is likely,
    table[(2,)][EOS_4] = 0.0  # while 2 is surely followed by <eos>
    (greedy,) = _search([table], beam_size=None, max_length=2)
    ((best, _),) = _search([table], beam_size=2, max_length=2, alpha=0.0)
    assert greedy.tokens[0] == 1
    assert best.tokens == [2, EOS_4]
    assert best.finished
    assert best.score == pytest.approx(math.log(0.4))


def test_eos_does_not_take_a_live_beams_place_and_done_sequences_stop() -> None:
    """K = 2: <eos> is the best first token, yet 1 and 2 both stay live; 2 then surely ends."""
    table = {prefix: torch.full((4,), -30.0, dtype=torch.float64) for prefix in [(), (1,), (2,)]}
    table[()][[EOS_4, 1, 2]] = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64).log()
    table[(1,)][:] = math.log(0.25)  # [1, x]: 0.075 each
    table[(2,)][EOS_4] = 0.0  # [2, <eos>]: 0.2
    calls: list[int] = []
    step = _table_step([table])

    def counted(tokens: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        calls.append(len(tokens))
        return step(tokens, state)

    (found,) = beam_decode(
        counted,
        _start(1),
        reorder=_reorder,
        batch_size=1,
        bos_id=0,
        eos_id=EOS_4,
        beam_size=2,
        max_length=10,
        length_penalty=0.0,
    )
    assert [h.tokens for h in found] == [[EOS_4], [2, EOS_4]]
    assert [h.score for h in found] == pytest.approx([math.log(0.5), math.log(0.2)])
    assert calls == [2, 2]  # two finished hypotheses after step 2: no third step


@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize("seed", range(5))
def test_beam_size_one_is_greedy(seed: int, alpha: float) -> None:
    tables = _prefix_tables(100 + seed, 3, 4, 5)
    greedy = _search(tables, beam_size=None, max_length=5, alpha=alpha)
    beam = _search(tables, beam_size=1, max_length=5, alpha=alpha)
    for table, alone, (best,) in zip(tables, greedy, beam, strict=True):
        assert alone.tokens == best.tokens
        assert alone.finished == best.finished
        assert alone.score == pytest.approx(best.score, abs=1e-12)
        assert alone.normalised == pytest.approx(best.normalised, abs=1e-12)
        assert alone.score == pytest.approx(_table_score(table, alone.tokens), abs=1e-12)


def test_greedy_follows_the_argmax_and_stops_each_row_at_its_eos() -> None:
    """Next token from the previous one: rows start differently, so they stop at 2, 3 or never."""
    after = {0: 1, 1: 2, 2: EOS_4, EOS_4: 0}  # <bos>=0 → 1 → 2 → <eos>

    def step(tokens: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        logits = torch.full((len(tokens), 4), -5.0)
        for row, (token, read) in enumerate(zip(tokens.tolist(), state, strict=True)):
            logits[row, [2, 1, 0][row] if read == 0 else after[token]] = 5.0  # rows start 2, 1, 0
        return logits, [read + 1 for read in state]

    found = greedy_decode(step, [0, 0, 0], batch_size=3, bos_id=0, eos_id=EOS_4, max_length=3)
    assert [h.tokens for h in found] == [[2, EOS_4], [1, 2, EOS_4], [0, 1, 2]]
    assert [h.finished for h in found] == [True, True, False]
    chosen = torch.tensor([5.0, -5.0, -5.0, -5.0]).double().log_softmax(-1)[0].item()
    assert [h.score for h in found] == pytest.approx([2 * chosen, 3 * chosen, 3 * chosen])
    assert [h.normalised for h in found] == pytest.approx([chosen] * 3)


@pytest.mark.parametrize("beam_size", [None, 1, 3])
def test_a_batch_of_tables_decodes_each_row_as_alone(beam_size: int | None) -> None:
    tables = _prefix_tables(7, 4, 4, 4)
    together = _search(tables, beam_size=beam_size, max_length=4)
    for table, row in zip(tables, together, strict=True):
        (alone,) = _search([table], beam_size=beam_size, max_length=4)
        assert row == alone


def test_beam_keeps_ranked_distinct_hypotheses_with_their_scores() -> None:
    tables = _prefix_tables(11, 2, 4, 5)
    for table, found in zip(tables, _search(tables, beam_size=3, max_length=5), strict=True):
        assert len(found) == 3
        assert len({tuple(h.tokens) for h in found}) == 3
        assert [h.normalised for h in found] == sorted((h.normalised for h in found), reverse=True)
        for hypothesis in found:
            assert hypothesis.score == pytest.approx(_table_score(table, hypothesis.tokens))
            assert EOS_4 not in hypothesis.tokens[:-1]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"beam_size": 0}, "beam_size must be a positive integer, got 0"),
        ({"max_length": 0}, "max_length must be a positive integer, got 0"),
        ({"length_penalty": -0.5}, "length_penalty must be ≥ 0, got -0.5"),
    ],
)
def test_bad_beam_options_are_refused(options: dict, match: str) -> None:
    settings = {"beam_size": 2, "max_length": 3, "length_penalty": 1.0, **options}
    with pytest.raises(ConfigError, match=match):
        beam_decode(
            _table_step([]), [], reorder=_reorder, batch_size=1, bos_id=0, eos_id=EOS_4, **settings
        )


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_length": 0}, "max_length must be a positive integer, got 0"),
        ({"length_penalty": -1.0}, "length_penalty must be ≥ 0, got -1.0"),
    ],
)
def test_bad_greedy_options_are_refused(options: dict, match: str) -> None:
    settings = {"max_length": 3, **options}
    with pytest.raises(ConfigError, match=match):
        greedy_decode(_table_step([]), [], batch_size=1, bos_id=0, eos_id=EOS_4, **settings)


def test_a_vanishing_temperature_is_a_clear_error_not_nan() -> None:
    """Regression (docs/RELIABILITY.md): τ = 1e-40 made z / τ overflow and sampling NaN."""
    from rnnkit.errors import ConfigError
    from rnnkit.models.decoding import SamplingConfig

    with pytest.raises(ConfigError, match="at least"):
        SamplingConfig(temperature=1e-40)
    assert SamplingConfig(temperature=1e-6).temperature == 1e-6


@pytest.mark.parametrize("temperature", [float("nan"), float("inf")])
def test_a_non_finite_temperature_is_a_clear_error(temperature: float) -> None:
    """Regression (numerics campaign): τ = nan passed every check and sampled from NaN."""
    from rnnkit.errors import ConfigError
    from rnnkit.models.decoding import SamplingConfig

    with pytest.raises(ConfigError, match="temperature must be a finite number"):
        SamplingConfig(temperature=temperature)

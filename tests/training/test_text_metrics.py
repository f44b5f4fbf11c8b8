"""Corpus BLEU, its precisions and brevity penalty, BLEU-n and chrF against hand computations."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from rnnkit.errors import DataError
from rnnkit.training.text_metrics import bleu_up_to, corpus_scores

# Words only, so sacrebleu's 13a tokenisation is a split on spaces. Pair 1 has two references
# of 7 words for 6 hypothesis words; pair 2 one reference (sacrebleu's second stream gets None);
# pair 3 references of 4 and 6 words for 5 hypothesis words, a tie won by the shorter one.
HYPOTHESES = ["the cat sat on the mat", "there is a dog in the garden", "a man rides a horse"]
REFERENCES = [
    ["the cat is on the soft mat", "a cat sat on the red mat"],
    ["there is a big dog in the garden"],
    ["a man rides horses", "a man is riding a horse"],
]


def _ngrams(words: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def _hand_bleu(
    hypotheses: list[str], references: list[list[str]], max_order: int = 4
) -> tuple[float, list[float], float]:
    """BLEU, p_n (both in percent) and BP from the definition (Papineni et al. 2002)."""
    matches, totals = [0] * max_order, [0] * max_order
    hyp_length = ref_length = 0
    for hypothesis, refs in zip(hypotheses, references, strict=True):
        words, ref_words = hypothesis.split(), [r.split() for r in refs]
        hyp_length += len(words)
        ref_length += min((abs(len(r) - len(words)), len(r)) for r in ref_words)[1]  # closest
        for n in range(1, max_order + 1):
            counts, most = _ngrams(words, n), Counter()
            for r in ref_words:
                most |= _ngrams(r, n)  # the most generous reference count of each n-gram
            matches[n - 1] += sum(min(c, most[g]) for g, c in counts.items())  # clipped
            totals[n - 1] += sum(counts.values())
    precisions = [m / t for m, t in zip(matches, totals, strict=True)]
    bp = 1.0 if hyp_length > ref_length else math.exp(1 - ref_length / hyp_length)
    bleu = bp * math.exp(sum(math.log(p) for p in precisions) / max_order)
    return 100 * bleu, [100 * p for p in precisions], bp


def test_corpus_bleu_precisions_and_brevity_penalty_follow_the_definition() -> None:
    scores = corpus_scores(HYPOTHESES, REFERENCES)
    bleu, precisions, bp = _hand_bleu(HYPOTHESES, REFERENCES)
    assert min(precisions) > 0  # every p_n > 0: no smoothing is involved
    assert bp == pytest.approx(math.exp(1 - 19 / 18))  # c = 6 + 7 + 5, r = 7 + 8 + 4
    # 4-grams: "cat sat on the" (of 3) and "dog in the garden" (of 4) match, none of 2 in pair 3
    assert precisions[3] == pytest.approx(100 * 2 / 9)
    assert scores["brevity_penalty"] == pytest.approx(bp, abs=1e-12)
    for n, precision in enumerate(precisions, start=1):
        assert scores[f"precision_{n}"] == pytest.approx(precision, abs=1e-9)
    assert scores["bleu"] == pytest.approx(bleu, abs=1e-9)
    assert scores["bleu"] == pytest.approx(51.65167, abs=1e-4)
    assert 0.0 < scores["chrf"] < 100.0


def test_bleu_up_to_one_and_two_by_hand() -> None:
    hypotheses, references = ["the cat sat on the mat"], [["the cat is on the mat"]]
    # unigrams: the ×2, cat, on, mat match, sat does not: p_1 = 5/6; c = r = 6, BP = 1
    assert bleu_up_to(hypotheses, references, 1) == pytest.approx(100 * 5 / 6)
    # bigrams: "the cat", "on the", "the mat" of 5 match: p_2 = 3/5; BLEU-2 = √(p_1 p_2)
    assert bleu_up_to(hypotheses, references, 2) == pytest.approx(100 * math.sqrt(5 / 6 * 3 / 5))
    # a short hypothesis: p_1 = 1, BP = exp(1 − 5/3)
    assert bleu_up_to(["a dog runs"], [["a dog runs very fast"]], 1) == pytest.approx(
        100 * math.exp(1 - 5 / 3)
    )
    assert bleu_up_to(HYPOTHESES, REFERENCES, 4) == pytest.approx(_hand_bleu(
        HYPOTHESES, REFERENCES)[0])  # fmt: skip


def test_chrf_of_identical_text_is_100_and_lowercase_only_changes_bleu() -> None:
    same = corpus_scores(["Ein Mann fährt Fahrrad."], [["Ein Mann fährt Fahrrad."]])
    assert same["chrf"] == pytest.approx(100.0)
    assert same["bleu"] == pytest.approx(100.0)
    assert same["brevity_penalty"] == 1.0
    hypotheses, references = ["The Cat Sat On The Mat"], [["the cat sat on the mat"]]
    cased = corpus_scores(hypotheses, references)
    folded = corpus_scores(hypotheses, references, lowercase=True)
    assert folded["bleu"] == pytest.approx(100.0)
    assert cased["bleu"] < 1.0  # no n-gram matches with case kept
    assert cased["chrf"] == folded["chrf"] < 100.0  # chrF stays case-sensitive


@pytest.mark.parametrize(
    ("hypotheses", "references", "message"),
    [
        (["a b"], [["a b"], ["c d"]], "1 hypotheses but 2 reference lists"),
        (["a b", "c d"], [["a b"], []], "at least one reference"),
        ([], [], "no hypotheses"),
    ],
)
def test_bad_input_raises_data_error(
    hypotheses: list[str], references: list[list[str]], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        corpus_scores(hypotheses, references)
    with pytest.raises(DataError, match=message):
        bleu_up_to(hypotheses, references, 2)

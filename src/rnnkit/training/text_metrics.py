"""Corpus BLEU and chrF of generated text against references, computed by sacrebleu.

    BLEU = BP · exp(Σ_{n=1}^{4} ¼ log p_n)  (Papineni et al. 2002)
    BP = min(1, exp(1 − r / c))

where p_n is the clipped n-gram precision of the whole corpus (each hypothesis n-gram counts
at most as often as in its most generous reference), c the total hypothesis length and r the
total length of the references closest in length. chrF is the F-score (β = 2) of character
n-grams up to 6 (Popović 2015). Both use sacrebleu's defaults (13a tokenisation, exponential
smoothing off for corpus BLEU), so the numbers compare with published ones (Post 2018).

References:
    Papineni, Roukos, Ward, Zhu. BLEU: a Method for Automatic Evaluation of Machine
        Translation. ACL 2002.
    Popović. chrF: character n-gram F-score for automatic MT evaluation. WMT 2015.
    Post. A Call for Clarity in Reporting BLEU Scores. WMT 2018. https://github.com/mjpost/sacrebleu
"""

from __future__ import annotations

from collections.abc import Sequence

import sacrebleu

from rnnkit.errors import DataError


def _reference_streams(references: Sequence[Sequence[str]], count: int) -> list[list[str]]:
    """sacrebleu's layout: one stream per reference slot; a missing reference is None."""
    if count == 0:
        raise DataError("no hypotheses to score; give at least one output and its references")
    if len(references) != count:
        raise DataError(f"{count} hypotheses but {len(references)} reference lists; give one "
                        "list of references per hypothesis")  # fmt: skip
    if any(len(refs) == 0 for refs in references):
        raise DataError("every hypothesis needs at least one reference")
    width = max(len(refs) for refs in references)
    return [[refs[k] if k < len(refs) else None for refs in references] for k in range(width)]


def corpus_scores(
    hypotheses: Sequence[str], references: Sequence[Sequence[str]], *, lowercase: bool = False
) -> dict[str, float]:
    """Corpus BLEU (0–100), its 1- to 4-gram precisions, brevity penalty and chrF (0–100).

    Args:
        hypotheses: one detokenised output per example.
        references: for each example, its reference texts (one or several).
        lowercase: case-insensitive BLEU (as sacrebleu's -lc).

    >>> scores = corpus_scores(["the cat sat on the mat"], [["the cat sat on the mat"]])
    >>> round(scores["bleu"], 6), round(scores["chrf"], 6)
    (100.0, 100.0)
    """
    streams = _reference_streams(references, len(hypotheses))
    bleu = sacrebleu.corpus_bleu(list(hypotheses), streams, lowercase=lowercase)
    chrf = sacrebleu.corpus_chrf(list(hypotheses), streams)
    scores = {"bleu": float(bleu.score), "brevity_penalty": float(bleu.bp),
              "chrf": float(chrf.score)}  # fmt: skip
    for n, precision in enumerate(bleu.precisions, start=1):
        scores[f"precision_{n}"] = float(precision)
    return scores


def bleu_up_to(
    hypotheses: Sequence[str], references: Sequence[Sequence[str]], max_order: int
) -> float:
    """Corpus BLEU-n with uniform weights over 1…n-grams (BLEU-1 … BLEU-4, as captioning reports).

    >>> round(bleu_up_to(["a dog runs"], [["a dog runs fast"]], 1), 2)  # p_1 = 1, BP = e^(1−4/3)
    71.65
    """
    streams = _reference_streams(references, len(hypotheses))
    metric = sacrebleu.metrics.BLEU(max_ngram_order=max_order, force=True)  # tokenised is fine
    return float(metric.corpus_score(list(hypotheses), streams).score)

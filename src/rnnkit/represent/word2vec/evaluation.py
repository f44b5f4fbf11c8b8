"""Intrinsic evaluation of word vectors: analogy accuracy and word-pair similarity correlation.

Analogies "a : b :: c : d" (Mikolov's questions-words file, `: section` lines between blocks)
count as correct when the best-scoring word other than a, b, c is d (3CosAdd or 3CosMul, see
`WordVectors.most_similar`). Word pairs with human scores (WordSim-353, SimLex-999) are
scored by cosine, and the agreement is Spearman's ρ, the Pearson correlation of the ranks:

    r(x, y) = Σ_i (x_i − x̄)(y_i − ȳ) / √(Σ_i (x_i − x̄)² · Σ_i (y_i − ȳ)²)   Pearson
    ρ(x, y) = r(rank(x), rank(y)),   tied values share their average rank   Spearman

Both follow gensim's `evaluate_word_analogies` / `evaluate_word_pairs`: only the
`restrict_vocab` most frequent words count, matching ignores case by default (the most
frequent casing stands for a word), and a question or pair with a word outside that
vocabulary is skipped and counted. Sections whose name starts with "gram" are syntactic, the
others semantic (Mikolov et al. 2013).

References:
    T. Mikolov, K. Chen, G. Corrado and J. Dean, "Efficient Estimation of Word
    Representations in Vector Space", ICLR workshop 2013 (the analogy set).
    L. Finkelstein et al., "Placing Search in Context: The Concept Revisited", TOIS 2002.
    F. Hill, R. Reichart and A. Korhonen, "SimLex-999", Computational Linguistics 2015.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from rnnkit.errors import DataError
from rnnkit.represent.word2vec.vectors import (
    COSMUL_EPSILON,
    AnalogyMethod,
    WordVectors,
    check_method,
)
from rnnkit.text import files


@dataclass(frozen=True)
class SectionScore:
    """Accuracy on one `: section` of an analogy file."""

    name: str
    correct: int  # questions answered right
    answered: int  # questions with all four words in the vocabulary
    skipped: int  # questions with a word outside the vocabulary

    @property
    def accuracy(self) -> float:
        """correct / answered (0 when nothing was answered)."""
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class AnalogyResult:
    """Per-section and overall analogy accuracy."""

    sections: list[SectionScore]
    method: str

    def _total(self, sections: list[SectionScore], name: str) -> SectionScore:
        return SectionScore(
            name,
            sum(s.correct for s in sections),
            sum(s.answered for s in sections),
            sum(s.skipped for s in sections),
        )

    @property
    def total(self) -> SectionScore:
        """All sections together; `total.accuracy` is the usual headline number."""
        return self._total(self.sections, "total")

    @property
    def semantic(self) -> SectionScore:
        """Sections not starting with "gram"."""
        return self._total([s for s in self.sections if not s.name.startswith("gram")], "semantic")

    @property
    def syntactic(self) -> SectionScore:
        """Sections starting with "gram"."""
        return self._total([s for s in self.sections if s.name.startswith("gram")], "syntactic")


@dataclass(frozen=True)
class PairsResult:
    """Agreement of cosine similarity with human scores on a word-pair file."""

    spearman: float  # ρ
    pearson: float  # r
    pairs: int  # pairs scored
    skipped: int  # pairs with a word outside the vocabulary

    @property
    def oov_ratio(self) -> float:
        """skipped / all pairs, a fraction in [0, 1] (gensim reports it in percent)."""
        total = self.pairs + self.skipped
        return self.skipped / total if total else 0.0


def _lines(path: Path) -> list[str]:
    """The lines of a regular file, read with a bound (`rnnkit.text.files.read_text`)."""
    return files.read_text(path, what="evaluation file", encoding="utf-8-sig").splitlines()


def read_analogies(path: str | Path) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """(section name, questions a b c d) of a questions-words file, in file order."""
    path = Path(path)
    sections: list[tuple[str, list[tuple[str, str, str, str]]]] = []
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        if line.startswith(":"):
            sections.append((line[1:].strip(), []))
            continue
        words = line.split()
        if len(words) != 4 or not sections:
            problem = "a question before any ': section' line" if len(words) == 4 else "a line"
            raise DataError(
                f"{path}:{number}: {problem} {line[:60]!r}; expected ': name' or four words"
            )
        sections[-1][1].append((words[0], words[1], words[2], words[3]))
    if not sections:
        raise DataError(f"{path} holds no ': section' line; not a questions-words file")
    return sections


def _folded_vocab(vectors: WordVectors, restrict_vocab: int, case_insensitive: bool) -> dict:
    """Word (upper-cased if case-insensitive) -> row, the most frequent casing winning."""
    words = vectors.words[:restrict_vocab]
    if not case_insensitive:
        return {word: row for row, word in enumerate(words)}
    return {word.upper(): row for row, word in reversed(list(enumerate(words)))}


def analogy_predictions(
    unit: Tensor, questions: Tensor, group: Tensor, method: AnalogyMethod, batch_size: int = 512
) -> Tensor:
    """The predicted row d̂ (Q,) of each question (a, b, c) (Q, 3), computed in batches.

    3CosAdd: d̂ = argmax_x x̂ · (b̂ − â + ĉ); 3CosMul: d̂ = argmax_x cos'(x,b) cos'(x,c) /
    (cos'(x,a) + ε); x ranges over the rows of `unit` (R, E) whose `group` (R,) (the row of
    the case-folded word) differs from those of a, b and c, which must be group rows.
    """
    variants = (group != torch.arange(len(group))).nonzero().squeeze(1)  # other casings (K,)
    predictions = []
    for start in range(0, len(questions), batch_size):
        batch = questions[start : start + batch_size]  # (B, 3)
        B = len(batch)
        if method == "3cosadd":
            offset = unit[batch[:, 1]] - unit[batch[:, 0]] + unit[batch[:, 2]]  # b̂ − â + ĉ
            scores = offset @ unit.T  # (B, R)
        else:
            cosines = (unit[batch.T.reshape(-1)] @ unit.T).add_(1).div_(2).view(3, B, -1)  # cos'
            scores = cosines[1].mul_(cosines[2]).div_(cosines[0].add_(COSMUL_EPSILON))  # (B, R)
        scores[torch.arange(B)[:, None], batch] = -torch.inf  # a, b, c themselves
        if len(variants):  # and their other casings
            same = (group[variants][None, :, None] == batch[:, None, :]).any(-1)  # (B, K)
            scores[:, variants] = scores[:, variants].masked_fill(same, -torch.inf)
        predictions.append(scores.argmax(1))
    return torch.cat(predictions) if predictions else torch.empty(0, dtype=torch.long)


def evaluate_analogies(
    vectors: WordVectors,
    path: str | Path,
    *,
    restrict_vocab: int = 300_000,
    case_insensitive: bool = True,
    method: AnalogyMethod = "3cosadd",
) -> AnalogyResult:
    """Accuracy on a questions-words file, per section and overall (see the module docstring).

    >>> wv = WordVectors(["man", "woman", "king", "queen"],
    ...                  torch.tensor([[1.0, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1]]))
    >>> import tempfile; folder = tempfile.mkdtemp()
    >>> _ = (Path(folder) / "q.txt").write_text(": royal\\nman king woman queen\\nman king x y\\n")
    >>> result = evaluate_analogies(wv, Path(folder) / "q.txt")
    >>> result.total.accuracy, result.total.skipped
    (1.0, 1)
    """
    check_method(method)
    vocab = _folded_vocab(vectors, restrict_vocab, case_insensitive)
    fold = str.upper if case_insensitive else str
    unit = vectors.unit[: min(restrict_vocab, len(vectors))]  # (R, E)
    group = torch.tensor([vocab[fold(word)] for word in vectors.words[: len(unit)]])  # (R,)
    scores = []
    for name, questions in read_analogies(path):
        rows = [[vocab.get(fold(word)) for word in question] for question in questions]
        known = torch.tensor([q for q in rows if None not in q], dtype=torch.long).view(-1, 4)
        predicted = analogy_predictions(unit, known[:, :3], group, method)  # (Q,)
        correct = int((group[predicted] == group[known[:, 3]]).sum()) if len(known) else 0
        scores.append(SectionScore(name, correct, len(known), len(rows) - len(known)))
    return AnalogyResult(scores, method)


def read_word_pairs(path: str | Path) -> list[tuple[str, str, float]]:
    """(word 1, word 2, score) per line of a tab-separated pair file; `#` lines are comments.

    A first non-comment line whose score is not a number is taken as a header and skipped.
    """
    path = Path(path)
    pairs: list[tuple[str, str, float]] = []
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        try:
            if len(fields) != 3:
                raise ValueError(f"{len(fields)} fields")
            pairs.append((fields[0].strip(), fields[1].strip(), float(fields[2])))
        except ValueError as err:
            if not pairs and len(fields) == 3:
                continue  # a header line such as "word1  word2  score"
            raise DataError(
                f"{path}:{number}: expected 'word1<TAB>word2<TAB>score', got {line[:60]!r} ({err})"
            ) from err
    if not pairs:
        raise DataError(f"{path} holds no word pairs")
    return pairs


def pearson(x: Tensor, y: Tensor) -> float:
    """r(x, y), the Pearson correlation of two 1-D tensors (float64 inside)."""
    x, y = x.double() - x.double().mean(), y.double() - y.double().mean()
    denominator = float((x.square().sum() * y.square().sum()).sqrt())
    r = float((x * y).sum()) / denominator if denominator > 0 else 0.0
    return max(-1.0, min(1.0, r))  # rounding can step just past ±1


def average_ranks(values: Tensor) -> Tensor:
    """Ranks 1 … N of a 1-D tensor, tied values sharing the mean of their ranks.

    >>> average_ranks(torch.tensor([10.0, 30.0, 20.0, 30.0])).tolist()
    [1.0, 3.5, 2.0, 3.5]
    """
    order = torch.argsort(values, stable=True)
    _, inverse, counts = torch.unique_consecutive(
        values[order], return_inverse=True, return_counts=True
    )
    last = counts.cumsum(0).double()  # rank of the last member of each tie group
    mean_rank = last - (counts.double() - 1) / 2  # mean of first … last
    ranks = torch.empty(len(values), dtype=torch.float64)
    ranks[order] = mean_rank[inverse]
    return ranks


def spearman(x: Tensor, y: Tensor) -> float:
    """ρ(x, y) = r(rank(x), rank(y)) with average ranks for ties."""
    return pearson(average_ranks(x), average_ranks(y))


def evaluate_word_pairs(
    vectors: WordVectors,
    path: str | Path,
    *,
    restrict_vocab: int = 300_000,
    case_insensitive: bool = True,
) -> PairsResult:
    """Spearman ρ and Pearson r between cos(w1, w2) and the human scores of a pair file."""
    vocab = _folded_vocab(vectors, restrict_vocab, case_insensitive)
    fold = str.upper if case_insensitive else str
    pairs = read_word_pairs(path)
    known = [(vocab[fold(a)], vocab[fold(b)], score) for a, b, score in pairs
             if fold(a) in vocab and fold(b) in vocab]  # fmt: skip
    if len(known) < 2:
        return PairsResult(0.0, 0.0, len(known), len(pairs) - len(known))
    rows_a, rows_b, human = zip(*known, strict=True)
    unit = vectors.unit
    cosines = (unit[list(rows_a)] * unit[list(rows_b)]).sum(1)  # cos(w1, w2) (N,)
    human_scores = torch.tensor(human, dtype=torch.float64)
    return PairsResult(
        spearman(cosines, human_scores),
        pearson(cosines, human_scores),
        len(known),
        len(pairs) - len(known),
    )


__all__ = [
    "AnalogyResult",
    "PairsResult",
    "SectionScore",
    "average_ranks",
    "evaluate_analogies",
    "evaluate_word_pairs",
    "pearson",
    "read_analogies",
    "read_word_pairs",
    "spearman",
]

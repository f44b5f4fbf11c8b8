"""Analogy and word-pair evaluation: known answers, gensim parity, the real evaluation files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from gensim.models import KeyedVectors

from rnnkit.datasets.shared import locate_shared
from rnnkit.errors import ConfigError, DataError
from rnnkit.represent.word2vec.evaluation import (
    average_ranks,
    evaluate_analogies,
    evaluate_word_pairs,
    pearson,
    read_analogies,
    read_word_pairs,
    spearman,
)
from rnnkit.represent.word2vec.vectors import WordVectors

# the tests that read it carry @pytest.mark.shared_data("word_embeddings"): skipped where absent
SHARED = locate_shared("word_embeddings") or Path("../shared/data/word_embeddings")


def _royal() -> WordVectors:
    """king − man + woman = queen exactly; Paris − France + Italy = Rome exactly."""
    words = ["man", "woman", "king", "queen", "France", "Paris", "Italy", "Rome", "paris"]
    vectors = torch.tensor(
        [
            [1.0, 0, 0, 0, 0],
            [1, 1, 0, 0, 0],
            [1, 0, 1, 0, 0],
            [1, 1, 1, 0, 0],
            [0, 0, 0, 1, 0],
            [0, 0, 0, 1, 1],
            [0, 0.3, 0, 1, 0],
            [0, 0.3, 0, 1, 1],
            [0, 0, 0, 1, 1.01],
        ]
    )
    return WordVectors(words, vectors)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_analogies_with_known_answers_sections_and_oov(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "q.txt",
        ": capital-common-countries\nFrance Paris Italy Rome\nFrance Paris Spain Madrid\n"
        ": gram-royal\nman king woman queen\nking man queen woman\nwoman queen man emu\n",
    )
    result = evaluate_analogies(_royal(), path)
    assert [s.name for s in result.sections] == ["capital-common-countries", "gram-royal"]
    capitals, royal = result.sections
    assert (capitals.correct, capitals.answered, capitals.skipped) == (1, 1, 1)
    assert (royal.correct, royal.answered, royal.skipped) == (2, 2, 1)
    assert result.semantic.accuracy == 1.0
    assert result.syntactic.accuracy == 1.0
    assert (result.total.correct, result.total.answered, result.total.skipped) == (3, 3, 2)


def test_case_folding_and_restrict_vocab(tmp_path: Path) -> None:
    # "paris" (row 8) is a casing of "Paris": never an answer to a question that asks Paris
    path = _write(tmp_path, "q.txt", ": capitals\nfrance paris italy rome\n")
    assert evaluate_analogies(_royal(), path).total.correct == 1
    assert evaluate_analogies(_royal(), path, case_insensitive=False).total.skipped == 1
    assert evaluate_analogies(_royal(), path, restrict_vocab=7).total.skipped == 1  # Rome is row 7


def test_3cosmul_differs_from_3cosadd(tmp_path: Path) -> None:
    # on the unit circle at 0°, 30°, 60°, 90°, 120° (see test_word2vec_vectors.py)
    angles = torch.deg2rad(torch.tensor([0.0, 30, 60, 90, 120]))
    wv = WordVectors(list("abcxy"), torch.stack([angles.cos(), angles.sin()], 1))
    path = _write(tmp_path, "q.txt", ": s\na b c x\na b c y\n")
    assert evaluate_analogies(wv, path).total.correct == 1
    by_mul = evaluate_analogies(wv, path, method="3cosmul")
    assert by_mul.total.correct == 1
    assert by_mul.method == "3cosmul"
    assert evaluate_analogies(wv, _write(tmp_path, "y.txt", ": s\na b c y\n"), method="3cosmul")
    with pytest.raises(ConfigError, match="method"):
        evaluate_analogies(wv, path, method="cos")  # type: ignore[arg-type]


@pytest.mark.shared_data("word_embeddings")
def test_same_correct_counts_as_gensim(tmp_path: Path) -> None:
    lines = SHARED.joinpath("questions-words.txt").read_text(encoding="utf-8").splitlines()
    sample = [line for n, line in enumerate(lines) if line.startswith(":") or n % 25 == 0]
    path = _write(tmp_path, "sample.txt", "\n".join(sample) + "\n")
    words = sorted({w.lower() for line in sample if not line.startswith(":") for w in line.split()})
    wv = WordVectors(words, torch.randn(len(words), 3))  # low dimension: some answers are right
    keyed = KeyedVectors(3)
    keyed.add_vectors(words, wv.vectors.numpy())
    _, theirs = keyed.evaluate_word_analogies(path, restrict_vocab=len(words) - 10)
    ours = evaluate_analogies(wv, path, restrict_vocab=len(words) - 10)
    assert [len(s["correct"]) for s in theirs[:-1]] == [s.correct for s in ours.sections]
    assert [len(s["correct"]) + len(s["incorrect"]) for s in theirs[:-1]] == [
        s.answered for s in ours.sections
    ]
    assert ours.total.correct > 0


def test_word_pairs_spearman_pearson_and_oov(tmp_path: Path) -> None:
    # cosines with "man": woman 1/√2, king 1/√2, queen 1/√3; human scores ranked the same way
    path = _write(
        tmp_path,
        "pairs.tsv",
        "# comment\nWord 1\tWord 2\tHuman (mean)\nman\twoman\t8\nman\tking\t8\n"
        "man\tqueen\t3\nman\temu\t5\n",
    )
    result = evaluate_word_pairs(_royal(), path)
    assert result.spearman == pytest.approx(1.0)
    assert (result.pairs, result.skipped, result.oov_ratio) == (3, 1, 0.25)
    assert -1.0 <= result.pearson <= 1.0
    assert result.pearson == pytest.approx(1.0)


def test_average_ranks_and_correlations_by_hand() -> None:
    assert average_ranks(torch.tensor([3.0, 1.0, 3.0, 2.0, 3.0])).tolist() == [4, 1, 4, 2, 4]
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert pearson(x, 2 * x + 1) == pytest.approx(1.0)
    assert pearson(x, torch.tensor([1.0, 0.0, 1.0, 0.0])) == pytest.approx(-0.4472136, abs=1e-6)
    assert spearman(x, x**3) == pytest.approx(1.0)  # monotone, not linear
    assert spearman(x, -x) == pytest.approx(-1.0)
    # ties: ranks x (1, 2, 3, 4) vs y (1.5, 1.5, 3, 4) -> r = 0.9486833
    assert spearman(x, torch.tensor([5.0, 5.0, 6.0, 9.0])) == pytest.approx(0.9486833, abs=1e-6)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("q.txt", "man king woman queen\n", "before any ': section'"),
        ("q.txt", ": s\nman king woman\n", r"q\.txt:2: a line"),
        ("q.txt", "\n", "no ': section'"),
        ("p.tsv", "a\tb\t1\nc\td\tx\n", r"p\.tsv:2: expected 'word1<TAB>word2<TAB>score'"),
        ("p.tsv", "# only a comment\n", "no word pairs"),
    ],
)
def test_malformed_evaluation_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(DataError, match=message):
        (read_analogies if name == "q.txt" else read_word_pairs)(path)


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        evaluate_word_pairs(_royal(), tmp_path / "absent.tsv")


@pytest.mark.shared_data("word_embeddings")  # shared/data/README.md §7
def test_the_real_evaluation_files_parse_completely() -> None:
    sections = read_analogies(SHARED / "questions-words.txt")
    assert len(sections) == 14
    assert sum(len(questions) for _, questions in sections) == 19_544
    words = {w for _, questions in sections for question in questions for w in question}
    pair_files = {"wordsim353.tsv": 353, "simlex999.txt": 999}
    for name, count in pair_files.items():
        pairs = read_word_pairs(SHARED / name)
        assert len(pairs) == count
        words |= {w for a, b, _ in pairs for w in (a, b)}
    wv = WordVectors(sorted(words), torch.randn(len(words), 16))
    result = evaluate_analogies(wv, SHARED / "questions-words.txt")
    assert (result.total.answered, result.total.skipped) == (19_544, 0)
    assert (result.semantic.answered, result.syntactic.answered) == (8_869, 10_675)
    for name, count in pair_files.items():
        scores = evaluate_word_pairs(wv, SHARED / name)
        assert (scores.pairs, scores.skipped) == (count, 0)
        assert abs(scores.spearman) < 0.2  # random vectors: no agreement with people

"""`rnnkit word2vec ...` end to end: train, similar, analogy, eval, plot, export, errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from gensim.models import KeyedVectors
from word2vec_helpers import make_run, planted_corpus

from rnnkit.cli import main
from rnnkit.represent.word2vec.formats import load_word2vec_binary


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`word2vec train` sets up console logging; undo it so later tests' logs stay quiet."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    make_run(tmp_path / "run")
    return tmp_path / "run"


def test_train_then_query_a_planted_corpus(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    corpus = planted_corpus(tmp_path / "corpus.txt")
    run = tmp_path / "run"
    argv = ["word2vec", "train", str(corpus), "--run-dir", str(run), "--model", "cbow"]
    flags = ["--vector-size", "12", "--epochs", "2", "--min-count", "1", "--threads", "1"]
    assert main([*argv, *flags, "--window", "2", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "epoch 2" in out
    assert "30 words × 12" in out
    assert '"model": "cbow"' in (run / "config.json").read_text()
    assert main(["word2vec", "similar", str(run), "t0w0", "--topn", "3"]) == 0
    assert "nearest to t0w0" in capsys.readouterr().out


def test_similar_and_analogy_print_tables(run_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["word2vec", "similar", str(run_dir), "man", "--topn", "2"]) == 0
    out = capsys.readouterr().out
    assert "woman" in out
    assert "0.7071" in out
    assert "queen" not in out
    assert main(["word2vec", "analogy", str(run_dir), "man", "king", "woman"]) == 0
    out = capsys.readouterr().out
    assert "man : king :: woman : ?" in out
    assert out.index("queen") < out.index("apple")
    assert main(["word2vec", "analogy", str(run_dir), "man", "king", "woman", "--method",
                 "3cosmul", "--topn", "1"]) == 0  # fmt: skip
    out = capsys.readouterr().out  # apple: cos'(apple, man) ≈ 0.01 makes its quotient largest
    assert "(3cosmul)" in out
    assert "apple" in out
    assert "queen" not in out


def test_unknown_word_exits_2_with_one_line(run_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["word2vec", "similar", str(run_dir), "kng"]) == 2
    out = capsys.readouterr().out.strip()
    assert out.startswith("error:")
    assert "'kng'" in out
    assert "'king'" in out
    assert len(out.splitlines()) == 1
    assert main(["word2vec", "analogy", str(run_dir), "man", "emu", "woman"]) == 2
    assert "'emu'" in capsys.readouterr().out


def test_eval_with_files(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    questions = tmp_path / "q.txt"
    questions.write_text(": royal\nman king woman queen\n")
    assert main(["word2vec", "eval", str(run_dir), "--analogies", str(questions)]) == 0
    out = capsys.readouterr().out
    assert "royal" in out
    assert "1.0000" in out


@pytest.mark.shared_data("word_embeddings")
def test_eval_with_the_defaults(run_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["word2vec", "eval", str(run_dir)]) == 0  # shared/data/word_embeddings
    out = capsys.readouterr().out
    assert "capital-common-countries" in out
    assert "simlex999.txt" in out


def test_plot_and_export(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    image = tmp_path / "words.png"
    argv = ["word2vec", "plot", str(run_dir), "man", "woman", "king", "queen", "--out", str(image)]
    assert main(argv) == 0
    assert image.read_bytes().startswith(b"\x89PNG")
    out_file = tmp_path / "vectors.bin"
    assert main(["word2vec", "export", str(run_dir), str(out_file), "--format", "binary"]) == 0
    exported = load_word2vec_binary(out_file)
    assert exported.words[:2] == ["man", "woman"]
    keyed = KeyedVectors.load_word2vec_format(out_file, binary=True)
    assert torch.equal(torch.tensor(keyed["queen"]), exported["queen"])
    assert main(["word2vec", "plot", str(run_dir), "man", "--out", str(image)]) == 2
    assert "at least two words" in capsys.readouterr().out

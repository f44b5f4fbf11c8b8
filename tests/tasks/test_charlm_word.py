"""Word-level language models: sampling with no prime, the closing hint's prime, unknown primes."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from rnnkit.cli import main
from rnnkit.datasets.shared import locate_shared
from rnnkit.tasks.charlm.generate import prime_ids, start_token
from rnnkit.tasks.charlm.train import read_text, suggest_prime
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import UNK, Vocab

TINY = ["--embed-dim", "8", "--hidden-size", "8", "--num-layers", "1", "--batch-size", "4",
        "--seq-len", "8", "--max-steps", "2", "--eval-every", "2", "--checkpoint-every", "2",
        "--log-every", "1", "--samples", "1", "--sample-length", "6"]  # fmt: skip
BOOK = "pg00011.txt.gz"  # Alice's Adventures in Wonderland, shared/data/english_corpus
needs_corpus = pytest.mark.shared_data("english_corpus")


def _train(args: list[str], run: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """`rnnkit train charlm ARGS` into `run` (not quiet, so the sample is drawn); its output."""
    assert main(["train", "charlm", *args, *TINY, "--run-dir", str(run)]) == 0
    return capsys.readouterr().out


def _hint_prime(out: str) -> str | None:
    """The --prime of the closing `rnnkit generate` hint, or None when it has none."""
    hint = next(line for line in out.splitlines() if "rnnkit generate" in line)
    found = re.search(r'--prime "([^"]*)"', hint)
    return None if found is None else found.group(1)


def _vocab(run: Path) -> Vocab:
    return Vocab.from_dict(json.loads((run / "config.json").read_text())["vocab"])


def _assert_known(prime: str | None, vocab: Vocab) -> None:
    assert prime, "the hint suggests a prime"
    tokens = vocab.tokenize(prime)
    assert tokens
    assert all(token in vocab and token != UNK for token in tokens), tokens


def test_word_level_default_corpus_samples_and_suggests_a_known_prime(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    out = _train(["--level", "word", "--min-freq", "3", "--max-chars", "60000"], run, capsys)
    assert (run / "checkpoints").is_dir()  # the run went past its first sample
    assert "sample after step" in out
    _assert_known(_hint_prime(out), _vocab(run))


@needs_corpus
def test_word_level_on_a_gutenberg_book(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = locate_shared("english_corpus") / BOOK
    run = tmp_path / "run"
    out = _train(["--level", "word", "--min-freq", "3", "--data", str(book)], run, capsys)
    prime = _hint_prime(out)
    _assert_known(prime, _vocab(run))
    assert prime != "ROMEO:"
    assert prime in read_text(book)  # taken from the training text


def test_char_hint_uses_the_users_own_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("the quick brown fox jumps over the lazy dog.\n\n" * 80, encoding="utf-8")
    run = tmp_path / "run"
    out = _train(["--data", str(path)], run, capsys)  # no R, O, M, E or ':' in the text
    prime = _hint_prime(out)
    _assert_known(prime, _vocab(run))
    assert prime == "the quick brown"


def test_generate_a_word_run_without_prime_and_with_unknown_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    run = tmp_path / "run"
    _train(["--level", "word", "--min-freq", "3", "--max-chars", "60000"], run, capsys)
    assert main(["generate", str(run), "--length", "7", "--seed", "1"]) == 0
    words = capsys.readouterr().out.split()
    assert len(words) == 7
    textgen_logger = logging.getLogger("rnnkit.tasks.charlm.generate")
    textgen_logger.addHandler(caplog.handler)  # training's setup_logging replaced the root's
    try:
        code = main(["generate", str(run), "--prime", "Zanzibarian Citizen quuxly", "--length",
                     "4", "--seed", "1"])  # fmt: skip
    finally:
        textgen_logger.removeHandler(caplog.handler)
    assert code == 0
    assert "2 token(s) not in the vocabulary, read as <unk>: 'Zanzibarian', 'quuxly'" in caplog.text
    text = capsys.readouterr().out.strip().splitlines()[-1]  # after the warning lines
    assert text.startswith("Zanzibarian Citizen quuxly ")
    assert len(text.split()) == 3 + 4


def test_start_token_per_level() -> None:
    words = Vocab.build_from_iterator(["Hi there. Yes! Go. Now?"], Tokenizer(kind="word"),
                                      specials=(UNK,))  # fmt: skip
    assert start_token(words) == "."  # the most frequent sentence end
    no_end = Vocab.build_from_iterator(["to be or not to be"], Tokenizer(kind="word"))
    assert start_token(no_end) == "to"  # else the most frequent token
    chars = Vocab.build_from_iterator(["ab\nc"], Tokenizer(kind="char"), specials=(UNK,))
    assert start_token(chars) == "\n"


def test_a_prime_with_no_word_starts_from_the_start_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    vocab = Vocab.build_from_iterator(["one. two."], Tokenizer(kind="word"), specials=(UNK,))
    assert prime_ids(vocab, "").tolist() == [vocab.token_to_id(".")]
    with caplog.at_level(logging.WARNING, logger="rnnkit.tasks.charlm.generate"):
        assert prime_ids(vocab, "   ").tolist() == [vocab.token_to_id(".")]
    assert "holds no token" in caplog.text


def test_suggest_prime_skips_unknown_and_shell_unsafe_lines() -> None:
    text = 'Intro "quoted" words here\n\nZed rare word here\n\nCommon words come here\n'
    tokenizer = Tokenizer(kind="word")
    vocab = Vocab.build_from_iterator([text, "Common words come"], tokenizer, min_freq=2)
    assert suggest_prime(text, vocab) == "Common words come"
    assert suggest_prime("zzz\n", vocab) == ""

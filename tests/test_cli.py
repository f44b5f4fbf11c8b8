"""The `rnnkit` command line: help, version, the `represent` and `explore` verbs, error exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit import __version__
from rnnkit.analysis.explore import WORDS
from rnnkit.cli import main
from rnnkit.text.vocab import Vocab


def _unwrapped(capsys: pytest.CaptureFixture[str]) -> str:
    """Captured stdout with rich's line wrapping undone."""
    return " ".join(capsys.readouterr().out.split())


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"rnnkit {__version__}"


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "explore" in out
    assert "represent" in out


@pytest.mark.parametrize("verb", ["explore", "represent"])
def test_every_command_has_help(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([verb, "--help"])
    assert exited.value.code == 0
    assert f"usage: rnnkit {verb}" in capsys.readouterr().out


def test_represent_prints_all_three_views(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["represent", "We like TensorLayer, do we?"]) == 0
    out = capsys.readouterr().out
    for expected in ("one-hot", "word hashing", "bag of words", "tensorlayer", "<unk>", "#we"):
        assert expected in out


def test_represent_with_a_saved_vocab(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "vocab.json"
    Vocab.build_from_iterator(["apple bag cat dog elephant"], WORDS).save(path)
    assert main(["represent", "cat zebra", "--vocab", str(path), "--kind", "onehot"]) == 0
    out = capsys.readouterr().out
    assert "D = 9 dimensions" in out
    assert "zebra" in out


def test_represent_errors_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"format": "rnnkit.vocab", "vers', encoding="utf-8")
    assert main(["represent", "a b", "--vocab", str(corrupt)]) == 2
    assert "corrupt.json is not valid JSON" in _unwrapped(capsys)
    assert main(["represent", "!!!", "--kind", "onehot"]) == 2
    assert "error: the sentence '!!!' holds no token" in _unwrapped(capsys)
    assert main(["represent", "word", "--n", "0", "--kind", "hashing"]) == 2
    assert "n-gram size" in _unwrapped(capsys)


def test_explore_runs_on_a_slice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explore", "--max-chars", "40000", "--hash-sizes", "2,3", "--top-k", "2"]) == 0
    out = capsys.readouterr().out
    assert "held-out OOV rate" in out
    assert "top (1 + ln tf)·idf words" in out


def test_explore_bad_config_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explore", "--train-fraction", "1.5"]) == 2
    assert "train_fraction must be in (0, 1), got 1.5" in _unwrapped(capsys)

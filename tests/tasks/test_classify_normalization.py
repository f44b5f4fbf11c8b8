"""Typed text is read as a sentiment run read its corpus (issue 20, item 2).

The run trains on a tiny corpus laid out as rt-polarity is (lower-cased, punctuation split off by
spaces) whose vocabulary holds "great" and "terrible" but not "film" or "boring".
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from rnnkit.cli import main
from rnnkit.datasets.labelled_text import POLARITY_TOKENS, load_labelled
from rnnkit.tasks.classify.train import load_classifier, predict_proba, read_tokens, unknown_marks
from rnnkit.text import normalization
from rnnkit.text.normalization import NORMALIZATION_KEY

FILLER = ["the", "story", "acting", "was", "really", "a", "plot", "and"]
TEXTS = ["Great Film!", "Terrible, boring."]

pytestmark = pytest.mark.usefixtures("one_thread")


def _write_polarity(folder: Path) -> Path:
    """rt-polarity.pos / .neg: each positive line holds "great", each negative one "terrible"."""
    rng = random.Random(0)
    folder.mkdir()
    for suffix, word, mark in (("pos", "great", "!"), ("neg", "terrible", ",")):
        lines = []
        for _ in range(40):
            words = rng.choices(FILLER, k=rng.randint(2, 6))
            words.insert(rng.randint(0, len(words)), f"{word} {mark}")
            lines.append(" ".join(words) + " . ")
        (folder / f"rt-polarity.{suffix}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("polarity")
    run = root / "run"
    argv = [
        "train", "sentiment", "--data", str(_write_polarity(root / "data")),
        "--dataset", "rt_polarity", "--folds", "4", "--min-freq", "1", "--cell", "gru",
        "--embed-dim", "8", "--hidden-size", "8", "--batch-size", "8", "--dropout", "0.0",
        "--max-steps", "60", "--lr", "0.03", "--eval-every", "0", "--checkpoint-every", "0",
        "--quiet", "--device", "cpu", "--run-dir", str(run),
    ]  # fmt: skip
    assert main(argv) == 0
    return run


def test_typed_text_reads_as_the_corpus_and_predict_marks_the_unknown(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loaded = load_classifier(run)
    assert {"great", "terrible", "!", ",", "."} <= set(loaded.vocab.tokens)
    assert "film" not in loaded.vocab
    assert "boring" not in loaded.vocab
    great, terrible = predict_proba(loaded, TEXTS).tolist()
    assert great[1] > 0.5 > terrible[1]  # "great" read as positive, "terrible" as negative
    assert [unknown_marks(loaded, text).share for text in TEXTS] == [1 / 3, 1 / 4]

    capsys.readouterr()
    assert main(["predict", str(run), *TEXTS]) == 0
    out = capsys.readouterr().out
    assert "  tokens  great [film] !   unknown 1 of 3 (33%)" in out
    assert "  tokens  terrible , [boring] .   unknown 1 of 4 (25%)" in out
    printed = [float(v) for v in re.findall(r"y² = (\d\.\d{4})", out)]
    assert printed == pytest.approx([great[1], terrible[1]], abs=1e-4)


def test_training_and_typed_tokenization_of_a_line_agree(run: Path) -> None:
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert config[NORMALIZATION_KEY] == POLARITY_TOKENS.to_dict()
    loaded = load_classifier(run)
    assert loaded.normalization == POLARITY_TOKENS
    corpus = load_labelled("rt_polarity", run.parent / "data")
    for text in corpus.texts:  # every training line: the tokens training read, read again
        assert read_tokens(text, loaded.vocab, None) == corpus.tokenizer(text)
    # a typed line and its corpus form give the same tokens, so the same ids
    assert loaded.normalization("Great Film!") == corpus.tokenizer("great film ! ")
    typed, corpus_form = (loaded.vocab.encode(t).tolist() for t in ("Great Film!", "great film !"))
    assert typed == corpus_form


def test_an_old_run_without_a_stored_normalisation_loads_as_before(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "checkpoints").symlink_to(run / "checkpoints", target_is_directory=True)
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    del config[NORMALIZATION_KEY]
    config["vocab"]["tokenizer"] = {"kind": "regex", "pattern": r"\S+", "lowercase": False,
                                    "keep_punctuation": True, "normalize": None}  # fmt: skip
    (old / "config.json").write_text(json.dumps(config), encoding="utf-8")
    said: list[str] = []  # (`rnnkit train` sets up logging, which drops caplog's handler)
    monkeypatch.setattr(
        normalization.logger, "warning", lambda *args: said.append(args[0] % args[1:])
    )
    loaded = load_classifier(old)
    load_classifier(old)
    [warning] = said  # said once
    assert f"{old} stores no text normalisation" in warning
    marks = unknown_marks(loaded, "Great Film!")
    assert marks.tokens == ["Great", "Film!"]  # cut at spaces, as such a run always read
    assert marks.share == 1.0
    assert unknown_marks(loaded, "great !").share == 0.0

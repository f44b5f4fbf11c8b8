"""Task ner end to end: train from the CLI on a generated CoNLL corpus, the report, `rnnkit tag`."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main
from rnnkit.datasets.conll import CONLL_TOKENS, tagged_corpus, write_conll
from rnnkit.errors import DataError
from rnnkit.tasks.ner.tagger import load_tagger, read_text, tag_sentences
from rnnkit.tasks.ner.train import (
    LEGACY_TOKENS,
    NerConfig,
    TagBatch,
    TaggingObjective,
    entity_scores,
    find_data,
)
from rnnkit.text import normalization
from rnnkit.text.normalization import NORMALIZATION_KEY
from rnnkit.training import read_metrics

PEOPLE = [["Harry", "Potter"], ["Hermione", "Granger"], ["Ron"], ["Albus", "Dumbledore"]]
PLACES = [["London"], ["Hogwarts"], ["New", "York"]]
FILLER = ["yesterday", "met", "in", "the", "and", "saw", "today", "with", "went", "to"]


pytestmark = pytest.mark.usefixtures("one_thread")


def _sentence(rng: random.Random) -> tuple[list[str], list[str]]:
    tokens, tags = [], []
    for _ in range(rng.randint(2, 4)):
        kind = rng.choice(["PER", "LOC", "O", "O"])
        words = (
            rng.choice(PEOPLE if kind == "PER" else PLACES) if kind != "O" else [rng.choice(FILLER)]
        )
        tokens += words
        tags += ["O"] if kind == "O" else [f"B-{kind}"] + [f"I-{kind}"] * (len(words) - 1)
    return tokens, tags


def _write_corpus(folder: Path) -> Path:
    rng = random.Random(0)
    for split, count in (("train", 120), ("dev", 30)):
        sentences = [_sentence(rng) for _ in range(count)]
        write_conll(folder / f"{split}.conll", tagged_corpus(sentences))
    return folder


def _train(tmp_path: Path, *extra: str) -> Path:
    run = tmp_path / "run"
    argv = [
        "train", "ner", "--corpus", "custom", "--data", str(_write_corpus(tmp_path / "data")),
        "--embed-dim", "12", "--hidden-size", "12", "--char-embed-dim", "6",
        "--char-hidden-size", "6", "--batch-size", "8", "--dropout", "0.0", "--max-steps", "60",
        "--lr", "0.02", "--eval-every", "0", "--checkpoint-every", "0", "--quiet",
        "--device", "cpu", "--run-dir", str(run), *extra,
    ]  # fmt: skip
    assert main(argv) == 0
    return run


def test_train_report_and_tag_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _train(tmp_path)
    out = capsys.readouterr().out
    assert "entity scores" in out
    assert "PER" in out
    last = [row for row in read_metrics(run) if row.get("kind") == "eval"][-1]
    assert last["val_f1"] >= 0.9  # the names and places recur: an easy corpus
    assert {"val_f1_PER", "val_f1_LOC", "val_precision", "val_recall"} <= set(last)
    config = json.loads((run / "config.json").read_text())
    assert config["tags"][0] == "O"
    assert "E-PER" in config["tags"]

    assert main(["tag", str(run), "Yesterday, Harry Potter met Ron in London."]) == 0
    out = capsys.readouterr().out
    assert "Harry/B-PER Potter/I-PER" in out
    assert "  PER  Harry Potter" in out
    assert "  LOC  London" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("Hermione Granger went to Hogwarts\n\n"))
    assert main(["tag", str(run)]) == 0
    assert "  PER  Hermione Granger" in capsys.readouterr().out

    loaded = load_tagger(run, checkpoint="latest")
    tagged = tag_sentences(loaded, [["Ron"], [], ["in", "New", "York"]])
    assert tagged == [["B-PER"], [], ["O", "B-LOC", "I-LOC"]]


def test_softmax_without_chars_with_word2vec_trains(tmp_path: Path) -> None:
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("2 7\nHarry " + " ".join(["0.5"] * 7) + "\nLondon " + " 0.1" * 7 + "\n")
    run = _train(tmp_path, "--no-crf", "--no-char-features", "--scheme", "bio",
                 "--word2vec", str(vectors))  # fmt: skip
    last = [row for row in read_metrics(run) if row.get("kind") == "eval"][-1]
    assert last["val_f1"] >= 0.8
    config = json.loads((run / "config.json").read_text())
    assert "E-PER" not in config["tags"]
    assert config["tagger"]["embed_dim"] == 7  # E set by the vectors


def test_casing_trains_and_tags_from_the_cli(tmp_path: Path) -> None:
    """`--casing`: the task gives the model its characters, so the classes survive a reload."""
    run = _train(tmp_path, "--casing")
    last = [row for row in read_metrics(run) if row.get("kind") == "eval"][-1]
    assert last["val_f1"] >= 0.9
    loaded = load_tagger(run, checkpoint="latest")
    assert loaded.model.config.casing
    assert tag_sentences(loaded, [["Harry", "Potter"]]) == [["B-PER", "I-PER"]]


def test_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(DataError, match="--data"):
        find_data(NerConfig(corpus="custom"), None)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train.conll").write_text("Harry B-PER\nPotter PER\n", encoding="utf-8")
    argv = ["train", "ner", "--corpus", "custom", "--data", str(bad), "--quiet",
            "--run-dir", str(tmp_path / "run")]  # fmt: skip
    assert main(argv) == 2
    assert "train.conll:2" in capsys.readouterr().out
    assert main(["tag", str(tmp_path / "nowhere"), "text"]) == 2


def test_entity_scores_are_seqeval_micro_and_per_type() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC"]]
    predicted = [["B-PER", "I-PER", "O", "O"], ["B-PER"]]
    scores = entity_scores(gold, predicted)
    assert scores["precision"] == pytest.approx(1 / 2)
    assert scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(0.4)
    assert scores["f1_PER"] == pytest.approx(2 / 3)
    assert scores["f1_LOC"] == 0.0
    assert scores["support_LOC"] == 2.0


def test_singletons_are_fed_as_unk_only_while_training() -> None:
    seen = []

    class Recorder(torch.nn.Module):
        def forward(self, token_ids, lengths, char_ids, char_lengths):
            seen.append(token_ids)
            return torch.zeros(*token_ids.shape, 2, requires_grad=True)

        def loss(self, scores, tags, lengths):
            return scores.sum()

    singletons = torch.tensor([False, False, True, False])  # word 2 was seen once
    objective = TaggingObjective(("O", "B-X"), singletons, unk_rate=0.5)
    token_ids = torch.full((1, 400), 2)
    token_ids[0, ::2] = 3
    batch = TagBatch(token_ids, torch.tensor([400]), torch.zeros(1, 400).long(),
                     torch.ones(1, 400, 1).long(), torch.ones(1, 400).long())  # fmt: skip
    model = Recorder()
    objective.loss(model, batch, None)
    fed = seen[-1][0]
    assert bool((fed[::2] == 3).all())  # frequent words are kept
    assert 60 < int((fed[1::2] == 1).sum()) < 140  # about half the singletons became <unk>
    objective.loss(model.eval(), batch, None)
    assert torch.equal(seen[-1], token_ids)  # never in eval mode


# -- typed text is read as the corpus was (issue 20, item 2) --------------------------------------
def test_tag_reads_typed_text_as_the_corpus_and_marks_unknown_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _train(tmp_path, "--max-steps", "5")
    config = json.loads((run / "config.json").read_text())
    assert config[NORMALIZATION_KEY] == CONLL_TOKENS.to_dict()
    loaded = load_tagger(run)
    assert loaded.normalization == CONLL_TOKENS
    for sentence in (run.parent / "data" / "train.conll").read_text().split("\n\n")[:20]:
        tokens = [line.split()[0] for line in sentence.splitlines()]
        assert read_text(loaded, " ".join(tokens)).tokens == tokens  # training tokens, read back
    text = "Yesterday, Harry Potter met Ron in London..."
    marks = read_text(loaded, text)
    assert marks.tokens == ["Yesterday", ",", "Harry", "Potter", "met", "Ron", "in", "London",
                            "..."]  # fmt: skip
    assert marks.unknown == [True, True] + [False] * 6 + [True]  # the corpus: lower-case, no marks
    capsys.readouterr()
    assert main(["tag", str(run), text]) == 0
    words = "[Yesterday] [,] Harry Potter met Ron in London [...]   unknown 3 of 9 (33%)"
    assert f"  words  {words}" in capsys.readouterr().out

    old = tmp_path / "old"  # a run trained before runs stored their normalisation
    old.mkdir()
    (old / "checkpoints").symlink_to(run / "checkpoints", target_is_directory=True)
    del config[NORMALIZATION_KEY]
    (old / "config.json").write_text(json.dumps(config), encoding="utf-8")
    said: list[str] = []  # (`rnnkit train` above set up logging: caplog's handler is gone)
    monkeypatch.setattr(
        normalization.logger, "warning", lambda *args: said.append(args[0] % args[1:])
    )
    loaded = load_tagger(old)
    load_tagger(old)
    [warning] = said
    assert f"{old} stores no text normalisation" in warning
    assert loaded.normalization == LEGACY_TOKENS  # as `rnnkit tag` read text before
    assert read_text(loaded, "London...").tokens == ["London", ".", ".", "."]

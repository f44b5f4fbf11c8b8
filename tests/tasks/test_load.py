"""`rnnkit.load`: every task's run as its object, each method equal to its command's output.

The runs are the session's tiny ones (tests/tiny_runs.py) plus a word-level language model, a
spam filter and a word2vec run trained here; none evaluates, so each has no `best` checkpoint.
The checkpoint rule is checked on a run whose `best` pointer names an earlier checkpoint.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from word2vec_helpers import planted_corpus

import rnnkit
from rnnkit import tasks
from rnnkit.cli import build_parser, main
from rnnkit.config import make_config
from rnnkit.errors import ConfigError
from rnnkit.models.decoding import SamplingConfig
from rnnkit.represent.word2vec import Word2VecConfig, WordVectors
from rnnkit.tasks import loader_of, loaders
from rnnkit.tasks.caption.captioner import LoadedCaptioner, caption_images, load_captioner
from rnnkit.tasks.charlm.config import CharLMConfig
from rnnkit.tasks.charlm.generate import generate_text
from rnnkit.tasks.charlm.train import LoadedModel
from rnnkit.tasks.classify.config import ClassifyConfig, SpamConfig
from rnnkit.tasks.classify.train import LoadedClassifier, load_classifier, predict_proba
from rnnkit.tasks.condlm.train import LoadedCondLM, generate_conditioned, load_condlm
from rnnkit.tasks.forecast.train import LoadedForecaster, float32_values, load_forecaster
from rnnkit.tasks.load import load
from rnnkit.tasks.ner.tagger import Entity, LoadedTagger, load_tagger, read_text, tag_sentences
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.tasks.translate.translator import LoadedTranslator, load_translator, translate
from rnnkit.tasks.word2vec import train as word2vec
from rnnkit.text.tags import entity_spans
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.runs import write_run_config
from rnnkit.web.models import load_run as serve_run
from tiny_runs import reviews_csv, trainer_config

KINDS = {
    "charlm": LoadedModel, "condlm": LoadedCondLM, "sentiment": LoadedClassifier,
    "ner": LoadedTagger, "translate": LoadedTranslator, "caption": LoadedCaptioner,
    "forecast": LoadedForecaster,
}  # fmt: skip
COMMANDS = ("generate", "predict", "tag", "translate", "chat", "caption", "forecast")


@pytest.fixture(scope="module")
def more_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A word-level LM, a spam filter and a word2vec run, trained here (a few seconds)."""
    root = tmp_path_factory.mktemp("more")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tasks.train("charlm", make_config(CharLMConfig, level="word", max_chars=4000,
                                          batch_size=2, seq_len=6, embed_dim=6, hidden_size=8,
                                          num_layers=1, samples=0),
                    trainer_config(2), run_dir=root / "wordlm")  # fmt: skip
        tasks.train("spam", make_config(SpamConfig, dataset="csv", folds=4, cell="gru",
                                        embed_dim=6, hidden_size=6, batch_size=8, min_freq=1),
                    trainer_config(3), data=reviews_csv(root / "spam.csv"),
                    run_dir=root / "spam")  # fmt: skip
        config = Word2VecConfig(vector_size=8, epochs=1, min_count=1, window=2, threads=1)
        word2vec.train_run(planted_corpus(root / "corpus.txt"), config, root / "word2vec",
                           quiet=True)  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    return {"wordlm": root / "wordlm", "spam": root / "spam", "word2vec": root / "word2vec"}


def _latest(run: Path) -> Path:
    path = CheckpointManager(run / "checkpoints").latest()
    assert path is not None
    return path


@pytest.mark.parametrize("name", sorted(KINDS))
def test_load_gives_the_tasks_object_at_the_latest_checkpoint_without_validation(
    tiny_runs: dict[str, Path], name: str
) -> None:
    loaded = rnnkit.load(tiny_runs[name])
    assert isinstance(loaded, KINDS[name])
    assert not loaded.model.training
    if hasattr(loaded, "checkpoint"):  # the runs did not evaluate: no `best`, so the latest
        assert loaded.checkpoint == _latest(tiny_runs[name])


def test_rnnkit_load_is_a_lazy_export_of_tasks_load() -> None:
    assert "load" in rnnkit.__all__
    assert rnnkit.load is load


def test_generate_is_what_rnnkit_generate_prints(
    tiny_runs: dict[str, Path], more_runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    for run, prime in ((tiny_runs["charlm"], "ROMEO"), (more_runs["wordlm"], "the king")):
        lm = rnnkit.load(run)
        text = lm.generate(prime, length=20, temperature=0.8, seed=3)
        capsys.readouterr()
        assert main(["generate", str(run), "--prime", prime, "--length", "20",
                     "--temperature", "0.8", "--seed", "3"]) == 0  # fmt: skip
        assert capsys.readouterr().out == text + "\n"
        pieces = generate_text(lm.model, lm.vocab, prime, 20, SamplingConfig(temperature=0.8),
                               seed=3)  # fmt: skip
        assert text == prime + "".join(pieces)
    lm = rnnkit.load(tiny_runs["charlm"])
    assert lm.generate(length=15, temperature=0, seed=1) == lm.generate(None, 15, 0.0)


def test_condlm_generate_is_what_rnnkit_generate_prints(
    tiny_runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run = tiny_runs["condlm"]
    model = rnnkit.load(run)
    text = model.generate(length=12, temperature=0.9, seed=5, condition="good")
    capsys.readouterr()
    assert main(["generate", str(run), "--condition", "good", "--count", "1", "--length", "12",
                 "--temperature", "0.9", "--seed", "5"]) == 0  # fmt: skip
    assert capsys.readouterr().out == text + "\n"
    assert [text] == generate_conditioned(load_condlm(run), "good", 1, temperature=0.9,
                                          max_length=12, seed=5)  # fmt: skip
    with pytest.raises(ConfigError, match=r"pass condition=, one of \['bad', 'good'\]"):
        model.generate(length=5)
    with pytest.raises(ConfigError, match="takes no prime"):
        model.generate("the", condition="good")


def _printed_probabilities(out: str) -> list[list[float]]:
    """The y values `rnnkit predict` prints, one list per text."""
    blocks = [block for block in out.split('\n"') if block.strip()]
    return [[float(v) for v in re.findall(r"y\S* = (\d\.\d{4})", block)] for block in blocks]


@pytest.mark.parametrize("name", ["sentiment", "spam"])
def test_predict_gives_class_probabilities_as_rnnkit_predict(
    tiny_runs: dict[str, Path], more_runs: dict[str, Path], name: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    run = {**tiny_runs, **more_runs}[name]
    texts = ["a very good film .", "the plot was bad", "story"]
    classifier = rnnkit.load(run)
    predictions = classifier.predict(texts)
    assert [list(p) for p in predictions] == [["bad", "good"]] * 3
    expected = predict_proba(load_classifier(run), texts).tolist()
    assert [list(p.values()) for p in predictions] == expected
    assert all(sum(p.values()) == pytest.approx(1.0) for p in predictions)
    (alone,) = classifier.predict(texts[0])  # one string is one text
    assert list(alone) == list(predictions[0])  # a batch of 1 may differ from 3 in the last bits
    assert list(alone.values()) == pytest.approx(list(predictions[0].values()), rel=1e-6)
    capsys.readouterr()
    assert main(["predict", str(run), *texts]) == 0
    printed = _printed_probabilities(capsys.readouterr().out)
    assert printed == [[round(v, 4) for v in p.values()] for p in predictions]


def test_tag_gives_tags_and_entity_spans_as_rnnkit_tag(
    tiny_runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run = tiny_runs["ner"]
    texts = ["Yesterday Harry Potter met Ron in London .", "Hermione Granger went to New York"]
    tagger = rnnkit.load(run)
    tagged = tagger.tag(texts)
    reference = load_tagger(run)
    tokens = [read_text(reference, text).tokens for text in texts]
    assert [t.tokens for t in tagged] == tokens
    assert [t.tags for t in tagged] == tag_sentences(reference, tokens)
    for result in tagged:
        spans = entity_spans(result.tags)
        assert result.entities == [Entity(s.type, " ".join(result.tokens[s.start : s.end]),
                                          s.start, s.end) for s in spans]  # fmt: skip
    capsys.readouterr()
    assert main(["tag", str(run), *texts]) == 0
    out = capsys.readouterr().out
    for result in tagged:
        words = " ".join(f"{t}/{g}" for t, g in zip(result.tokens, result.tags, strict=True))
        assert words in out
        for entity in result.entities:
            assert f"  {entity.type}  {entity.text}" in out
    assert tagger.tag("") == [([], [], [])]


def test_translate_gives_the_texts_rnnkit_translate_prints(
    tiny_runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run = tiny_runs["translate"]
    texts = ["three one four", "two"]
    translator = rnnkit.load(run)
    outputs = translator.translate(texts, beam=3)
    assert outputs == [t.text for t in translate(load_translator(run), texts, beam_size=3)]
    one = [t.text for t in translate(load_translator(run), ["two"], beam_size=3)]
    assert translator.translate("two", beam=3) == one  # one string is one text
    capsys.readouterr()
    assert main(["translate", str(run), *texts, "--beam", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == outputs


def test_caption_gives_the_captions_rnnkit_caption_prints(
    tiny_runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run = tiny_runs["caption"]
    data = Path(json.loads((run / "config.json").read_text(encoding="utf-8"))["data"])
    images = sorted((data / "val2017").glob("*.png"))
    captioner = rnnkit.load(run)
    captions = captioner.caption(images, beam=2)
    assert captions == caption_images(load_captioner(run), images, beam_size=2)
    assert captioner.caption(images[0], beam=2) == captions[:1]
    capsys.readouterr()
    assert main(["caption", str(run), *map(str, images), "--beam", "2"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"{image.name}: {text}" for image, text in zip(images, captions,
                                                                       strict=True)]  # fmt: skip


def test_forecast_gives_the_values_rnnkit_forecast_prints(
    tiny_runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run = tiny_runs["forecast"]
    forecaster = rnnkit.load(run)
    ahead = forecaster.forecast(5)
    reference = load_forecaster(run)
    with torch.no_grad():
        expected = reference.model.rollout(float32_values(reference.series), 5)  # (5, 1)
    assert isinstance(ahead, np.ndarray)
    assert ahead.shape == (5, 1)
    np.testing.assert_array_equal(ahead, expected.double().numpy())
    assert forecaster.forecast().shape == (6, 1)  # the run's horizon
    capsys.readouterr()
    assert main(["forecast", str(run), "--horizon", "5"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [float(row.split()[-1]) for row in rows] == [round(v, 4) for v in ahead[:, 0]]
    history = reference.series.values[:30, 0]  # (30,): one column
    with torch.no_grad():
        from_history = reference.model.rollout(torch.tensor(history[:, None]).float(), 3)
    np.testing.assert_array_equal(forecaster.forecast(3, history=history), from_history.numpy())
    with pytest.raises(ConfigError, match="horizon must be a positive integer, got 0"):
        forecaster.forecast(0)


def test_word2vec_runs_load_as_word_vectors(more_runs: dict[str, Path]) -> None:
    vectors = rnnkit.load(more_runs["word2vec"])
    assert isinstance(vectors, WordVectors)
    assert vectors.words == word2vec.load_run(more_runs["word2vec"]).words
    with pytest.raises(ConfigError, match="load it without checkpoint="):
        rnnkit.load(more_runs["word2vec"], checkpoint="latest")


def test_load_refuses_what_is_not_a_loadable_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not an rnnkit run directory"):
        rnnkit.load(tmp_path / "absent")
    write_run_config(tmp_path / "odd", {"task": "long_range"})
    with pytest.raises(ConfigError, match=r"rnnkit.load reads runs of .*'word2vec'"):
        rnnkit.load(tmp_path / "odd")


# -- one checkpoint rule ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def evaluated_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, Path, Path]]:
    """A charlm and a sentiment run with a checkpoint at each step, `best` naming the first:
    name -> (run, best, latest)."""
    root = tmp_path_factory.mktemp("rule")
    trainer = dataclasses.replace(trainer_config(3), eval_every=1, checkpoint_every=1)
    tasks.train("charlm", make_config(CharLMConfig, max_chars=2000, batch_size=2, seq_len=6,
                                      embed_dim=4, hidden_size=6, num_layers=1, samples=0),
                trainer, run_dir=root / "charlm")  # fmt: skip
    tasks.train("sentiment", make_config(ClassifyConfig, dataset="csv", folds=4, cell="gru",
                                         embed_dim=4, hidden_size=4, batch_size=8, min_freq=1),
                trainer, data=reviews_csv(root / "r.csv"), run_dir=root / "sentiment")  # fmt: skip
    found = {}
    for name in ("charlm", "sentiment"):
        manager = CheckpointManager(root / name / "checkpoints")
        first, *_, last = manager.checkpoints()
        (root / name / "checkpoints" / "best").write_text(first.name + "\n", encoding="utf-8")
        assert manager.best() == first
        assert manager.latest() == last != first
        found[name] = (root / name, first, last)
    return found


def test_every_loader_load_and_serve_default_to_best_else_latest(
    evaluated_runs: dict[str, tuple[Path, Path, Path]],
) -> None:
    for task in loaders():
        loader = loader_of(task)
        assert inspect.signature(loader).parameters["checkpoint"].default == DEFAULT_CHECKPOINT
    for run, best, latest in evaluated_runs.values():
        assert rnnkit.load(run).checkpoint == best
        assert rnnkit.load(run, checkpoint="latest").checkpoint == latest
        assert serve_run(run, "m").adapter.loaded.checkpoint == best  # rnnkit serve: the same
    run, best, _ = evaluated_runs["sentiment"]
    assert load_classifier(run).checkpoint == best  # it took the latest before


def test_every_command_defaults_to_the_rule_and_says_it() -> None:
    parser = build_parser()
    verbs = next(a for a in parser._actions if a.dest == "verb").choices
    for command in COMMANDS:
        option = next(a for a in verbs[command]._actions if a.dest == "checkpoint")
        assert option.default == DEFAULT_CHECKPOINT, command
        assert "best on validation" in option.help, command
        assert "else the latest" in option.help, command

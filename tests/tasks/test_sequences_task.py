"""Task sequences: splits, the scaler from the training part only, training, `rnnkit.load`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import tasks
from rnnkit.cli import main
from rnnkit.config import config_from_dict, make_config
from rnnkit.datasets.japanese_vowels import find_japanese_vowels, read_japanese_vowels
from rnnkit.datasets.splice_junctions import find_dna_rda
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.sequences.config import TRAINER_DEFAULTS, SequencesConfig
from rnnkit.tasks.sequences.train import build, read_corpus, stratified_holdout
from rnnkit.training.config import TrainerConfig

pytestmark = pytest.mark.usefixtures("one_thread")

# as tests/datasets: CI installs sktime and unpacks r-cran-mlbench, so there a skip is a failure
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
needs_sktime = pytest.mark.skipif(
    find_japanese_vowels() is None and not IN_CI,
    reason="sktime (or aeon) is not installed; it ships JapaneseVowels_*.ts: pip install sktime",
)
needs_mlbench = pytest.mark.skipif(
    find_dna_rda() is None and not IN_CI,
    reason="mlbench's DNA.rda not found: apt-get install r-cran-mlbench (or apt-get download it, "
    "dpkg-deb -x, and set RNNKIT_MLBENCH_DNA to .../mlbench/data/DNA.rda)",
)


def _write_ts(path: Path, counts: int, seed: int) -> None:
    """A made-up Japanese-Vowels-like .ts file: 9 classes, `counts` series each, 12 dims."""
    rng = np.random.default_rng(seed)
    lines = ["@problemName Toy", "@timeStamps false", "@univariate false", "@dimensions 12",
             "@equalLength false", "@classLabel true 1 2 3 4 5 6 7 8 9", "@data"]  # fmt: skip
    for label in range(1, 10):
        for _ in range(counts):
            series = rng.normal(label, 1.0 + label, size=(int(rng.integers(3, 8)), 12))
            dims = [",".join(f"{v:.4f}" for v in series[:, d]) for d in range(12)]
            lines.append(":".join([*dims, str(label)]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def toy_vowels(tmp_path: Path) -> Path:
    folder = tmp_path / "JapaneseVowels"
    folder.mkdir()
    _write_ts(folder / "JapaneseVowels_TRAIN.ts", 10, seed=0)
    _write_ts(folder / "JapaneseVowels_TEST.ts", 4, seed=1)
    return folder


def _trainer(**overrides: object) -> TrainerConfig:
    return config_from_dict(
        TrainerConfig,
        {**TRAINER_DEFAULTS, "eval_every": 5, "quiet": True, "device": "cpu", **overrides},
    )


def test_the_scaler_comes_from_the_training_part_only(toy_vowels: Path) -> None:
    config = make_config(SequencesConfig, corpus="vowels", hidden_size=4)
    corpus = read_corpus(config, toy_vowels)
    assert [len(p.labels) for p in (corpus.fit, corpus.valid, corpus.test)] == [81, 9, 36]
    assert sorted(corpus.valid.labels) == list(range(9))  # stratified: one of each speaker
    setup = build(config, data=toy_vowels, seed=0)
    fit_frames = np.concatenate(corpus.fit.sequences)  # (N_frames, 12)
    train_frames = np.concatenate([*corpus.fit.sequences, *corpus.valid.sequences])
    np.testing.assert_allclose(setup.model.mean.numpy(), fit_frames.mean(0), rtol=1e-5)
    np.testing.assert_allclose(setup.model.scale.numpy(), fit_frames.std(0), rtol=1e-5)
    assert not np.allclose(setup.model.mean.numpy(), train_frames.mean(0), rtol=1e-5)
    stats = setup.artifacts["standardization"]
    assert stats["from"] == "fit"
    assert stats["frames"] == len(fit_frames)
    assert setup.artifacts["split"] == {"corpus": "vowels", "source": str(toy_vowels),
                                        "fit": 81, "valid": 9, "test": 36}  # fmt: skip


def test_a_trained_run_loads_back_with_its_scaler_and_predicts_probabilities(
    toy_vowels: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    config = make_config(SequencesConfig, corpus="vowels", hidden_size=6, batch_size=16)
    trained = tasks.train("sequences", config, _trainer(max_steps=12), data=toy_vowels,
                          run_dir=run)  # fmt: skip
    loaded = rnnkit.load(run)
    assert loaded.classes == tuple(str(c) for c in range(1, 10))
    built = build(config, data=toy_vowels, seed=0).model
    torch.testing.assert_close(loaded.model.mean, built.mean)  # saved with the weights
    torch.testing.assert_close(loaded.model.scale, built.scale)
    test = read_corpus(config, toy_vowels).test.sequences
    rows = loaded.predict(test[:5])
    assert len(rows) == 5
    assert list(rows[0]) == list(loaded.classes)
    assert all(sum(row.values()) == pytest.approx(1.0, abs=1e-5) for row in rows)
    assert loaded.predict(test[0]) == rows[:1]  # one (T, 12) array is one sequence
    assert trained.model is not None
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("val_accuracy" in row for row in metrics)
    scores = json.loads((run / "scores.json").read_text())  # the report scored test once
    assert 0.0 <= scores["best"]["test"]["accuracy"] <= 1.0
    with pytest.raises(DataError, match=r"series 0 must be \(T, 12\)"):
        loaded.predict([np.ones((4, 3))])


def test_stratified_holdout_takes_each_class_share() -> None:
    labels = [0] * 30 + [1] * 10 + [2] * 2
    held = stratified_holdout(labels, 0.1, seed=3)
    assert [sum(labels[i] == c for i in held) for c in range(3)] == [3, 1, 1]
    assert held == stratified_holdout(labels, 0.1, seed=3)  # seeded
    assert held != stratified_holdout(labels, 0.1, seed=4)


def test_bad_corpus_and_settings_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigError, match=r"'corpus' must be one of \['splice', 'vowels'\]"):
        make_config(SequencesConfig, corpus="timit")  # a config file's value
    with pytest.raises(ConfigError, match="corpus must be one of splice, vowels; got 'timit'"):
        SequencesConfig(corpus="timit")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="valid_fraction"):
        make_config(SequencesConfig, valid_fraction=0.0)
    with pytest.raises(SystemExit) as exited:
        main(["train", "sequences", "--corpus", "timit", "--run-dir", str(tmp_path / "r")])
    assert exited.value.code == 2
    assert "invalid choice: 'timit'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
    with pytest.raises(DataError, match="no such file or folder"):
        build(SequencesConfig(corpus="splice"), data=tmp_path / "none.rda", seed=0)
    with pytest.raises(DataError, match=r"JapaneseVowels_TRAIN/TEST\.ts"):
        build(SequencesConfig(corpus="vowels"), data=tmp_path / "file.txt", seed=0)


def test_help_lists_the_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["train", "sequences", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--corpus {splice,vowels}", "--valid-fraction", "--split-seed", "--batch-size",
                 "--hidden-size", "--pooling", "--bidirectional", "--max-epochs"):  # fmt: skip
        assert flag in out, flag


@needs_sktime
def test_vowels_train_a_few_steps_on_the_real_corpus(tmp_path: Path) -> None:
    run = tmp_path / "run"
    config = make_config(SequencesConfig, corpus="vowels", hidden_size=8)
    tasks.train("sequences", config, _trainer(max_steps=6), run_dir=run)
    split = json.loads((run / "config.json").read_text())["split"]
    assert (split["fit"], split["valid"], split["test"]) == (243, 27, 370)
    loaded = rnnkit.load(run)
    test = read_japanese_vowels("test")
    probabilities = loaded.predict_proba(test.series[:7])  # (7, 9)
    assert probabilities.shape == (7, 9)
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(7))


@needs_mlbench
def test_splice_trains_a_few_steps_and_reads_bases(tmp_path: Path) -> None:
    config = make_config(SequencesConfig, corpus="splice", hidden_size=8)
    corpus = read_corpus(config, None)
    sizes = [len(p.labels) for p in (corpus.fit, corpus.valid, corpus.test)]
    assert sum(sizes) == 3186
    assert sizes[1] == 200
    fit, valid, test = (set(p.sequences) for p in (corpus.fit, corpus.valid, corpus.test))
    assert not (fit & valid)
    assert not (fit & test)
    assert not (valid & test)
    run = tmp_path / "run"
    tasks.train("sequences", config, _trainer(max_steps=6), run_dir=run)
    loaded = rnnkit.load(run)
    assert loaded.description["alphabet"] == ["<pad>", "A", "C", "G", "T"]
    rows = loaded.predict([corpus.test.sequences[0], corpus.test.sequences[1].lower()])
    assert [list(row) for row in rows] == [["ei", "ie", "n"]] * 2
    assert all(sum(row.values()) == pytest.approx(1.0, abs=1e-5) for row in rows)
    with pytest.raises(DataError, match="holds 'N'; the model knows ACGT"):
        loaded.predict("N" * 60)
    with pytest.raises(DataError, match="has 59 bases; the model reads windows of 60"):
        loaded.predict("A" * 59)


def test_rnnkit_predict_reads_csv_frames_of_a_vowels_run(
    toy_vowels: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    config = make_config(SequencesConfig, corpus="vowels", hidden_size=6, batch_size=16)
    tasks.train("sequences", config, _trainer(max_steps=4), data=toy_vowels, run_dir=run)
    test = read_corpus(config, toy_vowels).test.sequences[:2]
    files = []
    for k, series in enumerate(test):
        files.append(tmp_path / f"utterance{k}.csv")
        np.savetxt(files[-1], np.asarray(series), delimiter=",")
    capsys.readouterr()
    assert main(["predict", str(run), *map(str, files)]) == 0
    printed = capsys.readouterr().out
    expected = rnnkit.load(run).predict(test)
    for path, row in zip(files, expected, strict=True):
        assert f'"{path}"' in printed
        best = max(row, key=row.__getitem__)
        assert f"{row[best]:.4f}  {best}  ←" in printed
    (tmp_path / "bad.csv").write_text("1,2,x\n")
    assert main(["predict", str(run), str(tmp_path / "bad.csv")]) == 2


def test_an_exported_run_loads_with_its_scaler_and_predicts_the_same(
    toy_vowels: Path, tmp_path: Path
) -> None:
    run, out = tmp_path / "run", tmp_path / "export"
    config = make_config(SequencesConfig, corpus="vowels", hidden_size=6, batch_size=16)
    tasks.train("sequences", config, _trainer(max_steps=4), data=toy_vowels, run_dir=run)
    assert main(["export", str(run), str(out)]) == 0
    original, exported = rnnkit.load(run), rnnkit.load(out)
    torch.testing.assert_close(exported.model.mean, original.model.mean)  # the scaler travels
    test = read_corpus(config, toy_vowels).test.sequences[:4]
    torch.testing.assert_close(exported.predict_proba(test), original.predict_proba(test))

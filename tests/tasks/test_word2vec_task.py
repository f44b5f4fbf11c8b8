"""The word2vec task: run directory layout, loading, evaluation files, report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from word2vec_helpers import make_run, planted_corpus

from rnnkit.errors import ConfigError, DataError
from rnnkit.represent.word2vec import Word2VecConfig
from rnnkit.tasks.word2vec import train as task
from rnnkit.training.runs import write_run_config


def test_load_run_round_trips_a_run_directory(tmp_path: Path) -> None:
    wv = make_run(tmp_path / "run")
    loaded = task.load_run(tmp_path / "run")
    assert loaded.words == wv.words
    assert loaded.counts == wv.counts
    assert torch.equal(loaded.vectors, wv.vectors)
    assert task.run_config(tmp_path / "run") == Word2VecConfig(vector_size=3)


def test_load_run_refuses_other_runs_and_missing_dirs(tmp_path: Path) -> None:
    write_run_config(tmp_path / "lm", {"task": "charlm", "config": {}})
    with pytest.raises(DataError, match="'charlm' run, not a word2vec run"):
        task.load_run(tmp_path / "lm")
    with pytest.raises(ConfigError, match="not an rnnkit run directory"):
        task.load_run(tmp_path / "absent")


@pytest.mark.shared_data("word_embeddings")
def test_default_eval_files_are_the_shared_sets() -> None:
    analogies, pairs = task.default_eval_files()
    assert analogies.name == "questions-words.txt"
    assert analogies.is_file()
    assert [p.name for p in pairs] == ["wordsim353.tsv", "simlex999.txt"]


def test_default_eval_files_missing_says_what_to_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task, "eval_data_dir", lambda: None)
    with pytest.raises(DataError, match="pass --analogies FILE and/or --pairs FILE"):
        task.default_eval_files()


def test_evaluate_vectors_collects_both_kinds(tmp_path: Path) -> None:
    wv = make_run(tmp_path / "run")
    questions = tmp_path / "q.txt"
    questions.write_text(": royal\nman king woman queen\n: gram\nman woman emu yak\n")
    pairs = tmp_path / "p.tsv"
    pairs.write_text("man\twoman\t9\nman\tapple\t1\nking\tqueen\t8\n")
    result = task.evaluate_vectors(wv, analogies=questions, pairs=[pairs])
    scores = result["analogies"]["scores"]
    assert scores["royal"]["accuracy"] == 1.0
    assert scores["gram"]["skipped"] == 1
    assert scores["total"] == {"accuracy": 1.0, "correct": 1, "answered": 1, "skipped": 1}
    assert result["pairs"]["p.tsv"]["pairs"] == 3
    json.dumps(result)  # JSON-ready for metrics.jsonl


@pytest.mark.shared_data("word_embeddings")  # train_run evaluates on the shared sets
def test_train_run_writes_the_run_directory(tmp_path: Path) -> None:
    corpus = planted_corpus(tmp_path / "corpus.txt")
    config = Word2VecConfig(vector_size=12, epochs=2, min_count=1, window=2, threads=1, seed=3)
    vectors = task.train_run(corpus, config, tmp_path / "run", quiet=True)
    names = {"config.json", "metrics.jsonl", "vectors.safetensors", "vocab.json", "report.md"}
    assert names <= {p.name for p in (tmp_path / "run").iterdir()}
    assert len(vectors) == 30
    assert task.load_run(tmp_path / "run").words == vectors.words
    assert task.run_config(tmp_path / "run") == config
    rows = [json.loads(line) for line in (tmp_path / "run/metrics.jsonl").read_text().splitlines()]
    assert {row["kind"] for row in rows} == {"train", "eval"}
    assert rows[-2]["epoch"] == 2  # the last progress row comes before the evaluation
    assert "| wordsim353.tsv |" in (tmp_path / "run/report.md").read_text()

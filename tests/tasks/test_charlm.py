"""The char-rnn task: data checks, training, exact resume, generation from a run directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rnnkit import tasks
from rnnkit.cli import main
from rnnkit.config import make_config
from rnnkit.errors import DataError
from rnnkit.models.decoding import SamplingConfig
from rnnkit.tasks.charlm.generate import generate_text
from rnnkit.tasks.charlm.train import CharLMConfig, load_language_model, read_text, split_point
from rnnkit.training import TrainerConfig, read_metrics

SMALL = make_config(CharLMConfig,
    max_chars=30_000, batch_size=4, seq_len=16, embed_dim=8, hidden_size=16, num_layers=1,
    samples=0,
)  # fmt: skip


def _trainer(max_steps: int) -> TrainerConfig:
    return TrainerConfig(
        max_steps=max_steps, eval_every=5, checkpoint_every=5, log_every=1, quiet=True,
        device="cpu", lr=1e-2,
    )  # fmt: skip


def _train_losses(run_dir: Path) -> list[float]:
    return [row["loss"] for row in read_metrics(run_dir) if row.get("kind") == "train"]


@pytest.mark.slow
def test_training_lowers_the_loss_and_records_the_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    tasks.train("charlm", SMALL, _trainer(30), run_dir=run)
    losses = _train_losses(run)
    assert len(losses) == 30
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.5
    config = json.loads((run / "config.json").read_text())
    assert config["task"] == "charlm"
    assert config["vocab"]["tokens"][0] == "<unk>"
    assert config["objective"] == {"unit": "char", "loss": "mean cross-entropy per char (nats)"}
    assert "chars_per_s" in read_metrics(run)[0]
    evaluations = [row for row in read_metrics(run) if row.get("kind") == "eval"]
    assert evaluations[-1]["val_bpc"] == pytest.approx(evaluations[-1]["val_loss"] / 0.693147, 1e-4)


@pytest.mark.slow
def test_resumed_run_equals_uninterrupted_run(tmp_path: Path) -> None:
    tasks.train("charlm", SMALL, _trainer(14), run_dir=tmp_path / "whole")
    tasks.train("charlm", SMALL, _trainer(7), run_dir=tmp_path / "broken")
    tasks.resume(tmp_path / "broken", overrides={"max_steps": 14})
    assert _train_losses(tmp_path / "broken") == _train_losses(tmp_path / "whole")


@pytest.mark.slow
def test_generation_from_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    tasks.train("charlm", SMALL, _trainer(5), run_dir=run)
    loaded = load_language_model(run)
    sampling = SamplingConfig(temperature=0.8, top_k=10)
    first = "".join(generate_text(loaded.model, loaded.vocab, "ROMEO:", 40, sampling, seed=3))
    again = "".join(generate_text(loaded.model, loaded.vocab, "ROMEO:", 40, sampling, seed=3))
    assert first == again
    assert len(first) == 40
    for beam_size in (None, 3):  # grad mode is per thread: never left off between two tokens
        pieces = generate_text(loaded.model, loaded.vocab, "A", 5, sampling, beam_size=beam_size)
        modes = [torch.is_grad_enabled() for _ in pieces]
        assert modes == [True] * 5
    assert main(["generate", str(run), "--prime", "ROMEO:", "--length", "25", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ROMEO:")
    assert len(out.rstrip("\n")) == len("ROMEO:") + 25


def test_generation_refuses_a_foreign_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.json").write_text('{"task": "other"}')
    assert main(["generate", str(tmp_path)]) == 2
    assert "not a language-model run" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"abc\x00def" * 100, "looks binary"),
        (b"caf\xe9 " * 100, "not UTF-8"),
        (b"short text", "need at least"),
    ],
)
def test_bad_data_files_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    code = main(["train", "charlm", "--data", str(path), "--run-dir", str(tmp_path / "r"),
                 "--quiet", "--max-steps", "1"])  # fmt: skip
    assert code == 2
    assert message in capsys.readouterr().out


def test_missing_data_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        read_text(tmp_path / "missing.txt")


def test_any_utf8_file_trains(tmp_path: Path) -> None:
    path = tmp_path / "poem.txt"
    path.write_text("Ünïcödé λόγος — 漢字 and plain words.\n" * 60, encoding="utf-8")
    config = make_config(CharLMConfig, batch_size=2, seq_len=8, embed_dim=4, hidden_size=8,
                         num_layers=1, samples=0)  # fmt: skip
    tasks.train("charlm", config, _trainer(3), data=path, run_dir=tmp_path / "run")
    vocab = json.loads((tmp_path / "run" / "config.json").read_text())["vocab"]["tokens"]
    assert "漢" in vocab


def test_split_point_keeps_one_batch_each_side() -> None:
    config = CharLMConfig(batch_size=2, seq_len=4)  # one batch = 2 × 5 tokens
    assert split_point(100, config) == 90
    assert split_point(20, config) == 10
    with pytest.raises(DataError, match="need at least 20"):
        split_point(19, config)


def test_word_level_reports_perplexity(tmp_path: Path) -> None:
    config = make_config(CharLMConfig, level="word", min_freq=2, max_chars=60_000, batch_size=4,
                         seq_len=8, embed_dim=8, hidden_size=8, num_layers=1,
                         samples=0)  # fmt: skip
    tasks.train("charlm", config, _trainer(3), run_dir=tmp_path / "run")
    last = [row for row in read_metrics(tmp_path / "run") if row.get("kind") == "eval"][-1]
    assert last["val_ppl"] == pytest.approx(torch.tensor(last["val_loss"]).exp().item(), 1e-6)
    vocab = json.loads((tmp_path / "run" / "config.json").read_text())["vocab"]
    assert vocab["tokenizer"]["kind"] == "word"

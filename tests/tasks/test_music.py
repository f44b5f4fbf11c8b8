"""The music task end to end on real chorales: a tiny run, rnnkit.load, and `rnnkit generate`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import tasks
from rnnkit.cli import main
from rnnkit.config import make_config
from rnnkit.datasets.chorales import Chorale, read_midi_roll, roll_notes
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.music.config import MusicConfig
from rnnkit.tasks.music.train import LoadedMusicModel, marginal_nll, split_nll
from rnnkit.training import TrainerConfig

# 6 train, 1 valid, 1 test
TINY = make_config(MusicConfig, max_pieces=8, hidden_size=8, batch_size=3)


@pytest.fixture(scope="module")
def music_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """20 updates of a 8-unit LSTM on the first 8 chorale files (a few seconds)."""
    root = tmp_path_factory.mktemp("music")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))  # no cache of the whole corpus
        trainer = TrainerConfig(max_steps=20, lr=0.03, eval_every=10, checkpoint_every=10,
                                log_every=1, quiet=True, device="cpu")  # fmt: skip
        tasks.train("music", TINY, trainer, run_dir=root / "run")
        yield root / "run"
    torch.set_num_threads(threads)


def test_a_tiny_run_trains_and_records_its_chorales(music_run: Path) -> None:
    config = json.loads((music_run / "config.json").read_text())
    assert config["chorales"] | {"music21": "-"} == {
        "music21": "-", "step_quarters": 1.0, "transpose": "c", "train": 6, "valid": 1,
        "test": 1, "train_frames": config["chorales"]["train_frames"],
    }  # fmt: skip
    rows = [json.loads(line) for line in (music_run / "metrics.jsonl").read_text().splitlines()]
    losses = [row["loss"] for row in rows if "loss" in row and row.get("split", "train") == "train"]
    assert losses[0] > 55  # about 88 log 2 = 61 nats at the start
    assert losses[-1] < losses[0] - 10  # 20 updates learn that most keys are off


def test_rnnkit_load_gives_the_model_and_its_test_nll(music_run: Path) -> None:
    loaded = rnnkit.load(music_run)
    assert isinstance(loaded, LoadedMusicModel)
    assert loaded.checkpoint.parent == music_run / "checkpoints"
    assert loaded.config == TINY
    roll = loaded.generate(12, seed=3)
    assert roll.shape == (12, 88)
    assert roll.dtype == bool
    assert np.array_equal(roll, loaded.generate(12, seed=3))


def test_generate_writes_a_midi_file_music21_reads_and_a_png(
    music_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "chorale.mid"
    args = ["generate", str(music_run), "--out", str(out), "--frames", "16", "--seed", "0"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed
    assert "notes in 16 frames" in printed
    import music21

    notes = music21.converter.parse(str(out)).flatten().notes
    assert len(notes) > 0
    roll = read_midi_roll(out)
    assert len(roll_notes(roll)) == int(printed.split(": ")[1].split(" notes")[0])
    picture = out.with_suffix(".png")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first = out.read_bytes()
    assert main(args) == 0  # the same seed writes the same file
    assert out.read_bytes() == first


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--prime", "ROMEO"], "--prime apply to text"),
        (["--out", "song.wav"], "must name a .mid file"),
        (["--frames", "0"], "--frames must be a positive integer"),
    ],
)
def test_generate_refuses_what_does_not_apply_to_music(
    music_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], flags, message
) -> None:
    assert main(["generate", str(music_run), *flags]) == 2
    out = capsys.readouterr().out
    assert out.startswith("error:")
    assert message in out
    assert not list(tmp_path.iterdir())


def test_data_flag_and_too_few_pieces_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--data"):
        tasks.get_task("music").builder(TINY, data=tmp_path, seed=0)
    with pytest.raises(DataError, match="raise --max-pieces"):
        tasks.get_task("music").builder(MusicConfig(max_pieces=4), data=None, seed=0)
    with pytest.raises(ConfigError, match="max_pieces"):
        MusicConfig(max_pieces=2)


def test_the_marginal_baseline_by_hand() -> None:
    train_roll = np.zeros((4, 88), bool)
    train_roll[:2, 0] = True  # key 0 on in 2 of 4 frames: q_0 = 3/6; the others 1/6
    held = np.zeros((1, 88), bool)
    held[0, 0] = True
    chorale = Chorale("a", train_roll, 0, "C major")
    expected = -(np.log(3 / 6) + 87 * np.log(1 - 1 / 6))
    assert marginal_nll([chorale], [Chorale("b", held, 0, "C major")]) == pytest.approx(expected)


def test_split_nll_is_the_objectives_mean(music_run: Path) -> None:
    loaded = rnnkit.load(music_run)
    rolls = [np.eye(88, dtype=bool)[[40, 44, 47]], np.eye(88, dtype=bool)[[43]]]
    pieces = [Chorale(str(i), roll, 0, "C major") for i, roll in enumerate(rolls)]
    with torch.no_grad():
        logits, _ = loaded.model(torch.zeros(1, 1, 88))
        first = torch.nn.functional.binary_cross_entropy_with_logits(
            logits[0, 0], torch.from_numpy(rolls[1][0]).float(), reduction="sum"
        )
    one = split_nll(loaded.model, pieces[1:])
    assert one == pytest.approx(float(first), rel=1e-5)
    both = split_nll(loaded.model, pieces)
    assert both == pytest.approx((split_nll(loaded.model, pieces[:1]) * 3 + one) / 4, rel=1e-5)


def test_rnnkit_train_music_prints_the_nll_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    run = tmp_path / "run"
    args = ["train", "music", "--max-pieces", "8", "--hidden-size", "4", "--batch-size", "3",
            "--max-steps", "2", "--eval-every", "0", "--checkpoint-every", "0", "--quiet",
            "--run-dir", str(run)]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    for line in ("LSTM (this run)", "per-pitch marginal", "B-L et al. 2012: RNN-NADE", "5.56"):
        assert line in out
    assert (run / "samples" / "sample.mid").is_file()
    assert (run / "samples" / "sample.png").is_file()

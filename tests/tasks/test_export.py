"""`rnnkit export`: a run's checkpoint as a folder that `rnnkit.load` and `rnnkit serve` read.

Every tiny run of the session (tests/tiny_runs.py) is exported once; each export must load as
the same object with the same outputs as its run, hold the chosen checkpoint's weights byte for
byte and nothing of the optimizer, and carry a model card. A charlm run with a checkpoint per
step (`best` naming the first) checks the checkpoint choice; a word2vec run is trained here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image
from safetensors.torch import load_file
from word2vec_helpers import planted_corpus

import rnnkit
from rnnkit import tasks
from rnnkit.cli import main
from rnnkit.config import make_config
from rnnkit.errors import CheckpointError, ConfigError
from rnnkit.represent.word2vec import Word2VecConfig
from rnnkit.tasks.charlm.config import CharLMConfig
from rnnkit.tasks.export import export_info, export_run
from rnnkit.tasks.word2vec import train as word2vec
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.runs import read_run_config
from rnnkit.web.app import create_app
from tiny_runs import trainer_config

SAME_FILES = {"config.json", "model.safetensors", "metrics.jsonl", "README.md"}
VOCAB_FILES = {
    "charlm": {"vocab.json"}, "charlm-gru": {"vocab.json"}, "charlm-rnn": {"vocab.json"},
    "sentiment": {"vocab.json", "tokenizer.json"}, "condlm": {"vocab.json"},
    "ner": {"vocab.json", "chars.json", "tokenizer.json"},
    "translate": {"source_vocab.json", "target_vocab.json", "tokenizer.json"},
    "caption": {"vocab.json"}, "forecast": {"series.csv"},
}  # fmt: skip


@pytest.fixture(scope="module")
def exports(
    tiny_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Every tiny run exported at the default checkpoint, by the run's name."""
    root = tmp_path_factory.mktemp("exports")
    return {name: export_run(run, root / name) for name, run in tiny_runs.items()}


def _latest(run: Path) -> Path:
    path = CheckpointManager(run / "checkpoints").latest()
    assert path is not None
    return path


def _outputs(loaded: object, task: str, images: list[Path]) -> object:
    """What each task's object answers, on fixed inputs and seeds."""
    if task == "charlm":
        return [loaded.generate("ROMEO", length=25, temperature=0.8, seed=3),
                loaded.generate(length=10, temperature=0, seed=1)]  # fmt: skip
    if task == "condlm":
        return loaded.generate(length=12, temperature=0.9, seed=5, condition="good")
    if task == "sentiment":
        return loaded.predict(["a very good film .", "the plot was bad", "story"])
    if task == "ner":
        return loaded.tag(["Yesterday Harry Potter met Ron in London .", "Hermione went"])
    if task == "translate":
        return [loaded.translate(["three one four", "two"], beam=3),
                loaded.translate(["five six"], beam=1)]  # fmt: skip
    if task == "caption":
        return loaded.caption(images, beam=2)
    assert task == "forecast"
    history = loaded.series.values[:30, 0]  # (30,)
    return [loaded.forecast().tolist(), loaded.forecast(3, history=history).tolist()]


@pytest.mark.parametrize("name", sorted(VOCAB_FILES))
def test_an_export_loads_as_its_run_with_the_same_outputs(
    tiny_runs: dict[str, Path], exports: dict[str, Path], name: str, tmp_path: Path
) -> None:
    run, out = tiny_runs[name], exports[name]
    task = read_run_config(run)["task"]
    images = []
    for colour, rgb in (("red", (220, 30, 30)), ("blue", (30, 40, 220))):
        Image.new("RGB", (20, 20), rgb).save(tmp_path / f"{colour}.png")
        images.append(tmp_path / f"{colour}.png")
    original, exported = rnnkit.load(run), rnnkit.load(out)
    assert type(exported) is type(original)
    assert not exported.model.training
    for key, value in original.model.state_dict().items():
        assert torch.equal(exported.model.state_dict()[key], value), key
    assert _outputs(exported, task, images) == _outputs(original, task, images)


def test_a_forecast_export_carries_its_series(
    tiny_runs: dict[str, Path], exports: dict[str, Path]
) -> None:
    original, exported = rnnkit.load(tiny_runs["forecast"]), rnnkit.load(exports["forecast"])
    np.testing.assert_array_equal(exported.series.values, original.series.values)
    assert exported.series.timestamps == original.series.timestamps
    assert (exported.series.name, exported.series.columns, exported.series.season) == (
        original.series.name, original.series.columns, original.series.season)  # fmt: skip
    assert exported.user_csv == original.user_csv
    assert exported.config == original.config


def test_an_export_needs_neither_its_run_nor_its_data(
    tiny_runs: dict[str, Path], tmp_path: Path
) -> None:
    run, data = tmp_path / "run", tmp_path / "load.csv"
    shutil.copytree(tiny_runs["forecast"], run)
    config = read_run_config(run)
    shutil.copyfile(config["data"], data)
    (run / "config.json").write_text(json.dumps({**config, "data": str(data)}), encoding="utf-8")
    expected = rnnkit.load(run).forecast().tolist()
    out = export_run(run, tmp_path / "out")
    shutil.rmtree(run)
    data.unlink()
    exported = rnnkit.load(out)
    assert exported.forecast().tolist() == expected
    assert exported.checkpoint == out


@pytest.mark.parametrize("name", sorted(VOCAB_FILES))
def test_an_export_holds_the_weights_and_no_optimizer_state(
    tiny_runs: dict[str, Path], exports: dict[str, Path], name: str
) -> None:
    out = exports[name]
    assert {path.name for path in out.iterdir()} == SAME_FILES | VOCAB_FILES[name]
    checkpoint = _latest(tiny_runs[name])  # the tiny runs did not evaluate: best is the latest
    assert (out / "model.safetensors").read_bytes() == (
        checkpoint / "model.safetensors").read_bytes()  # fmt: skip
    assert set(load_file(out / "model.safetensors")) == set(rnnkit.load(out).model.state_dict())
    info = export_info(read_run_config(out))
    assert info is not None
    assert (info["checkpoint"], info["step"]) == (checkpoint.name, int(checkpoint.name[5:]))
    run_config = read_run_config(tiny_runs[name])
    assert {k: v for k, v in read_run_config(out).items() if k != "export"} == run_config
    for key in ("vocab", "chars", "source_vocab", "target_vocab"):
        if f"{key}.json" in VOCAB_FILES[name]:
            assert json.loads((out / f"{key}.json").read_text(encoding="utf-8")) == (
                run_config[key])  # fmt: skip


def test_the_model_card_names_task_data_step_metrics_command_and_versions(
    tiny_runs: dict[str, Path], exports: dict[str, Path]
) -> None:
    card = (exports["forecast"] / "README.md").read_text(encoding="utf-8")
    config = read_run_config(tiny_runs["forecast"])
    checkpoint = _latest(tiny_runs["forecast"])
    assert card.startswith(f"# forecast: forecast-run, {checkpoint.name} (step 2)")
    assert "- task: forecast" in card
    assert f"- path: `{config['data']}`" in card
    assert f"- sha256: `{config['data_digest']['sha256']}`" in card
    assert f"- size: {config['data_digest']['bytes']} bytes in 1 file(s)" in card
    state = json.loads((checkpoint / "state.json").read_text(encoding="utf-8"))
    val_mae = f"{state['metrics']['val_mae']:.6g}"
    assert f"| val_mae | {val_mae} | {val_mae} (2) |" in card  # checkpoint and last logged
    last_loss = [json.loads(line) for line in (tiny_runs["forecast"] / "metrics.jsonl")
                 .read_text(encoding="utf-8").splitlines()][-2]["loss"]  # fmt: skip
    assert f"| loss | – | {last_loss:.6g} (2) |" in card
    assert f"    {' '.join(config['argv'])}" in card  # the command that trained it
    assert f"trained with rnnkit {config['versions']['rnnkit']}, torch " in card
    assert f"exported with rnnkit {rnnkit.__version__}, torch {torch.__version__}" in card
    weights = (exports["forecast"] / "model.safetensors").read_bytes()
    digest = hashlib.sha256(weights).hexdigest()
    assert f"| model.safetensors | {len(weights)} | `{digest}` |" in card
    builtin = (exports["charlm"] / "README.md").read_text(encoding="utf-8")
    assert "The task's built-in corpus (no --data)." in builtin


def test_the_card_shows_an_rnnkit_command_as_typed(
    tiny_runs: dict[str, Path], tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_runs["charlm-rnn"], run)
    config = read_run_config(run)
    config["argv"] = ["/venv/bin/rnnkit", "train", "charlm", "--prime", "TO BE"]
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    card = (export_run(run, tmp_path / "out") / "README.md").read_text(encoding="utf-8")
    assert "    rnnkit train charlm --prime 'TO BE'" in card


# -- which checkpoint ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A charlm run with a checkpoint at each of 3 steps, `best` naming the first."""
    run = tmp_path_factory.mktemp("evaluated") / "charlm"
    trainer = dataclasses.replace(trainer_config(3), eval_every=1, checkpoint_every=1)
    tasks.train("charlm", make_config(CharLMConfig, max_chars=2000, batch_size=2, seq_len=6,
                                      embed_dim=4, hidden_size=6, num_layers=1, samples=0),
                trainer, run_dir=run)  # fmt: skip
    first, *_, last = CheckpointManager(run / "checkpoints").checkpoints()
    (run / "checkpoints" / "best").write_text(first.name + "\n", encoding="utf-8")
    return run, first, last


def test_the_default_is_the_best_checkpoint_and_others_are_chosen_by_name(
    evaluated: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    run, best, latest = evaluated
    for checkpoint, expected in (("best", best), ("latest", latest), (best.name, best),
                                 (str(latest), latest)):  # fmt: skip
        out = export_run(run, tmp_path / checkpoint.replace("/", "_"), checkpoint=checkpoint)
        assert (out / "model.safetensors").read_bytes() == (
            expected / "model.safetensors").read_bytes()  # fmt: skip
        assert export_info(read_run_config(out))["step"] == int(expected.name[5:])
        loaded = rnnkit.load(run, checkpoint=str(expected))
        exported = rnnkit.load(out)
        assert exported.generate("a", length=12, seed=2) == loaded.generate("a", length=12, seed=2)
    state = json.loads((best / "state.json").read_text(encoding="utf-8"))
    card = (tmp_path / "best" / "README.md").read_text(encoding="utf-8")
    assert f"at the exported checkpoint (step {int(best.name[5:])})" in card
    assert f"| val_loss | {state['metrics']['val_loss']:.6g} |" in card


def test_unknown_checkpoints_are_refused_with_the_runs_own(
    evaluated: tuple[Path, Path, Path], tiny_runs: dict[str, Path], tmp_path: Path
) -> None:
    run, _, latest = evaluated
    with pytest.raises(ConfigError, match=rf"no checkpoint 'step-9'.*{latest.name}"):
        export_run(run, tmp_path / "out", checkpoint="step-9")
    with pytest.raises(ConfigError, match="has no checkpoint"):  # another run's checkpoint
        export_run(run, tmp_path / "out", checkpoint=str(_latest(tiny_runs["charlm"])))
    assert not (tmp_path / "out").exists()
    out = export_run(run, tmp_path / "out")
    with pytest.raises(ConfigError, match="an export of one checkpoint"):
        rnnkit.load(out, checkpoint="step-00000001")
    assert rnnkit.load(out, checkpoint="latest").checkpoint == out


# -- refusals ---------------------------------------------------------------------------------


def test_export_refuses_what_is_not_a_run_and_folders_it_would_overwrite(
    tiny_runs: dict[str, Path], exports: dict[str, Path], tmp_path: Path
) -> None:
    run = tiny_runs["charlm-rnn"]
    with pytest.raises(ConfigError, match="not an rnnkit run directory"):
        export_run(tmp_path / "absent", tmp_path / "out")
    with pytest.raises(ConfigError, match="is already an export"):
        export_run(exports["charlm"], tmp_path / "out")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    (mine / "config.json").write_text("[not rnnkit's", encoding="utf-8")
    for force in (False, True):
        with pytest.raises(ConfigError, match="is not empty and is not an rnnkit export"):
            export_run(run, mine, force=force)
    assert sorted(p.name for p in mine.iterdir()) == ["config.json", "notes.txt"]
    with pytest.raises(ConfigError, match="is a file"):
        export_run(run, mine / "notes.txt")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert export_run(run, empty) == empty  # an empty folder is fine


def test_a_previous_export_is_replaced_only_with_force(
    tiny_runs: dict[str, Path], tmp_path: Path
) -> None:
    out = export_run(tiny_runs["forecast"], tmp_path / "out")
    with pytest.raises(ConfigError, match="already holds an export; pass --force"):
        export_run(tiny_runs["charlm-rnn"], out)
    assert read_run_config(out)["task"] == "forecast"
    export_run(tiny_runs["charlm-rnn"], out, force=True)
    assert read_run_config(out)["task"] == "charlm"
    assert "series.csv" not in {p.name for p in out.iterdir()}  # nothing of the old export
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left


def test_changed_weights_in_an_export_are_refused(
    tiny_runs: dict[str, Path], tmp_path: Path
) -> None:
    out = export_run(tiny_runs["charlm-rnn"], tmp_path / "out")
    data = bytearray((out / "model.safetensors").read_bytes())
    data[-1] ^= 0x01
    (out / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"model.safetensors is corrupt or was changed"):
        rnnkit.load(out)


# -- the command line and the server ----------------------------------------------------------


def test_rnnkit_export_writes_the_folder_and_says_how_to_use_it(
    tiny_runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["export", str(tiny_runs["sentiment"]), str(out)]) == 0
    printed = capsys.readouterr().out
    step = _latest(tiny_runs["sentiment"]).name
    assert f"{step} (step {int(step[5:])}) to {out}" in printed
    assert f"rnnkit serve {out}" in printed
    texts = ["a very good film ."]
    assert rnnkit.load(out).predict(texts) == rnnkit.load(tiny_runs["sentiment"]).predict(texts)
    assert main(["export", str(tiny_runs["sentiment"]), str(out)]) == 2
    assert "already holds an export; pass --force" in capsys.readouterr().out
    assert main(["export", str(tiny_runs["sentiment"]), str(out), "--force"]) == 0
    assert main(["export", str(tiny_runs["ner"]), str(tmp_path / "x"), "--checkpoint", "nope"]) == 2
    assert "has no checkpoint 'nope'" in capsys.readouterr().out


def test_rnnkit_serve_lists_and_answers_from_an_export(
    tiny_runs: dict[str, Path], exports: dict[str, Path]
) -> None:
    served = [exports["charlm"], exports["forecast"], tiny_runs["charlm"]]
    with TestClient(create_app(served)) as client:
        listed = client.get("/api/models").json()["models"]
        assert [(m["id"], m["task"]) for m in listed] == [
            ("charlm", "charlm"), ("forecast", "forecast"), ("charlm-lstm", "charlm")]  # fmt: skip
        request = {"prime": "ROMEO", "length": 20, "temperature": 0.7, "seed": 11}
        answers = [client.post(f"/api/models/{model}/generate", json=request).json()
                   for model in ("charlm", "charlm-lstm")]  # fmt: skip
        assert answers[0] == answers[1]
        assert answers[0]["tokens"] == 20
        curves = client.get("/api/models/charlm/curves").json()["curves"]
        assert curves  # the training history travels with the export


# -- word2vec -----------------------------------------------------------------------------------


def test_a_word2vec_export_holds_the_vectors_and_loads_as_them(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        config = Word2VecConfig(vector_size=8, epochs=1, min_count=1, window=2, threads=1)
        word2vec.train_run(planted_corpus(tmp_path / "corpus.txt"), config, tmp_path / "run",
                           quiet=True)  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    out = export_run(tmp_path / "run", tmp_path / "out")
    assert {p.name for p in out.iterdir()} == {
        "config.json",
        "vectors.safetensors",
        "vocab.json",
        "metrics.jsonl",
        "README.md",
    }
    original, exported = rnnkit.load(tmp_path / "run"), rnnkit.load(out)
    assert exported.words == original.words
    assert torch.equal(exported.vectors, original.vectors)
    assert exported.most_similar("t0w0", topn=3) == original.most_similar("t0w0", topn=3)
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "# word2vec: run, final vectors" in card
    assert f"- path: `{(tmp_path / 'corpus.txt').resolve()}`" in card
    with pytest.raises(ConfigError, match="export it without --checkpoint"):
        export_run(tmp_path / "run", tmp_path / "other", checkpoint="latest")
    (tmp_path / "run" / "vectors.safetensors").unlink()
    with pytest.raises(CheckpointError, match="the run has not finished"):
        export_run(tmp_path / "run", tmp_path / "other")


def test_training_into_an_export_is_refused_and_leaves_it_whole(
    tiny_runs: dict[str, Path], tmp_path: Path
) -> None:
    out = export_run(tiny_runs["charlm-rnn"], tmp_path / "out")
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    with pytest.raises(ConfigError, match=r"is not empty .* and is not an rnnkit run"):
        tasks.train("charlm", CharLMConfig(max_chars=2000, samples=0), trainer_config(1),
                    run_dir=out)  # fmt: skip
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_a_failed_replace_leaves_the_previous_export_whole(
    tiny_runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = export_run(tiny_runs["forecast"], tmp_path / "out")
    before = {path.name: path.read_bytes() for path in out.iterdir()}

    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("rnnkit.tasks.export.os.replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        export_run(tiny_runs["charlm-rnn"], out, force=True)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]

"""The task registry: registration rules, lookup errors, config splitting, train/resume/evaluate."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from rnnkit import tasks
from rnnkit.config import add_config_flags
from rnnkit.errors import ConfigError
from rnnkit.models.configs.language_model import LanguageModelConfig
from rnnkit.tasks import registry
from rnnkit.tasks.charlm.config import CharLMConfig
from rnnkit.tasks.charlm.train import LoadedModel
from rnnkit.training import TrainerConfig, TrainingSetup
from rnnkit.training.plots import plot_run


@dataclass(frozen=True, kw_only=True)
class ToyConfig:
    hidden_size: int = 4  # H


def _builder(config: ToyConfig, *, data: Path | None, seed: int) -> TrainingSetup:
    raise AssertionError("not built in these tests")


@pytest.fixture(autouse=True)
def _empty_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_TASKS", {})
    monkeypatch.setattr(registry, "_LOADERS", {})


def test_register_and_look_up() -> None:
    spec = tasks.register_task("toy", _builder, config_cls=ToyConfig, help="a toy")
    assert tasks.get_task("toy") is spec
    assert tasks.known_tasks() == ["toy"]
    assert (spec.config_cls, spec.help) == (ToyConfig, "a toy")


def test_unknown_task_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown task 'toy'; known tasks: none are registered"):
        tasks.get_task("toy")
    tasks.register_task("b-task", _builder, config_cls=ToyConfig)
    tasks.register_task("a_task", _builder, config_cls=ToyConfig)
    with pytest.raises(ConfigError, match="known tasks: a_task, b-task"):
        tasks.get_task("charlm")


def test_registration_rules() -> None:
    tasks.register_task("toy", _builder, config_cls=ToyConfig)
    with pytest.raises(ConfigError, match="already registered"):
        tasks.register_task("toy", _builder, config_cls=ToyConfig)
    tasks.register_task("toy", _builder, config_cls=ToyConfig, replace=True)
    with pytest.raises(ConfigError, match="lower-case"):
        tasks.register_task("Toy", _builder, config_cls=ToyConfig)
    with pytest.raises(ConfigError, match="must be a dataclass"):
        tasks.register_task("other", _builder, config_cls=dict)

    @dataclass(frozen=True, kw_only=True)
    class Clashing:
        seed: int = 1
        data: str = ""

    with pytest.raises(ConfigError, match=r"reuses field names \['data', 'seed'\]"):
        tasks.register_task("clash", _builder, config_cls=Clashing)


def test_a_task_registers_its_loader_once_by_name() -> None:
    tasks.register_task("toy", _builder, config_cls=ToyConfig, loader="json:loads")
    tasks.register_loader("toy-words", "json:dumps")
    assert tasks.loaders() == {"toy": "json:loads", "toy-words": "json:dumps"}
    assert tasks.describe_task("toy").loader == "json:loads"
    assert tasks.loader_of("toy")("[1]") == [1]  # imported on use
    tasks.register_loader("toy", "json:loads")  # the same again: no change
    with pytest.raises(ConfigError, match="'toy' already has loader 'json:loads'"):
        tasks.register_loader("toy", "json:dumps")
    with pytest.raises(ConfigError, match=r"must be 'module:function', got 'json\.loads'"):
        tasks.register_loader("other", "json.loads")
    with pytest.raises(ConfigError, match="must be 'module:function'"):
        tasks.register_task("other", _builder, config_cls=ToyConfig, loader="json:")
    with pytest.raises(
        ConfigError, match=r"task 'absent' cannot be loaded; .*\['toy', 'toy-words'\]"
    ):
        tasks.loader_of("absent")


def test_split_config_routes_keys_and_refuses_unknown_ones() -> None:
    spec = tasks.register_task("toy", _builder, config_cls=ToyConfig)
    task_part, trainer_part = tasks.split_config(
        spec, {"hidden_size": 3, "lr": 0.1, "trainer": {"max_steps": 7}}
    )
    assert task_part == {"hidden_size": 3}
    assert trainer_part == {"max_steps": 7, "lr": 0.1}
    with pytest.raises(ConfigError, match=r"unknown config key 'hiden_size'.*hidden_size"):
        tasks.split_config(spec, {"hiden_size": 3})


def test_configs_from_flags_file_then_flags(tmp_path: Path) -> None:
    spec = tasks.register_task("toy", _builder, config_cls=ToyConfig)
    path = tmp_path / "run.json"
    path.write_text('{"task_config": {"hidden_size": 9}, "trainer": {"lr": 0.5, "seed": 4}}')
    args = argparse.Namespace(config=path, hidden_size=None, lr=0.25)
    task_config, trainer_config = tasks.configs_from_flags(spec, args)
    assert task_config == ToyConfig(hidden_size=9)
    assert trainer_config == TrainerConfig(lr=0.25, seed=4)
    (tmp_path / "bad.toml").write_text("lr = ")
    with pytest.raises(ConfigError, match="not valid JSON/TOML"):
        tasks.read_config_file(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="not found"):
        tasks.read_config_file(tmp_path / "missing.json")


def test_a_none_flag_overrides_the_tasks_trainer_default() -> None:
    spec = tasks.register_task(
        "toy", _builder, config_cls=ToyConfig, trainer_defaults={"clip_norm": 5.0}
    )
    parser = argparse.ArgumentParser()
    add_config_flags(parser, TrainerConfig, dict(spec.trainer_defaults))
    _, kept = tasks.configs_from_flags(spec, parser.parse_args([]))
    _, dropped = tasks.configs_from_flags(spec, parser.parse_args(["--clip-norm", "none"]))
    assert (kept.clip_norm, dropped.clip_norm) == (5.0, None)


def test_default_run_dir_names_the_task() -> None:
    path = tasks.default_run_dir("toy")
    assert path.parent == Path("runs")
    assert path.name.startswith("toy-")


def _register_charlm() -> None:
    from rnnkit.tasks.charlm.config import TASK_INFO

    info = TASK_INFO["charlm"]
    tasks.register_task("charlm", info.builder, config_cls=info.config_cls, loader=info.loader,
                        trainer_defaults=info.trainer_defaults)  # fmt: skip


def _tiny_charlm() -> CharLMConfig:
    model = LanguageModelConfig(embed_dim=4, hidden_size=6, num_layers=1)
    return CharLMConfig(max_chars=2000, batch_size=2, seq_len=6, samples=0, model=model)


def test_train_returns_the_loaded_run_its_history_and_writes_the_plots(
    tmp_path: Path, one_thread: None
) -> None:
    _register_charlm()
    trainer = TrainerConfig(max_steps=4, eval_every=2, checkpoint_every=2, log_every=1,
                            quiet=True)  # fmt: skip
    trained = tasks.train("charlm", _tiny_charlm(), trainer, run_dir=tmp_path / "run")
    assert isinstance(trained, tasks.Trained)
    assert (trained.result.step, trained.result.reason) == (4, "max_steps")
    assert isinstance(trained.model, LoadedModel)  # what rnnkit.load gives back
    assert trained.model.model.config.hidden_size == 6
    assert trained.model.model.config.vocab_size == len(trained.model.vocab)
    assert len(trained.history.history["loss"]) == 4
    assert trained.history.steps["val_loss"] == [2, 4]
    plots = sorted(path.name for path in (tmp_path / "run" / "plots").glob("*.png"))
    assert plots == sorted(path.name for path in plot_run(tmp_path / "run", tmp_path / "cli"))
    assert "loss.png" in plots

    quiet = tasks.train("charlm", _tiny_charlm(), dataclasses.replace(trainer, max_steps=2),
                        run_dir=tmp_path / "unreported", report=False)  # fmt: skip
    assert not (tmp_path / "unreported" / "plots").exists()
    assert quiet.history.history["loss"]
    resumed = tasks.resume(tmp_path / "run", overrides={"max_steps": 4})
    assert resumed.reason == tasks.NOTHING_TO_TRAIN
    assert len(resumed.history.history["loss"]) == 4  # the run's rows, nothing trained

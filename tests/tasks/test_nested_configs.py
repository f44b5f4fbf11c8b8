"""Task configs compose their model configs (issue 23): no copied field, flags before data, and
runs written before the nesting (flat model keys in config.json) still load, resume and serve."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import rnnkit
from rnnkit import tasks
from rnnkit.cli import main
from rnnkit.config import config_from_dict, config_to_dict, is_data_field, nested_fields
from rnnkit.tasks.charlm.config import CharLMConfig
from rnnkit.tasks.classify.config import ClassifyConfig
from rnnkit.web.models import load_run

TASKS = tasks.known_tasks()


@pytest.mark.parametrize("name", TASKS)
def test_a_task_config_nests_its_model_config_and_copies_none_of_its_fields(name: str) -> None:
    config_cls = tasks.describe_task(name).config_cls
    nested = nested_fields(config_cls)
    assert nested, f"{config_cls.__name__} holds no model config"
    own = {field.name for field in dataclasses.fields(config_cls)}
    for inner in nested.values():
        copied = own & {field.name for field in dataclasses.fields(inner)}
        assert not copied, f"{config_cls.__name__} copies {sorted(copied)} of {inner.__name__}"
    # the data's fields stay unknown until the builder reads the data
    default = config_cls()
    for field_name, inner in nested.items():
        for field in dataclasses.fields(inner):
            if is_data_field(field):
                assert getattr(getattr(default, field_name), field.name) == field.default


@pytest.mark.parametrize("name", TASKS)
def test_a_bad_model_size_is_refused_before_any_data_is_read(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    argv = ["train", name, "--hidden-size", "0", "--data", str(tmp_path / "no" / "such" / "data"),
            "--run-dir", str(run_dir)]  # fmt: skip
    assert main(argv) == 2
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error:")
    assert "hidden_size must be a positive integer, got 0" in lines[0]
    assert not run_dir.exists()


@pytest.mark.parametrize("name", ["charlm", "ner", "translate"])
def test_the_dotted_flag_and_the_alias_are_one_setting(name: str) -> None:
    parser = rnnkit.cli.build_parser()
    spec = tasks.describe_task(name)
    field_name = next(iter(nested_fields(spec.config_cls)))
    dotted = parser.parse_args(["train", name, f"--{field_name}.hidden-size", "12"])
    alias = parser.parse_args(["train", name, "--hidden-size", "12"])
    configs = [tasks.configs_from_flags(spec, args)[0] for args in (dotted, alias)]
    assert configs[0] == configs[1]
    assert getattr(configs[0], field_name).hidden_size == 12


def _flatten_charlm(task_config: dict[str, Any]) -> dict[str, Any]:
    """config.json's task_config as runs wrote it before the model config was nested."""
    model = dict(task_config.pop("model"))
    model.pop("vocab_size")
    old = ("embed_dim", "hidden_size", "num_layers", "cell", "dropout", "tie_weights",
           "nonlinearity", "peephole", "coupled_gates", "reset_after")  # fmt: skip
    return {**task_config, **{key: model[key] for key in old}}


def _old_run(source: Path, target: Path, flatten) -> Path:
    shutil.copytree(source, target)
    path = target / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["task_config"] = flatten(config["task_config"])
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return target


def test_a_run_written_flat_loads_resumes_generates_and_serves(
    tiny_runs: dict[str, Path], tmp_path: Path
) -> None:
    run = _old_run(tiny_runs["charlm"], tmp_path / "old-charlm", _flatten_charlm)
    written = json.loads((run / "config.json").read_text())["task_config"]
    assert "model" not in written
    assert written["hidden_size"] == 10  # tests/tiny_runs.py's charlm
    config = config_from_dict(CharLMConfig, written)
    assert config.model.hidden_size == 10
    assert config.model.cell == "lstm"
    lm = rnnkit.load(run)
    assert lm.model.config.hidden_size == 10
    assert len(lm.generate("Th", length=5, seed=0)) >= 5
    result = tasks.resume(run, overrides={"max_steps": 1})  # at step 3: nothing to train
    assert result.reason == tasks.NOTHING_TO_TRAIN
    assert result.history is not None
    served = load_run(run, "old").describe()
    assert (served.info["hidden_size"], served.info["cell"]) == (10, "lstm")


def test_a_classifier_run_with_the_old_model_choice_loads(
    tiny_runs: dict[str, Path], tmp_path: Path
) -> None:
    def flatten(task_config: dict[str, Any]) -> dict[str, Any]:
        model = task_config.pop("model")
        task_config.pop("classifier")
        return {**task_config, "model": model["cell"], "hidden_size": model["hidden_size"]}

    run = _old_run(tiny_runs["sentiment"], tmp_path / "old-sentiment", flatten)
    written = json.loads((run / "config.json").read_text())["task_config"]
    config = config_from_dict(ClassifyConfig, written)
    assert config.classifier == "recurrent"
    assert (config.model.cell, config.model.hidden_size) == ("gru", 6)
    classifier = rnnkit.load(run)
    [probabilities] = classifier.predict(["a fine film"])
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert load_run(run, "old").describe().info["cell"] == "gru"
    assert config_from_dict(ClassifyConfig, {"model": "bow"}).classifier == "bow"


def test_a_run_writes_the_nested_form(tiny_runs: dict[str, Path]) -> None:
    written = json.loads((tiny_runs["charlm"] / "config.json").read_text())["task_config"]
    assert written["model"]["hidden_size"] == 10
    assert "hidden_size" not in written
    assert config_to_dict(config_from_dict(CharLMConfig, written)) == written

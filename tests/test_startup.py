"""Start-up: the parser, every help and `import rnnkit` load no torch or matplotlib.

The import graph is checked in a fresh interpreter (this test process has torch loaded already);
the wall time itself is measured by bench/startup.py, not asserted here.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import rnnkit
from rnnkit import tasks
from rnnkit.analysis.experiments import gradient_config
from rnnkit.tasks.charlm import config as charlm_config
from rnnkit.tasks.classify import config as classify_config
from rnnkit.tasks.translate import config as translate_config

HEAVY = ("torch", "matplotlib", "numpy")

HELPS = [["--help"], ["--version"], ["train", "--help"], ["train", "charlm", "--help"],
         ["train", "spam", "--help"], ["generate", "--help"], ["word2vec", "train", "--help"],
         ["analyze", "tasks", "--help"], ["explore", "--help"], ["serve", "--help"],
         ["translate", "--help"], ["forecast", "--help"], ["train", "charml"], []]  # fmt: skip

PROBE = """
import contextlib, io, json, sys
import rnnkit.cli
rnnkit.cli.build_parser()
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            rnnkit.cli.main(argv)
        except SystemExit:
            pass
import rnnkit.tasks, rnnkit.training.config, rnnkit.represent.word2vec.config
rnnkit.tasks.charlm.CharLMConfig, rnnkit.tasks.translate.ChatConfig  # a config via its package
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[2:]))))
"""


def _loaded_after(code: str, *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_parser_and_every_help_load_no_torch() -> None:
    assert _loaded_after(PROBE, json.dumps(HELPS), *HEAVY) == []


def test_import_rnnkit_is_light_and_its_layers_load_on_first_use() -> None:
    code = (
        "import json, sys, rnnkit\n"
        "before = 'torch' in sys.modules\n"
        "names = dir(rnnkit)\n"
        "layer = rnnkit.LSTM.__module__\n"
        "print(json.dumps([before, sorted(set(rnnkit.__all__) - set(names)), layer,"
        " 'torch' in sys.modules]))"
    )
    before, missing, layer, after = _loaded_after(code)
    assert (before, missing, after) == (False, [], True)
    assert layer.startswith("rnnkit.layers")


def test_public_names_still_resolve() -> None:
    from rnnkit.layers import GRU, LSTM, RNN

    assert (rnnkit.RNN, rnnkit.LSTM, rnnkit.GRU) == (RNN, LSTM, GRU)
    assert set(rnnkit.__all__) <= set(dir(rnnkit))
    with pytest.raises(AttributeError, match="no attribute 'Transformer'"):
        _ = rnnkit.Transformer  # type: ignore[attr-defined]
    from rnnkit import training

    assert training.Trainer.__module__ == "rnnkit.training.trainer"
    assert set(training.__all__) <= set(dir(training))


@pytest.mark.parametrize("name", tasks.known_tasks())
def test_built_in_tasks_resolve_to_their_modules(name: str) -> None:
    described = tasks.describe_task(name)
    spec = tasks.get_task(name)
    assert (spec.config_cls, spec.help, spec.trainer_defaults) == (
        described.config_cls,
        described.help,
        described.trainer_defaults,
    )
    assert callable(spec.builder)
    assert spec.builder.__module__.startswith("rnnkit.tasks.")
    assert callable(spec.report)


def test_task_packages_forward_their_modules_names() -> None:
    from rnnkit.analysis.experiments import gradient_tasks, long_range
    from rnnkit.datasets.long_range import PROBLEMS
    from rnnkit.tasks.charlm import train as charlm_train
    from rnnkit.tasks.classify import train as classify_train
    from rnnkit.tasks.translate import data as translation_data

    assert tasks.charlm is sys.modules["rnnkit.tasks.charlm"]  # the package, by PEP 562
    assert tasks.charlm.CharLMConfig is charlm_config.CharLMConfig is charlm_train.CharLMConfig
    assert tasks.charlm.load_language_model is charlm_train.load_language_model
    assert tasks.classify.SpamConfig is classify_config.SpamConfig
    assert classify_train.TRAINER_DEFAULTS is classify_config.TRAINER_DEFAULTS
    assert tasks.translate.ChatConfig is translation_data.ChatConfig is translate_config.ChatConfig
    assert tasks.ner.load_tagger is tasks.ner.tagger.load_tagger  # a helper module's name
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = tasks.charlm.nothing_here
    with pytest.raises(AttributeError, match="no attribute 'gradient_tasks'"):
        _ = tasks.gradient_tasks  # the experiments live in rnnkit.analysis.experiments
    assert gradient_tasks.TasksConfig is gradient_config.TasksConfig
    assert long_range.VARIANTS is gradient_config.VARIANTS
    assert gradient_config.TasksConfig().problems == PROBLEMS  # the default is written out


def test_each_task_package_registers_its_tasks_builder_and_loader() -> None:
    registered = {}
    for package in tasks.TASK_PACKAGES:
        config = importlib.import_module(f"rnnkit.tasks.{package}.config")
        for name, info in getattr(config, "TASK_INFO", {}).items():
            assert tasks.get_task(name).builder.__module__ == info.builder
            assert info.builder.startswith(f"rnnkit.tasks.{package}.")
            registered[name] = info.loader
        registered.update(getattr(config, "LOADERS", {}))
    assert sorted(registered) == sorted([*tasks.known_tasks(), "word2vec"])
    assert tasks.loaders() == dict(sorted(registered.items()))
    for name in registered:
        assert callable(tasks.loader_of(name))

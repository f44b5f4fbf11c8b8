"""Start-up: the parser, every help and `import rnnkit` load no torch or matplotlib.

The import graph is checked in a fresh interpreter (this test process has torch loaded already);
the wall time itself is measured by bench/startup.py, not asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import rnnkit
from rnnkit import tasks
from rnnkit.tasks import charlm_config, classify_config, gradient_config, translate_config

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


def test_moved_configs_keep_their_old_import_paths() -> None:
    from rnnkit.datasets.long_range import PROBLEMS
    from rnnkit.tasks import charlm, classify, gradient_tasks, long_range, translation_data

    assert charlm.CharLMConfig is charlm_config.CharLMConfig
    assert classify.SpamConfig is classify_config.SpamConfig
    assert classify.TRAINER_DEFAULTS is classify_config.TRAINER_DEFAULTS
    assert translation_data.ChatConfig is translate_config.ChatConfig
    assert gradient_tasks.TasksConfig is gradient_config.TasksConfig
    assert long_range.VARIANTS is gradient_config.VARIANTS
    assert gradient_config.TasksConfig().problems == PROBLEMS  # the default is written out

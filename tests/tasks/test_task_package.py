"""rnnkit.tasks.task_package: a task package forwards its modules' names, config first."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from rnnkit.tasks.task_package import task_package_exports


def _package(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A package `toy_pkg` with modules `first` (x, y) and `second` (y, z) in sys.modules."""
    package = types.ModuleType("toy_pkg")
    first, second = types.ModuleType("toy_pkg.first"), types.ModuleType("toy_pkg.second")
    first.x, first.y, second.y, second.z = 1, 2, 3, 4
    for module in (package, first, second):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    package.__getattr__, package.__dir__ = task_package_exports(vars(package), ("first", "second"))
    return package


def test_names_come_from_the_modules_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    package = _package(monkeypatch)
    assert (package.x, package.y, package.z) == (1, 2, 4)  # y: the first module's
    assert package.second is sys.modules["toy_pkg.second"]
    assert {"first", "second"} <= set(dir(package))
    with pytest.raises(AttributeError, match="no attribute 'w' \\(in none of"):
        _ = package.w
    with pytest.raises(AttributeError, match="no attribute '__wrapped__'"):
        _ = package.__wrapped__


def test_a_task_packages_config_names_load_no_torch() -> None:
    code = (
        "import sys, rnnkit.tasks as t\n"
        "names = (t.charlm.CharLMConfig, t.classify.SpamConfig, t.ner.NerConfig,"
        " t.word2vec.CHECKPOINT_EVERY)\n"
        "print('torch' in sys.modules, t.charlm.__name__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "rnnkit.tasks.charlm"]

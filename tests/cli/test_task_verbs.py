"""A task's own verbs and its handlers of shared verbs come from its registration (issue 23).

`rnnkit.cli.build_parser` adds the shared verbs of `rnnkit.cli` and every verb a task declares
(`TaskInfo.verbs`, `rnnkit.tasks.registry.task_verbs`); `rnnkit generate` / `rnnkit resume` of
a run call the handler its task declares (`TaskInfo.handlers`). No module of `rnnkit.cli` names
a task package.
"""

from __future__ import annotations

import argparse
import ast
import json
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pytest

import rnnkit.cli
from rnnkit.cli import build_parser, main
from rnnkit.errors import ConfigError
from rnnkit.tasks import TASK_PACKAGES, registry

# the verbs the built-in task packages declare today (their cli.py modules)
BUILT_IN = {"tag", "predict", "translate", "chat", "caption", "forecast", "word2vec"}
TOY_MODULE = """
from __future__ import annotations

import argparse


def add_toyverb(verbs: argparse._SubParsersAction) -> None:
    parser = verbs.add_parser("toyverb", help="the toy task's own verb")
    parser.add_argument("word")
    parser.set_defaults(handler=lambda args: print("toy says", args.word) or 3)


def generate(args: argparse.Namespace) -> int:
    print("toy generates from", args.run_dir.name)
    return 0
"""


@dataclass(frozen=True, kw_only=True)
class ToyConfig:
    width: int = 2  # a field no other config has


def _never_built(config: ToyConfig, *, data: Path | None, seed: int) -> None:
    raise AssertionError("the toy task is never trained here")


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.fixture
def toy_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The registry as it is, on copies that are put back after the test; the module
    `toy_verbs` importable from tmp_path."""
    registry.task_verbs()  # the task packages' declarations read before the copies are taken
    for name in ("_TASKS", "_LOADERS", "_VERBS", "_HANDLERS"):
        monkeypatch.setattr(registry, name, dict(getattr(registry, name)))
    (tmp_path / "toy_verbs.py").write_text(TOY_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_every_declared_task_verb_is_a_command_of_rnnkit_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    commands = _commands(build_parser())
    declared = registry.task_verbs()
    names = [reference.partition(":")[2].removeprefix("add_") for reference in declared]
    assert set(names) >= BUILT_IN
    assert len(names) == len(set(names))  # predict is declared by sentiment and spam, added once
    for reference, name in zip(declared, names, strict=True):
        module = reference.partition(":")[0]
        assert module.startswith("rnnkit.tasks."), reference
        assert module.endswith(".cli"), reference  # one module name for every task
        handler = commands[name].get_default("handler")  # word2vec's are on its sub-commands
        assert handler is None or handler.__module__ == module
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    listed = capsys.readouterr().out
    for name in names:
        assert f"\n    {name} " in listed or f"\n    {name}\n" in listed, name
    # the shared verbs first, the tasks' verbs, then the tools
    order = list(commands)
    assert order.index("summary") < order.index("tag") < order.index("export")


def test_the_shared_verb_lists_and_cli_modules_name_no_task() -> None:
    for add_verb in (*rnnkit.cli.VERBS, *rnnkit.cli.TOOL_VERBS):
        assert add_verb.__module__.startswith("rnnkit.cli."), add_verb
    modules = {info.name for info in pkgutil.iter_modules(rnnkit.cli.__path__)}
    assert not modules & (set(TASK_PACKAGES) | BUILT_IN | {"music", "tag"})
    task_modules = tuple(f"rnnkit.tasks.{package}" for package in TASK_PACKAGES)
    for path in Path(rnnkit.cli.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                named = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            else:
                continue
            assert not [n for n in named if n.startswith(task_modules)], (path.name, named)


@pytest.mark.usefixtures("toy_registry")
def test_registering_a_task_with_a_verb_adds_it_to_the_parser(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert "toyverb" not in _commands(build_parser())
    registry.register_task("toy", _never_built, config_cls=ToyConfig, help="a toy",
                           verbs=("toy_verbs:add_toyverb",))  # fmt: skip
    commands = _commands(build_parser())
    assert "toyverb" in commands
    assert set(commands) >= BUILT_IN
    assert main(["toyverb", "hello"]) == 3
    assert capsys.readouterr().out == "toy says hello\n"


def test_the_toy_task_is_gone_after_its_test() -> None:
    assert "toy" not in registry.known_tasks()
    assert "toyverb" not in _commands(build_parser())


@pytest.mark.usefixtures("toy_registry")
def test_generate_runs_the_handler_the_runs_task_declares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "toy-run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"task": "toy"}), encoding="utf-8")
    assert main(["generate", str(run)]) == 2  # no handler yet: a clear error, no traceback
    err = capsys.readouterr().out
    assert "run of task 'toy', not a language-model run" in err
    assert "reads runs of charlm, condlm, music" in err
    registry.register_task("toy", _never_built, config_cls=ToyConfig,
                           handlers={"generate": "toy_verbs:generate"})  # fmt: skip
    assert main(["generate", str(run)]) == 0
    assert capsys.readouterr().out == "toy generates from toy-run\n"
    assert "toy" in registry.tasks_handling("generate")


def test_the_built_in_handlers_are_declared_by_their_tasks() -> None:
    assert registry.tasks_handling("generate") == ["charlm", "condlm", "music"]
    assert registry.tasks_handling("resume") == ["word2vec"]
    assert registry.run_handler("music", "generate").__module__ == "rnnkit.tasks.music.cli"
    assert registry.run_handler("sentiment", "generate") is None
    assert registry.run_handler(None, "resume") is None


@pytest.mark.usefixtures("toy_registry")
@pytest.mark.parametrize(
    ("verbs", "handlers", "match"),
    [
        (("toy_verbs.add_toyverb",), None, "must be 'module:add_<verb>'"),
        (("toy_verbs:toyverb",), None, "must be 'module:add_<verb>'"),
        ("toy_verbs:add_toyverb", None, "must be a tuple"),
        ((), {"generate": "toy_verbs"}, "must map a verb to 'module:function'"),
    ],
)
def test_a_malformed_verb_or_handler_is_refused_at_registration(
    verbs: tuple[str, ...], handlers: dict[str, str] | None, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        registry.register_task("toy", _never_built, config_cls=ToyConfig, verbs=verbs,
                               handlers=handlers)  # fmt: skip
    assert "toy" not in registry.known_tasks()


@pytest.mark.usefixtures("toy_registry")
def test_a_task_keeps_its_verbs_unless_replaced() -> None:
    registry.register_verbs("toy", ("toy_verbs:add_toyverb",))
    registry.register_verbs("toy", ("toy_verbs:add_toyverb",))  # the same again: fine
    with pytest.raises(ConfigError, match="already has verbs"):
        registry.register_verbs("toy", ("toy_verbs:add_other",))
    registry.register_verbs("toy", (), replace=True)
    assert "toy_verbs:add_toyverb" not in registry.task_verbs()

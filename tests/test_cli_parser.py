"""The `rnnkit` parser: every command's --help and bare form, flag help lines, typo suggestions.

Every sub-command at every depth is walked: `--help` exits 0 with its usage, and the command
with no arguments exits 2 with a usage error (or is one of the commands that run a default job
without arguments). Every option has a description and states its default.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from rnnkit import tasks
from rnnkit.cli import build_parser, main
from rnnkit.config import GROUP_ORDER, flag_groups
from rnnkit.training.config import TrainerConfig


def _walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, (*path, name))


PARSERS = dict(_walk(build_parser()))
COMMANDS = [path for path in PARSERS if path]
# Commands that run a default job when given no arguments (they are not run here).
RUN_WITHOUT_ARGUMENTS = {("explore",), ("serve",), ("tour",)} | {
    ("train", name) for name in tasks.known_tasks()
}


def test_the_walk_reaches_every_depth() -> None:
    assert ("word2vec", "analogy") in COMMANDS
    assert ("analyze", "heatmap") in COMMANDS
    assert ("train", "charlm") in COMMANDS
    assert len(COMMANDS) >= 35


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_of_every_command_exits_0(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*path, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: rnnkit {' '.join(path)}")
    assert "Traceback" not in out


@pytest.mark.parametrize(
    "path", [path for path in COMMANDS if path not in RUN_WITHOUT_ARGUMENTS], ids=" ".join
)
def test_every_command_without_arguments_is_a_usage_error(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", open(__file__, encoding="utf-8"))  # noqa: SIM115
    try:
        code = main(list(path))
    except SystemExit as exited:
        code = exited.code
        err = capsys.readouterr().err
        assert code == 2
        assert "usage: rnnkit" in err
        assert f"rnnkit {' '.join(path)}: error:" in err
    else:  # a handler ran and refused cleanly: one red error line, exit 2
        assert code == 2
        assert capsys.readouterr().out.startswith("error:")


@pytest.mark.parametrize("path", sorted(RUN_WITHOUT_ARGUMENTS), ids=" ".join)
def test_commands_that_run_without_arguments_parse(path: tuple[str, ...]) -> None:
    args = build_parser().parse_args(list(path))
    assert callable(args.handler)


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda path: " ".join(path) or "rnnkit")
def test_every_option_is_described_with_its_default(path: tuple[str, ...]) -> None:
    parser = PARSERS[path]
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
            continue
        if isinstance(action, argparse._VersionAction):
            continue
        text = formatter._get_help_string(action) or ""
        name = "/".join(action.option_strings) or action.dest
        assert text.strip(), f"rnnkit {' '.join(path)} {name} has no help"
        if action.option_strings and action.nargs != 0 and not action.required:
            assert "default" in text, f"rnnkit {' '.join(path)} {name} does not show its default"


@pytest.mark.parametrize("task", tasks.known_tasks())
def test_every_train_flag_has_a_real_description(
    task: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = PARSERS[("train", task)]
    for action in parser._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        description = (action.help or "").split("(default:")[0].strip()
        assert re.search(r"[A-Za-z]{3}", description), f"{action.option_strings}: {action.help!r}"
    with pytest.raises(SystemExit):
        main(["train", task, "--help"])
    out = capsys.readouterr().out
    headings = [line[:-1] for line in out.splitlines() if line.endswith(":") and " " not in line]
    assert [h for h in headings if h in GROUP_ORDER] == list(GROUP_ORDER)


@pytest.mark.parametrize("task", tasks.known_tasks())
def test_every_config_field_is_in_one_help_group(task: str) -> None:
    spec = tasks.describe_task(task)
    for cls in (spec.config_cls, TrainerConfig):
        fields = [f.name for f in dataclasses.fields(cls)]
        groups = flag_groups(cls)
        assert sorted(groups) == sorted(fields), cls.__name__
        assert set(groups.values()) <= set(GROUP_ORDER)
        listed = [name for names in cls.FLAG_GROUPS.values() for name in names]
        assert len(listed) == len(set(listed)), f"{cls.__name__} lists a field twice"


def test_defaults_are_shown(capsys: pytest.CaptureFixture[str]) -> None:
    for path, expected in (
        (["generate"], "tokens to generate (default: 500)"),
        (["serve"], "port to listen on (default: 8000)"),
        (["train", "charlm"], "H, hidden units per layer (default: 256)"),
        (["train", "charlm"], "β₁, β₂ of Adam/AdamW (default: 0.9 0.999)"),
        (["train", "charlm"], "optimizer updates (default: 1800)"),  # the task's own default
        (["train", "spam"], "optimizer updates (default: 600)"),
    ):
        with pytest.raises(SystemExit):
            main([*path, "--help"])
        assert expected in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["train", "charlm", "--hiden-size", "3"], "did you mean --hidden-size?"),
        (["train", "charml"], "did you mean 'charlm'?"),
        (["trian", "charlm"], "did you mean 'train'?"),
        (["word2vec", "analogi"], "did you mean 'analogy'?"),
        (["train", "charlm", "--cell", "lstn"], "did you mean 'lstm'?"),
        (["generate", "run", "--lenght", "5"], "did you mean --length?"),
    ],
)
def test_typos_get_a_suggestion(
    argv: list[str], hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert hint in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["train"], ["word2vec"]])
def test_a_missing_command_prints_the_full_help(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    listed = PARSERS[tuple(argv)]._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert all(name in err for name in listed)
    assert "error: the following arguments are required" in err


def test_bare_rnnkit_describes_every_verb(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([])
    err = capsys.readouterr().err
    assert "Recurrent sequence models written from their equations." in err
    for verb in ("train", "generate", "word2vec", "serve", "explore"):
        assert re.search(rf"^\s+{verb}\s+\S", err, re.M), verb


def test_tuple_flags_take_the_printed_form_and_commas() -> None:
    parser = build_parser()
    spec = tasks.describe_task("charlm")
    for flags in (["--betas", "0.8", "0.99"], ["--betas", "0.8,0.99"]):
        args = parser.parse_args(["train", "charlm", *flags])
        _, trainer = tasks.configs_from_flags(spec, args)
        assert trainer.betas == (0.8, 0.99)
    args = parser.parse_args(["analyze", "scalar", "--factors", "0.5", "2", "--out", "x"])
    assert args.factors == [0.5, 2.0]
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "charlm", "--betas"])


def test_a_flag_typo_names_the_flag_of_the_command_typed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["word2vec", "train", "corpus.txt", "--run-dir", "r", "--vector-sise", "5"])
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith("usage: rnnkit word2vec train")
    assert "did you mean --vector-size?" in err

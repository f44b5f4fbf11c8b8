"""`rnnkit train TASK --model gru`: a nested config's name given as a flag names the right one.

argparse alone says "ambiguous option: --model could match --model.representation, …";
`RnnkitParser` says --model is a group of options and suggests the flag whose choices hold the
value (`rnnkit.cli.parsing.group_hint`). `rnnkit train classify` names the package's tasks.
"""

from __future__ import annotations

import pytest

from rnnkit.cli import main


def _usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (("--model", "gru"), "did you mean --model.cell gru (or --cell gru)?"),
        (("--model=gru",), "did you mean --model.cell gru (or --cell gru)?"),
        (("--model", "GRU"), "did you mean --model.cell gru (or --cell gru)?"),
        (("--model", "max"), "did you mean --model.pooling max (or --pooling max)?"),
        (("--model", "onehot"), "did you mean --model.representation onehot"),
        (("--model",), "give one of them, e.g. --model.representation VALUE"),
        (("--model", "256"), "give one of them, e.g. --model.representation VALUE"),
    ],
)
def test_a_group_name_as_a_flag_suggests_the_nested_flag(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], hint: str
) -> None:
    line = _usage_error(capsys, "train", "sentiment", *argv)
    assert "--model is a group of options (--model.representation, --model.embed-dim, " in line
    assert hint in line
    assert "ambiguous option" not in line


def test_a_group_prefix_is_ambiguous_with_the_same_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = _usage_error(capsys, "train", "forecast", "--mod", "gru")
    assert "--mod is ambiguous (--model." in line
    assert "did you mean --model.cell gru" in line


def test_a_prefix_of_flags_of_several_groups_keeps_argparses_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = _usage_error(capsys, "train", "sentiment", "--m", "3")
    assert "ambiguous option: --m could match" in line
    assert "--max-steps" in line


def test_a_task_package_name_names_its_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    line = _usage_error(capsys, "train", "classify", "--model", "gru")
    assert "invalid choice: 'classify'" in line
    assert "did you mean 'sentiment' or 'spam' (the tasks of rnnkit/tasks/classify)?" in line

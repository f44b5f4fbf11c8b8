"""The console: a hint command printed to a log file or a pipe stays on one line."""

from __future__ import annotations

import io
import logging

import pytest

from rnnkit.console import RnnkitConsole, console, setup_logging

HINT = (
    'classify new text with:\n  rnnkit predict runs/sentiment-20261123-054700 "a text to classify"'
)
COMMAND = '  rnnkit predict runs/sentiment-20261123-054700 "a text to classify"'


def test_a_hint_command_is_not_wrapped_when_the_output_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "30")  # narrower than the command
    assert console.width == 30
    assert not console.is_terminal  # captured, as when the output goes to a log
    console.print(HINT)
    assert capsys.readouterr().out.splitlines() == ["classify new text with:", COMMAND]


def test_on_a_terminal_long_text_still_wraps_at_the_window() -> None:
    terminal = RnnkitConsole(file=io.StringIO(), force_terminal=True, width=30, color_system=None)
    terminal.print(HINT)
    assert max(len(line) for line in terminal.file.getvalue().splitlines()) <= 30
    piped = RnnkitConsole(file=io.StringIO(), width=30)
    piped.print(HINT, soft_wrap=False)  # asking for wrapping explicitly still wraps
    assert COMMAND not in piped.file.getvalue().splitlines()


def test_log_records_off_a_terminal_are_plain_unwrapped_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    setup_logging()  # conftest restores the root logger afterwards
    message = "max_steps=5 < warmup_steps=20: the run ends in warm-up; lower --warmup-steps"
    logging.getLogger("rnnkit.training.trainer").warning(message)
    [line] = capsys.readouterr().out.splitlines()
    assert line.endswith(f" WARNING  {message}")

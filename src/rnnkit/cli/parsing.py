"""The argument parser of `rnnkit`: defaults in every help line, "did you mean", help on no verb.

`RnnkitParser` is argparse's parser with three changes, inherited by every sub-command parser:

- its help formatter prints each option's default (`--length LENGTH  tokens to generate
  (default: 500)`) unless the help line already says it or the option is a switch;
- a mistyped option or choice names the nearest valid one: `--hiden-size` gives "did you mean
  --hidden-size?", the task `charml` "did you mean 'charlm'?";
- a command run without its required sub-command (bare `rnnkit`, `rnnkit train`) prints the full
  help of that command before the usage error, and exits 2.

References:
    https://docs.python.org/3/library/argparse.html
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from rnnkit.config import int_in_range
from rnnkit.errors import ConfigError


class HelpFormatter(argparse.HelpFormatter):
    """Adds "(default: …)" to an option's help unless it says it, is a switch or has none."""

    def __init__(self, prog: str, **kwargs: Any) -> None:
        kwargs.setdefault("max_help_position", 32)
        super().__init__(prog, **kwargs)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        shown = "default" in text.lower() or action.required or action.nargs == 0
        if shown or not action.option_strings or action.default in (None, [], argparse.SUPPRESS):
            return text
        return f"{text} (default: %(default)s)".strip()


def _closest(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate nearest to `word` (difflib ratio ≥ 0.6), or None.

    >>> _closest("--hiden-size", ["--hidden-size", "--seed", "--help"])
    '--hidden-size'
    >>> _closest("charml", ["charlm", "chat", "caption"])
    'charlm'
    """
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


class RnnkitParser(argparse.ArgumentParser):
    """argparse.ArgumentParser with HelpFormatter, suggestions for typos and help on no verb."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """As argparse, but an unknown option is an error here, naming the nearest known one.

        A sub-command's parser sees its own unknown options, so the suggestion comes from the
        options of the command that was typed.
        """
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            hints = []
            for token in extras:
                if token.startswith("--"):
                    near = _closest(token.split("=", 1)[0], list(self._option_string_actions))
                    if near is not None:
                        hints.append(f"{token.split('=', 1)[0]}: did you mean {near}?")
            message = f"unrecognized arguments: {' '.join(extras)}"
            self.error(message + (f" ({'; '.join(hints)})" if hints else ""))
        return namespace, extras

    def _get_value(self, action: argparse.Action, arg_string: str) -> Any:
        """argparse's conversion; an integer outside [−2⁶³, 2⁶⁴ − 1] is refused (`int_in_range`)."""
        value = super()._get_value(action, arg_string)  # type: ignore[misc]
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                int_in_range(action.dest, value)
            except ConfigError as err:
                raise argparse.ArgumentError(action, str(err)) from None
        return value

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        """argparse's choice check, with the nearest choice named in the error."""
        try:
            super()._check_value(action, value)  # type: ignore[misc]
        except argparse.ArgumentError as err:
            near = None
            if isinstance(value, str) and action.choices is not None:
                near = _closest(value, [str(choice) for choice in action.choices])
            if near is None:
                raise
            raise argparse.ArgumentError(action, f"{err.message}; did you mean {near!r}?") from None

    def error(self, message: str) -> NoReturn:
        """Exit 2 with usage and `message`; the full help first when a sub-command is missing."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing = message.rsplit("required:", 1)[-1].split(",")
                if "required:" in message and action.metavar in [m.strip() for m in missing]:
                    self.print_help(sys.stderr)
                    self.exit(2, f"\n{self.prog}: error: {message}\n")
        super().error(message)

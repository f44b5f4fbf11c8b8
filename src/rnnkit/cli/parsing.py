"""The argument parser of `rnnkit`: defaults in every help line, "did you mean", help on no verb.

`RnnkitParser` is argparse's parser with four changes, inherited by every sub-command parser:

- its help formatter prints each option's default (`--length LENGTH  tokens to generate
  (default: 500)`) unless the help line already says it or the option is a switch;
- a mistyped option or choice names the nearest valid one: `--hiden-size` gives "did you mean
  --hidden-size?", the task `charml` "did you mean 'charlm'?";
- the name of a nested config given as a flag (`rnnkit train sentiment --model gru`, where the
  config has `--model.cell`, `--model.hidden-size`, …) says it is a group of options and names
  the flag whose choices hold the value: "did you mean --model.cell gru?" (argparse alone says
  "ambiguous option: --model could match …");
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


def group_hint(typed: str, matches: Sequence[argparse.Action], argv: Sequence[str]) -> str | None:
    """The message for an option `typed` that abbreviates several dotted flags of one group.

    `matches` are the actions whose flags start with `typed` (argparse found more than one);
    the value is what follows `=` or the next word of `argv`. None where the flags do not all
    belong to one group (`--m` of `--max-steps` and `--model.cell`): argparse's own message
    stands.

    >>> cell = argparse.Action(["--model.cell", "--cell"], "cell", choices=["lstm", "gru"])
    >>> size = argparse.Action(["--model.hidden-size"], "size")
    >>> print(group_hint("--model", [cell, size], ["--model", "gru"]))
    --model is a group of options (--model.cell, --model.hidden-size); did you mean --model.cell gru (or --cell gru)?
    >>> print(group_hint("--model", [cell, size], ["--model"]))
    --model is a group of options (--model.cell, --model.hidden-size); give one of them, e.g. --model.cell VALUE
    """  # noqa: E501
    prefix, _, explicit = typed.partition("=")
    flags = []  # the dotted flag of each action, in the parser's order
    for action in dict.fromkeys(matches):
        dotted = [flag for flag in action.option_strings if flag.startswith(prefix) and "." in flag]
        if not dotted:
            return None
        flags.append((action, dotted[0]))
    groups = {flag.split(".", 1)[0] for _, flag in flags}
    if len(groups) != 1:
        return None
    (group,) = groups
    head = f"{prefix} is a group of options" if prefix == group else f"{prefix} is ambiguous"
    head += f" ({', '.join(flag for _, flag in flags)})"
    value = explicit if "=" in typed else None
    if value is None and typed in argv:
        after = list(argv)[list(argv).index(typed) + 1 :]
        value = after[0] if after and not after[0].startswith("-") else None
    if value is not None:
        for action, flag in flags:
            choices = [str(choice) for choice in action.choices or ()]
            near = value if value in choices else _closest(value.lower(), choices)
            if near is not None:
                aliases = [f for f in action.option_strings if f.startswith("--") and "." not in f]
                alias = f" (or {aliases[0]} {near})" if aliases else ""
                return f"{head}; did you mean {flag} {near}{alias}?"
    return f"{head}; give one of them, e.g. {flags[0][1]} VALUE"


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
        self._argv = list(sys.argv[1:] if args is None else args)  # read by _get_option_tuples
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

    def _get_option_tuples(self, option_string: str) -> list[tuple[Any, ...]]:
        """argparse's flags that `option_string` abbreviates; several flags of one nested config
        (`--model` of `--model.cell`, …) are an error that names the likely one (`group_hint`)."""
        found = super()._get_option_tuples(option_string)  # type: ignore[misc]
        if len(found) > 1:
            argv = getattr(self, "_argv", [])
            message = group_hint(option_string, [match[0] for match in found], argv)
            if message is not None:
                self.error(message)
        return found

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
        """argparse's choice check, with the nearest choice named in the error, or the hint that
        the action's `choice_hints` dict gives for `value` (`rnnkit train classify`: the task
        package's tasks, 'sentiment' or 'spam')."""
        try:
            super()._check_value(action, value)  # type: ignore[misc]
        except argparse.ArgumentError as err:
            near = None
            if isinstance(value, str) and action.choices is not None:
                near = _closest(value, [str(choice) for choice in action.choices])
                near = None if near is None else repr(near)
                near = getattr(action, "choice_hints", {}).get(value, near)
            if near is None:
                raise
            raise argparse.ArgumentError(action, f"{err.message}; did you mean {near}?") from None

    def error(self, message: str) -> NoReturn:
        """Exit 2 with usage and `message`; the full help first when a sub-command is missing."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing = message.rsplit("required:", 1)[-1].split(",")
                if "required:" in message and action.metavar in [m.strip() for m in missing]:
                    self.print_help(sys.stderr)
                    self.exit(2, f"\n{self.prog}: error: {message}\n")
        super().error(message)

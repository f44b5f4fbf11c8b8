"""Configs as frozen dataclasses: JSON round-trip, CLI flags derived from fields.

`hidden_size` becomes `--hidden-size`; `--config run.json` (or .toml) is applied first and
flags given on the command line override it. An unknown key is a ConfigError listing the
valid keys. Nested dataclass fields round-trip as JSON objects.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from rnnkit.errors import ConfigError

ConfigT = TypeVar("ConfigT")


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """(inner type, is optional) for `X | None`."""
    if get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return args[0], True
    return tp, False


def _coerce(name: str, tp: Any, value: Any) -> Any:
    """Check and convert a JSON value to the field's annotated type."""
    inner, optional = _unwrap_optional(tp)
    if value is None:
        if optional:
            return None
        raise ConfigError(f"config field {name!r} may not be null")
    if dataclasses.is_dataclass(inner):
        if not isinstance(value, dict):
            raise ConfigError(f"config field {name!r} expects an object, got {value!r}")
        return config_from_dict(inner, value)
    origin = get_origin(inner)
    if origin is Literal:
        choices = get_args(inner)
        if value not in choices:
            raise ConfigError(
                f"config field {name!r} must be one of {list(choices)}, got {value!r}"
            )
        return value
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"config field {name!r} expects a list, got {value!r}")
        (item_type, *_) = get_args(inner) or (Any,)
        items = [v if item_type is Any else _coerce(name, item_type, v) for v in value]
        return tuple(items) if origin is tuple else items
    if inner is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config field {name!r} expects true or false, got {value!r}")
        return value
    if inner is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config field {name!r} expects an integer, got {value!r}")
        return value
    if inner is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"config field {name!r} expects a number, got {value!r}")
        return float(value)
    if inner is str:
        if not isinstance(value, str):
            raise ConfigError(f"config field {name!r} expects a string, got {value!r}")
        return value
    return value


def config_from_dict(cls: type[ConfigT], data: dict[str, Any]) -> ConfigT:
    """Build `cls` from a dict, refusing unknown keys and values of the wrong type."""
    hints = _field_types(cls)
    valid = [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(valid))
    if unknown:
        raise ConfigError(
            f"unknown config key(s) {unknown} for {cls.__name__}; valid keys: {sorted(valid)}"
        )
    kwargs = {key: _coerce(key, hints[key], value) for key, value in data.items()}
    return cls(**kwargs)


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def save_config(config: Any, path: str | Path) -> None:
    """Write a config as indented JSON."""
    Path(path).write_text(json.dumps(config_to_dict(config), indent=2) + "\n", encoding="utf-8")


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A JSON or TOML config file as a dict; a missing or invalid file is a ConfigError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except FileNotFoundError as err:
        raise ConfigError(f"config file not found: {path}") from err
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"config file {path} is not valid JSON/TOML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold an object, got {type(data).__name__}")
    return data


def load_config(cls: type[ConfigT], path: str | Path) -> ConfigT:
    """Read a config from a .json or .toml file."""
    return config_from_dict(cls, read_config_file(path))


class _NoneGiven:
    """`--flag none` on the command line: None, told apart from argparse's "not given" (None)."""

    def __repr__(self) -> str:
        return "None"


NONE_GIVEN = _NoneGiven()


def _flag_parser(name: str, tp: Any):
    inner, optional = _unwrap_optional(tp)

    def parse(text: str) -> Any:
        if optional and text.lower() in ("none", "null"):
            return NONE_GIVEN
        origin = get_origin(inner)
        if origin in (tuple, list):
            (item_type, *_) = get_args(inner) or (str,)
            return [item_type(part) for part in text.split(",") if part]
        if inner is int:
            return int(text)
        if inner is float:
            return float(text)
        return text

    parse.__name__ = name  # argparse names the type in its error message
    return parse


def add_config_flags(
    parser: argparse.ArgumentParser, cls: type, defaults: dict[str, Any] | None = None
) -> None:
    """Add `--config FILE` and one `--field-name` flag per (non-nested) field of `cls`.

    `defaults` overrides the dataclass defaults shown in the help (a task's own defaults).
    """
    parser.add_argument("--config", type=Path, default=None, help="JSON or TOML config file")
    hints = _field_types(cls)
    for field in dataclasses.fields(cls):
        tp = hints[field.name]
        inner, _ = _unwrap_optional(tp)
        if dataclasses.is_dataclass(inner) or not field.init:
            continue
        flag = "--" + field.name.replace("_", "-")
        default = field.default if field.default is not dataclasses.MISSING else None
        default = (defaults or {}).get(field.name, default)
        help_text = f"(default: {default})"
        if inner is bool:
            parser.add_argument(
                flag,
                dest=field.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
        elif get_origin(inner) is Literal:
            parser.add_argument(
                flag, dest=field.name, choices=get_args(inner), default=None, help=help_text
            )
        else:
            parser.add_argument(
                flag,
                dest=field.name,
                type=_flag_parser(field.name, tp),
                default=None,
                help=help_text,
            )


def given_flags(cls: type, args: argparse.Namespace) -> dict[str, Any]:
    """The fields of `cls` whose flags were given (`--clip-norm none` gives None)."""
    given = {}
    for field in dataclasses.fields(cls):
        value = getattr(args, field.name, None)
        if value is not None:
            given[field.name] = None if value is NONE_GIVEN else value
    return given


def config_from_args(cls: type[ConfigT], args: argparse.Namespace) -> ConfigT:
    """The config file named by `--config` (if any), overridden by the flags that were given."""
    data: dict[str, Any] = {}
    if getattr(args, "config", None) is not None:
        data = config_to_dict(load_config(cls, args.config))
    data.update(given_flags(cls, args))
    return config_from_dict(cls, data)

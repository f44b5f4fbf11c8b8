"""Configs as frozen dataclasses: JSON round-trip, CLI flags derived from fields.

`hidden_size` becomes `--hidden-size`; `--config run.json` (or .toml) is applied first and
flags given on the command line override it. An unknown key is a ConfigError listing the
valid keys. Nested dataclass fields round-trip as JSON objects. A flag's help line is the
comment beside its field in the class source (`hidden_size: int = 256  # H, hidden units`),
read once per source file with `ast`, and its default.

Configs compose: a task config holds its model config as a nested dataclass field (`model:
LanguageModelConfig`). Its fields get dotted flags, `--model.hidden-size`, and a flat alias,
`--hidden-size`, where that name is taken by nothing else on the parser (no field of the outer
config, of its other nested configs, or of the configs named in `reserved`): a colliding name
keeps only the dotted form (`flag_paths`). A config file may write a nested field as an object
(`{"model": {"hidden_size": 512}}`), a dotted key (`"model.hidden_size"`) or the flat alias
(`"hidden_size"`); `nest_keys` moves the last two into the object, so a run written before its
config was nested still loads. A field the data decides (`vocab_size`) is declared with
`data_field`: it has no flag, and the builder fills it in with `dataclasses.replace` once the
data is read (`check_data_fields` refuses a config still holding the placeholder).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
import io
import json
import textwrap
import tokenize
import tomllib
import types
import typing
from collections.abc import Collection
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


INT_MIN, INT_MAX = -(2**63), 2**64 - 1  # what torch's seeds and 64-bit sizes can hold


def int_in_range(name: str, value: int) -> int:
    """`value` if a 64-bit integer can hold it (signed or unsigned), else a ConfigError.

    Every integer flag (`cli.parsing.RnnkitParser`) and config-file value goes through here.

    >>> int_in_range("seed", 2**64 - 1)
    18446744073709551615
    >>> int_in_range("seed", 2**64)
    Traceback (most recent call last):
    rnnkit.errors.ConfigError: seed must be an integer in [-9223372036854775808, 18446744073709551615] (64 bits), got 18446744073709551616
    """  # noqa: E501
    if not INT_MIN <= value <= INT_MAX:
        raise ConfigError(
            f"{name} must be an integer in [{INT_MIN}, {INT_MAX}] (64 bits), got {value}"
        )
    return value


def _coerce(name: str, tp: Any, value: Any) -> Any:
    """Check and convert a JSON value to the field's annotated type."""
    inner, optional = _unwrap_optional(tp)
    if value is None:
        if optional:
            return None
        raise ConfigError(f"config field {name!r} may not be null")
    if dataclasses.is_dataclass(inner):
        if isinstance(value, inner):  # a config object given as it is (`make_config`)
            return value
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
        return int_in_range(f"config field {name!r}", value)
    if inner is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"config field {name!r} expects a number, got {value!r}")
        return float(value)
    if inner is str:
        if not isinstance(value, str):
            raise ConfigError(f"config field {name!r} expects a string, got {value!r}")
        return value
    return value


FROM_DATA = "from_data"  # field metadata key: the data decides the value (no flag)


def data_field(default: Any) -> Any:
    """A dataclass field the data decides (a vocabulary size, the tag set): no flag is made for
    it, and the builder fills it in (`dataclasses.replace`) once the data is read. A default of
    0 or empty means "not yet known": the config's own checks skip what needs the value."""
    return dataclasses.field(default=default, metadata={FROM_DATA: True})


def is_data_field(field: dataclasses.Field[Any]) -> bool:
    """Whether the data decides `field` (declared with `data_field`)."""
    return bool(field.metadata.get(FROM_DATA))


def check_data_fields(config: Any) -> None:
    """Refuse a config whose data-decided fields are still unknown (0 or empty): a model about
    to be built before the data was read, e.g. `LanguageModelConfig` with vocab_size 0."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        unknown = not isinstance(value, bool) and (value == 0 or value in ((), ""))
        if is_data_field(field) and unknown:
            raise ConfigError(
                f"{type(config).__name__}.{field.name} is decided by the data and is not known "
                f"yet ({value!r}): fill it with dataclasses.replace before building the model"
            )


def nested_fields(cls: type) -> dict[str, type]:
    """Field name -> dataclass, for each field of `cls` that holds a nested config."""
    hints = _field_types(cls)
    found = {}
    for field in dataclasses.fields(cls):
        inner, optional = _unwrap_optional(hints[field.name])
        if field.init and not optional and dataclasses.is_dataclass(inner):
            found[field.name] = inner
    return found


def _default_of(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


def flat_aliases(cls: type, reserved: Collection[str] = ()) -> dict[str, tuple[str, str]]:
    """Flat name -> (nested field, its field) for each field of a nested config of `cls` whose
    name collides with nothing: no field of `cls`, of its other nested configs, or `reserved`.

    A name two nested configs share, or one the outer config (or the trainer) has too, has no
    alias: only its dotted form names it.
    """
    outer = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    counts: dict[str, list[tuple[str, str]]] = {}
    for name, inner in nested_fields(cls).items():
        for field in dataclasses.fields(inner):
            counts.setdefault(field.name, []).append((name, field.name))
    return {
        flat: owners[0]
        for flat, owners in counts.items()
        if len(owners) == 1 and flat not in outer and flat not in reserved
    }


def nest_keys(cls: type, data: dict[str, Any], reserved: Collection[str] = ()) -> dict[str, Any]:
    """`data` with dotted keys ("model.hidden_size") and flat aliases ("hidden_size") of nested
    fields moved into their objects ({"model": {"hidden_size": …}}); other keys as they are.

    A flat config written before the model config was nested loads this way. A dotted or flat
    key overrides the same field inside the object (`{"model": {…}, "hidden_size": 8}` is an
    edit of the nested value). A class may rewrite a dict in an older form first: its static
    `upgrade_dict(data) -> data` (a field renamed, or nested).
    """
    upgrade = getattr(cls, "upgrade_dict", None)
    data = upgrade(data) if callable(upgrade) else data
    nested = nested_fields(cls)
    aliases = flat_aliases(cls, reserved)
    result: dict[str, Any] = {}
    moved: list[tuple[str, str, Any]] = []  # (nested field, its field, value)
    for key, value in data.items():
        head, dot, rest = key.partition(".")
        if dot and head in nested:
            moved.append((head, rest.replace("-", "_"), value))
        elif key in aliases and key not in nested:
            moved.append((*aliases[key], value))
        else:
            result[key] = value
    for head, name, value in moved:
        inner = result.get(head)
        if inner is None:
            inner = result[head] = {}
        elif not isinstance(inner, dict):
            raise ConfigError(f"config field {head!r} expects an object, got {inner!r}")
        else:
            inner = result[head] = dict(inner)
        inner[name] = value
    return result


def merge_dicts(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """`base` updated by `update`, nested objects merged key by key rather than replaced."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_dicts(merged[key], value)
        else:
            merged[key] = value
    return merged


def config_from_dict(cls: type[ConfigT], data: dict[str, Any]) -> ConfigT:
    """Build `cls` from a dict, refusing unknown keys and values of the wrong type.

    Nested configs may be given as objects, dotted keys or flat aliases (`nest_keys`); an object
    that leaves out fields takes them from the outer config's default (a task's own model
    defaults), not from the nested class's.
    """
    data = nest_keys(cls, data)
    hints = _field_types(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown config key(s) {unknown} for {cls.__name__}; valid keys: {sorted(fields)}"
        )
    nested = nested_fields(cls)
    kwargs = {}
    for key, value in data.items():
        if key in nested and isinstance(value, dict):
            default = _default_of(fields[key])
            if dataclasses.is_dataclass(default):
                value = merge_dicts(config_to_dict(default), nest_keys(nested[key], value))
        kwargs[key] = _coerce(key, hints[key], value)
    return cls(**kwargs)


def make_config(cls: type[ConfigT], /, **values: Any) -> ConfigT:
    """`cls` from keyword values written as in a config file: a nested config's fields flat
    (`hidden_size=8`, where the name is its alias), dotted (`**{"model.cell": "gru"}`), or
    as an object (`model={"cell": "gru"}`, or a config), over the outer class's defaults.

    >>> from rnnkit.tasks.charlm.config import CharLMConfig
    >>> make_config(CharLMConfig, seq_len=20, hidden_size=64).model.hidden_size
    64
    """
    return config_from_dict(cls, values)


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

# Titles of the argument groups of `rnnkit train TASK --help`, in the order they are printed. A
# config class names the group of each field in a `FLAG_GROUPS: ClassVar` mapping (title ->
# field names); the flags of a class without one are listed with the other options.
GROUP_ORDER = ("data", "model", "training", "checkpoints", "output")


def _comment_of(lines: list[str], end_col: int | None) -> str:
    """The comment after a statement spanning `lines`; within them if a formatter wrapped it."""
    end = lines[-1][end_col:].strip()
    if end.startswith("#"):
        return end[1:].strip()
    if len(lines) == 1:
        return ""
    readline = io.StringIO(textwrap.dedent("\n".join(lines)) + "\n").readline
    comments = [t.string for t in tokenize.generate_tokens(readline) if t.type == tokenize.COMMENT]
    comments = [c[1:].strip() for c in comments if not c[1:].strip().startswith(("fmt:", "noqa"))]
    return comments[-1] if comments else ""


@functools.cache
def _module_comments(path: str) -> dict[str, dict[str, str]]:
    """For each class of a source file: field name -> the comment beside (or above) the field."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    found: dict[str, dict[str, str]] = {}
    for node in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(node, ast.ClassDef):
            continue
        comments = found.setdefault(node.name, {})
        for item in node.body:
            if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                continue
            text = _comment_of(lines[item.lineno - 1 : item.end_lineno], item.end_col_offset)
            start = item.lineno - 1  # else the comment lines right above the field
            while not text and start > 0 and lines[start - 1].strip().startswith("#"):
                start -= 1
            if not text:
                text = " ".join(line.strip()[1:].strip() for line in lines[start : item.lineno - 1])
            comments[item.target.id] = text
    return found


@functools.cache
def field_help(cls: type) -> dict[str, str]:
    """The description of each field of a config class: the source comment beside it.

    `hidden_size: int = 256  # H, hidden units per layer` gives "H, hidden units per layer". A
    subclass that redefines a field without a comment keeps its base class's description.
    """
    descriptions: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            path = inspect.getsourcefile(klass)
        except TypeError:  # a built-in or dynamically made class
            continue
        if path is None or not Path(path).is_file():
            continue
        comments = _module_comments(path).get(klass.__name__, {})
        descriptions.update({name: text for name, text in comments.items() if text})
    return descriptions


def show_default(value: Any) -> str:
    """A default as it is typed on the command line.

    >>> [show_default(v) for v in ((0.9, 0.999), None, True, "lstm", 1e-3)]
    ['0.9 0.999', 'none', 'on', 'lstm', '0.001']
    """
    if isinstance(value, tuple | list):
        return " ".join(show_default(item) for item in value)
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _flag_parser(name: str, tp: Any):
    inner, optional = _unwrap_optional(tp)

    def parse(text: str) -> Any:
        if optional and text.lower() in ("none", "null"):
            return NONE_GIVEN
        origin = get_origin(inner)
        if origin in (tuple, list):  # one value of a list flag, or several joined by commas
            (item_type, *_) = get_args(inner) or (str,)
            return [item_type(part) for part in text.split(",") if part]
        if inner is int:
            return int(text)
        if inner is float:
            return float(text)
        return text

    parse.__name__ = name  # argparse names the type in its error message
    return parse


class _ListFlag(argparse.Action):
    """`--betas 0.9 0.999` (as the default is printed) or `--betas 0.9,0.999`: one list."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if any(value is NONE_GIVEN for value in values):
            if len(values) > 1:
                raise argparse.ArgumentError(self, "none stands alone: it turns the option off")
            setattr(namespace, self.dest, NONE_GIVEN)
            return
        setattr(namespace, self.dest, [item for value in values for item in value])


def _group(parser: argparse.ArgumentParser, title: str) -> Any:
    """The argument group called `title`, made on first use; GROUP_ORDER's come first, in order."""
    groups = {group.title: group for group in parser._action_groups}
    if title in GROUP_ORDER and title not in groups:
        for name in GROUP_ORDER:
            groups.setdefault(name, parser.add_argument_group(name))
    return groups.get(title) or parser.add_argument_group(title)


def flag_groups(cls: type) -> dict[str, str]:
    """Field name -> help group title, from the class's FLAG_GROUPS (title -> field names)."""
    mapping = getattr(cls, "FLAG_GROUPS", None) or {}
    return {name: title for title, names in mapping.items() for name in names}


def add_config_flags(
    parser: argparse.ArgumentParser,
    cls: type,
    defaults: dict[str, Any] | None = None,
    *,
    config_file: bool = True,
    config_help: str = "a JSON or TOML file of these settings; flags given override it",
    reserved: Collection[str] = (),
) -> None:
    """Add `--config FILE` and one `--field-name` flag per field of `cls`.

    Each flag's help is the field's source comment (`field_help`) and its default; `defaults`
    overrides the dataclass defaults shown (a task's own defaults). The flags go into the help
    groups of `cls.FLAG_GROUPS`. Tuple fields take several values (`--betas 0.9 0.999`).
    `config_file=False` leaves out `--config` (a second config class on the same parser).
    A nested config's fields get `--model.hidden-size` and, where no other field of `cls` nor a
    name in `reserved` (the other configs on the parser) collides, the alias `--hidden-size`;
    they go into the help group of the nested field (its own title, e.g. "model"). Fields the
    data decides (`data_field`) get no flag.
    """
    if config_file:
        parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                            help=f"{config_help} (default: none)")  # fmt: skip
    hints = _field_types(cls)
    descriptions, groups = field_help(cls), flag_groups(cls)
    aliases = {nested: flat for flat, nested in flat_aliases(cls, reserved).items()}
    for field in dataclasses.fields(cls):
        if not field.init or is_data_field(field):
            continue
        target = _group(parser, groups[field.name]) if field.name in groups else parser
        inner, optional = _unwrap_optional(hints[field.name])
        if dataclasses.is_dataclass(inner):
            if optional:
                continue  # an optional nested config is set in a config file only
            default = _default_of(field)
            target = _group(parser, groups.get(field.name, field.name))
            for sub in dataclasses.fields(inner):
                if not sub.init or is_data_field(sub):
                    continue
                value = (
                    getattr(default, sub.name, None) if dataclasses.is_dataclass(default) else None
                )
                flags = ["--" + f"{field.name}.{sub.name}".replace("_", "-")]
                if (field.name, sub.name) in aliases:
                    flags.append("--" + sub.name.replace("_", "-"))
                _add_flag(target, flags, f"{field.name}.{sub.name}", _field_types(inner)[sub.name],
                          field_help(inner).get(sub.name, ""), value)  # fmt: skip
            continue
        default = field.default if field.default is not dataclasses.MISSING else None
        default = (defaults or {}).get(field.name, default)
        flag = "--" + field.name.replace("_", "-")
        _add_flag(target, [flag], field.name, hints[field.name], descriptions.get(field.name, ""),
                  default)  # fmt: skip


def _add_flag(
    target: Any, flags: list[str], dest: str, tp: Any, description: str, default: Any
) -> None:
    """One flag (with its aliases) for a field of type `tp`, stored under `dest`."""
    inner, _ = _unwrap_optional(tp)
    description = description.replace("%", "%%")
    help_text = f"{description} (default: {show_default(default).replace('%', '%%')})"
    leaf = dest.rpartition(".")[2]
    common = {"dest": dest, "default": None, "help": help_text.strip()}
    if inner is bool:
        target.add_argument(*flags, action=argparse.BooleanOptionalAction, **common)
    elif get_origin(inner) is Literal:
        target.add_argument(*flags, choices=get_args(inner), **common)
    elif get_origin(inner) in (tuple, list):
        target.add_argument(*flags, nargs="+", type=_flag_parser(leaf, tp), action=_ListFlag,
                            metavar=leaf.upper(), **common)  # fmt: skip
    else:
        target.add_argument(*flags, type=_flag_parser(leaf, tp), metavar=leaf.upper(), **common)


def given_flags(cls: type, args: argparse.Namespace) -> dict[str, Any]:
    """The fields of `cls` whose flags were given (`--clip-norm none` gives None); those of a
    nested config as an object ({"model": {"hidden_size": 512}})."""
    given: dict[str, Any] = {}
    nested = nested_fields(cls)
    for field in dataclasses.fields(cls):
        if field.name in nested:
            inner = {}
            for sub in dataclasses.fields(nested[field.name]):
                value = getattr(args, f"{field.name}.{sub.name}", None)
                if value is not None:
                    inner[sub.name] = None if value is NONE_GIVEN else value
            if inner:
                given[field.name] = inner
            continue
        value = getattr(args, field.name, None)
        if value is not None:
            given[field.name] = None if value is NONE_GIVEN else value
    return given


def config_from_args(cls: type[ConfigT], args: argparse.Namespace) -> ConfigT:
    """The config file named by `--config` (if any), overridden by the flags that were given."""
    data: dict[str, Any] = {}
    if getattr(args, "config", None) is not None:
        data = config_to_dict(load_config(cls, args.config))
    return config_from_dict(cls, merge_dicts(data, given_flags(cls, args)))

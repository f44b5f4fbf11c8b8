"""Config dataclasses: JSON round-trip, unknown keys, CLI flags."""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import pytest

from rnnkit.config import (
    add_config_flags,
    check_data_fields,
    config_from_args,
    config_from_dict,
    config_to_dict,
    data_field,
    field_help,
    flat_aliases,
    given_flags,
    load_config,
    make_config,
    nest_keys,
    save_config,
)
from rnnkit.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class Inner:
    rate: float = 0.1


@dataclass(frozen=True, kw_only=True)
class Example:
    cell: Literal["rnn", "lstm"] = "lstm"
    hidden_size: int = 8  # H
    dropout: float = 0.0
    tied: bool = False
    data: str | None = None
    sizes: tuple[int, ...] = (1, 2)
    inner: Inner = field(default_factory=Inner)

    def __post_init__(self) -> None:
        if self.hidden_size < 1:
            raise ConfigError(f"hidden_size must be a positive integer, got {self.hidden_size}")


def test_json_round_trip(tmp_path) -> None:
    config = Example(cell="rnn", hidden_size=3, sizes=(4,), inner=Inner(rate=0.5))
    save_config(config, tmp_path / "c.json")
    assert load_config(Example, tmp_path / "c.json") == config


def test_toml_file(tmp_path) -> None:
    (tmp_path / "c.toml").write_text('cell = "rnn"\nhidden_size = 5\n')
    assert load_config(Example, tmp_path / "c.toml") == Example(cell="rnn", hidden_size=5)


def test_unknown_key_lists_valid_keys() -> None:
    with pytest.raises(ConfigError, match=r"hidden_sise.*valid keys.*hidden_size"):
        config_from_dict(Example, {"hidden_sise": 3})


@pytest.mark.parametrize(
    ("key", "value"),
    [("hidden_size", "3"), ("hidden_size", True), ("cell", "gru"), ("tied", 1), ("data", 3)],
)
def test_wrong_types_are_refused(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=key):
        config_from_dict(Example, {key: value})


def test_post_init_check() -> None:
    with pytest.raises(ConfigError, match="positive integer, got 0"):
        Example(hidden_size=0)


def test_bad_file(tmp_path) -> None:
    (tmp_path / "c.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(Example, tmp_path / "c.json")
    with pytest.raises(ConfigError, match="not found"):
        load_config(Example, tmp_path / "missing.json")


def test_flags_override_config_file(tmp_path) -> None:
    save_config(Example(hidden_size=3, cell="rnn"), tmp_path / "c.json")
    parser = argparse.ArgumentParser()
    add_config_flags(parser, Example)
    args = parser.parse_args(
        ["--config", str(tmp_path / "c.json"), "--hidden-size", "7", "--tied", "--sizes", "5,6"]
    )
    config = config_from_args(Example, args)
    assert config == Example(hidden_size=7, cell="rnn", tied=True, sizes=(5, 6))
    assert config_to_dict(config)["sizes"] == [5, 6]


def test_flag_defaults_come_from_the_dataclass() -> None:
    parser = argparse.ArgumentParser()
    add_config_flags(parser, Example)
    assert config_from_args(Example, parser.parse_args([])) == Example()
    with pytest.raises(SystemExit):
        parser.parse_args(["--cell", "gru"])


@dataclass(frozen=True, kw_only=True)
class Clipped:
    clip_norm: float | None = 5.0
    max_epochs: int | None = 3


@pytest.mark.parametrize("spelling", ["none", "None", "null"])
def test_none_on_the_command_line_overrides_a_default_and_a_file(tmp_path, spelling) -> None:
    parser = argparse.ArgumentParser()
    add_config_flags(parser, Clipped)
    assert config_from_args(Clipped, parser.parse_args(["--clip-norm", spelling])) == Clipped(
        clip_norm=None
    )
    save_config(Clipped(clip_norm=1.0, max_epochs=2), tmp_path / "c.json")
    args = parser.parse_args(["--config", str(tmp_path / "c.json"), "--max-epochs", spelling])
    assert config_from_args(Clipped, args) == Clipped(clip_norm=1.0, max_epochs=None)


@dataclass(frozen=True, kw_only=True)
class Described:
    """Fields described by their source comments, as `rnnkit train … --help` shows them."""

    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {
        "model": ("hidden_size", "cell"),
        "data": ("betas", "plain"),
    }
    hidden_size: int = 8  # H, hidden units per layer
    # the recurrent cell,
    # Elman or LSTM
    cell: Literal["rnn", "lstm"] = "lstm"
    betas: tuple[float, float] = (
        0.9,
        0.999,
    )  # β₁, β₂ of Adam
    plain: int = 3


@dataclass(frozen=True, kw_only=True)
class MoreDescribed(Described):
    hidden_size: int = 16  # no comment beside a redefined field keeps the base's: see below
    plain: int = 4


def test_field_help_reads_the_comments_beside_and_above_the_fields() -> None:
    assert field_help(Described) == {
        "hidden_size": "H, hidden units per layer",
        "cell": "the recurrent cell, Elman or LSTM",
        "betas": "β₁, β₂ of Adam",
    }
    assert field_help(MoreDescribed)["cell"] == "the recurrent cell, Elman or LSTM"
    assert field_help(MoreDescribed)["hidden_size"].startswith("no comment beside")


def test_flags_carry_description_default_and_group() -> None:
    parser = argparse.ArgumentParser()
    add_config_flags(parser, Described, {"plain": 5})
    help_text = " ".join(parser.format_help().split())
    assert "--hidden-size HIDDEN_SIZE H, hidden units per layer (default: 8)" in help_text
    assert "β₁, β₂ of Adam (default: 0.9 0.999)" in help_text
    assert "--plain PLAIN (default: 5)" in help_text
    groups = {
        group.title: [a.dest for a in group._group_actions] for group in parser._action_groups
    }
    assert groups["model"] == ["hidden_size", "cell"]
    assert groups["data"] == ["betas", "plain"]
    titles = [group.title for group in parser._action_groups]
    assert titles.index("data") < titles.index("model")  # config.GROUP_ORDER, not field order


@pytest.mark.parametrize(
    "argv", [["--betas", "0.5", "0.75"], ["--betas", "0.5,0.75"], ["--betas", "0.5,", "0.75"]]
)
def test_tuple_flags_take_values_as_printed_or_comma_separated(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    add_config_flags(parser, Described)
    assert config_from_args(Described, parser.parse_args(argv)).betas == (0.5, 0.75)


def test_a_tuple_flag_of_optional_type_takes_none_alone() -> None:
    @dataclass(frozen=True, kw_only=True)
    class Optional:
        sizes: tuple[int, ...] | None = (1,)  # sizes, or none

    parser = argparse.ArgumentParser()
    add_config_flags(parser, Optional)
    assert config_from_args(Optional, parser.parse_args(["--sizes", "none"])).sizes is None
    assert config_from_args(Optional, parser.parse_args(["--sizes", "2", "3"])).sizes == (2, 3)
    with pytest.raises(SystemExit):
        parser.parse_args(["--sizes", "none", "3"])


# -- nested configs: dotted flags, flat aliases, dotted and flat keys in files ------------------
@dataclass(frozen=True, kw_only=True)
class Net:
    vocab_size: int = data_field(0)  # V, from the data
    hidden_size: int = 16  # H, hidden units
    dropout: float = 0.0  # p
    seed: int = 0  # collides with the trainer's seed: no alias

    def __post_init__(self) -> None:
        if self.hidden_size < 1:
            raise ConfigError(f"hidden_size must be a positive integer, got {self.hidden_size}")


@dataclass(frozen=True, kw_only=True)
class Head:
    dropout: float = 0.5  # shared with Net: neither gets the alias
    classes: int = 2  # C


@dataclass(frozen=True, kw_only=True)
class Task:
    FLAG_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {"model": ("model", "head")}

    batch_size: int = 4  # B
    model: Net = field(default_factory=lambda: Net(hidden_size=32))  # the task's own default
    head: Head = field(default_factory=Head)


def _task_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_config_flags(parser, Task, reserved={"seed"})
    return parser


def test_nested_fields_get_dotted_flags_and_unique_flat_aliases() -> None:
    options = {o for action in _task_parser()._actions for o in action.option_strings}
    assert {"--model.hidden-size", "--hidden-size", "--model.dropout", "--head.dropout"} <= options
    assert {"--model.seed", "--head.classes", "--classes", "--batch-size"} <= options
    assert "--dropout" not in options  # Net and Head both have dropout: dotted only
    assert "--seed" not in options  # reserved (the trainer's)
    assert not any("vocab" in option for option in options)  # decided by the data: no flag
    assert flat_aliases(Task, {"seed"}) == {  # vocab_size: a file's key, never a flag
        "vocab_size": ("model", "vocab_size"), "hidden_size": ("model", "hidden_size"),
        "classes": ("head", "classes")}  # fmt: skip


def test_aliases_of_every_parser_are_unique() -> None:
    seen: dict[str, str] = {}
    for action in _task_parser()._actions:
        for option in action.option_strings:
            assert option not in seen, f"{option} names {seen[option]} and {action.dest}"
            seen[option] = action.dest


def test_nested_flags_build_the_nested_config_over_the_tasks_defaults() -> None:
    args = _task_parser().parse_args(["--hidden-size", "8", "--head.dropout", "0.1"])
    assert given_flags(Task, args) == {"model": {"hidden_size": 8}, "head": {"dropout": 0.1}}
    config = config_from_args(Task, args)
    assert config.model == Net(hidden_size=8)
    assert config.head == Head(dropout=0.1)
    assert config_from_args(Task, _task_parser().parse_args([])).model.hidden_size == 32


def test_a_bad_nested_value_is_refused_when_the_flags_are_read() -> None:
    with pytest.raises(ConfigError, match="hidden_size must be a positive integer, got 0"):
        config_from_args(Task, _task_parser().parse_args(["--model.hidden-size", "0"]))


def test_nested_flags_are_listed_under_the_nested_fields_group() -> None:
    text = _task_parser().format_help()
    model = text[text.index("model:") :]
    assert "--model.hidden-size HIDDEN_SIZE, --hidden-size HIDDEN_SIZE" in model
    assert "H, hidden units (default: 32)" in model  # the task's default, not Net's 16


@pytest.mark.parametrize(
    "data",
    [
        {"model": {"hidden_size": 8}, "head": {"classes": 3}},
        {"model.hidden_size": 8, "head.classes": 3},
        {"hidden_size": 8, "classes": 3},
        {"model": {"dropout": 0.0}, "hidden_size": 8, "head.classes": 3},
    ],
)
def test_config_files_take_objects_dotted_keys_and_flat_aliases(tmp_path, data) -> None:
    path = tmp_path / "task.json"
    path.write_text(json.dumps({**data, "batch_size": 2}))
    config = load_config(Task, path)
    assert config == Task(batch_size=2, model=Net(hidden_size=8), head=Head(classes=3))
    assert config_to_dict(config)["model"] == {"vocab_size": 0, "hidden_size": 8,
                                               "dropout": 0.0, "seed": 0}  # fmt: skip


def test_a_flat_key_edits_the_object_and_an_ambiguous_one_is_refused() -> None:
    edited = config_from_dict(Task, {"model": {"hidden_size": 8, "dropout": 0.5}, "hidden_size": 9})
    assert (edited.model.hidden_size, edited.model.dropout) == (9, 0.5)
    with pytest.raises(ConfigError, match=r"unknown config key\(s\) \['dropout'\]"):
        config_from_dict(Task, {"dropout": 0.1})  # Net's or Head's: say which, dotted
    assert nest_keys(Task, {"model.dropout": 0.1}) == {"model": {"dropout": 0.1}}


def test_data_fields_are_filled_in_by_the_builder() -> None:
    config = make_config(Task, hidden_size=8)
    with pytest.raises(ConfigError, match=r"Net\.vocab_size is decided by the data"):
        check_data_fields(config.model)
    check_data_fields(dataclasses.replace(config.model, vocab_size=7))
    assert make_config(Task, model=Net(hidden_size=3)).model.hidden_size == 3  # an object as is

"""Config dataclasses: JSON round-trip, unknown keys, CLI flags."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Literal

import pytest

from rnnkit.config import (
    add_config_flags,
    config_from_args,
    config_from_dict,
    config_to_dict,
    load_config,
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

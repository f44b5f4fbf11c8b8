"""The LSTM variant study runner (Greff et al. 2017): a tiny study end to end, its parts, errors."""

from __future__ import annotations

import json
import math

import pytest
import torch

from rnnkit.analysis.experiments.variants import (
    LSTM_VARIANTS,
    VARIANTS,
    RunResult,
    VariantStudyConfig,
    char_language_model,
    load_characters,
    make_cell,
    run_variant_study,
    summarise,
)
from rnnkit.cells import GRUCell, LSTMCell
from rnnkit.errors import ConfigError

TINY = {
    "seeds": 2,
    "charlm_steps": 3,
    "charlm_chars": 2_000,
    "charlm_embed": 4,
    "charlm_hidden": 6,
    "charlm_length": 8,
    "charlm_batch": 4,
    "charlm_eval_windows": 4,
    "length": 20,
    "task_steps": 3,
    "task_hidden": 5,
    "task_batch": 4,
    "eval_size": 20,
}


def test_every_variant_is_its_cell() -> None:
    assert (*LSTM_VARIANTS, "GRU") == VARIANTS
    assert isinstance(make_cell("GRU", 3, 4), GRUCell)
    v = make_cell("V", 3, 4)
    assert isinstance(v, LSTMCell)
    assert v.peephole
    assert not make_cell("NP", 3, 4).peephole
    assert not make_cell("NFG", 3, 4).forget_gate
    assert make_cell("NOAF", 3, 4).output_activation == "identity"
    assert make_cell("FGR", 3, 4).weight_gg is not None
    assert make_cell("ReLU", 3, 4).recurrent_activation == "relu"
    # all differ from each other: no two variants build the same cell
    reprs = {repr(make_cell(name, 3, 4)) for name in VARIANTS}
    assert len(reprs) == len(VARIANTS)


def test_char_model_steps_the_variant_cell() -> None:
    config = VariantStudyConfig(**TINY)
    model = char_language_model("NIG", config, vocab_size=11)
    assert model.recurrent.cell.input_gate is False
    logits, _ = model(torch.randint(0, 11, (2, 5)))
    assert logits.shape == (2, 5, 11)


def test_characters_come_from_tiny_shakespeare() -> None:
    data = load_characters(1_000)
    assert (len(data.train), len(data.valid)) == (900, 100)
    text = "".join(data.alphabet[i] for i in data.train[:9])
    assert text == "First Cit"  # the opening of Tiny Shakespeare


def test_tiny_study_writes_json_table_and_plot(tmp_path, one_thread) -> None:
    config = VariantStudyConfig(variants=("V", "NFG", "FGR", "GRU"), **TINY)
    result = run_variant_study(config, tmp_path)
    assert len(result.results) == 2 * 4 * 2  # tasks × variants × seeds
    data = json.loads((tmp_path / "variants.json").read_text())
    assert len(data["runs"]) == 16
    assert {row["variant"] for row in data["summary"]} == {"V", "NFG", "FGR", "GRU"}
    for run in result.results:
        assert run.steps == 3 or run.diverged
        if run.task == "charlm" and not run.diverged:
            assert 0.0 < run.metric < 10.0  # bits per character, alphabet of 65
        if run.task == "long_range" and not run.diverged:
            assert 0.0 <= run.metric <= 1.0  # accuracy
    table = (tmp_path / "variants.md").read_text()
    for variant in ("V", "NFG", "FGR", "GRU"):
        assert f"| {variant} |" in table
    assert "± " in table
    png = (tmp_path / "variants.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "config.json").exists()
    # seeds differ, so their values differ; the same seed reproduces the same number
    charlm_v = [r.metric for r in result.results if (r.task, r.variant) == ("charlm", "V")]
    assert charlm_v[0] != charlm_v[1]
    from rnnkit.analysis.experiments.variants import run_charlm

    again = run_charlm(config, "V", 0)
    assert again.metric == pytest.approx(charlm_v[0], abs=1e-9)


def result(variant: str, metric: float, seed: int = 0, diverged: bool = False) -> RunResult:
    return RunResult(
        task="charlm", variant=variant, seed=seed, metric=metric, metric_name="bpc",
        parameters=10, steps=5, diverged=diverged, seconds=0.0,
    )  # fmt: skip


def test_summary_statistics_by_hand() -> None:
    runs = [result("V", 2.0), result("V", 4.0, 1), result("NFG", 5.0), result("NFG", 7.0, 1),
            result("NFG", math.nan, 2, diverged=True)]  # fmt: skip
    v, nfg = summarise(runs, ("V", "NFG"))
    assert (v.mean, v.std, v.diverged) == (3.0, math.sqrt(2.0), 0)
    assert math.isnan(v.difference)
    assert (nfg.mean, nfg.std, nfg.diverged) == (6.0, math.sqrt(2.0), 1)
    assert nfg.difference == 3.0
    # Welch: 3 / √(2/2 + 2/2) = 3 / √2
    assert nfg.welch_t == pytest.approx(3.0 / math.sqrt(2.0))


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"variants": ("V", "LSTM2")}, "variants must be among"),
        ({"variants": ()}, "at least one"),
        ({"tasks": ("music",)}, "tasks must be among"),
        ({"problem": "copy"}, "problem must be one of"),
        ({"seeds": 0}, "seeds must be positive"),
        ({"length": 10}, "at least 20"),
        ({"charlm_chars": 100}, "charlm_chars"),
    ],
)
def test_config_errors(options: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        VariantStudyConfig(**options)


def test_make_cell_rejects_unknown_variant() -> None:
    with pytest.raises(ConfigError, match="variant must be one of"):
        make_cell("LSTM2", 3, 4)


def test_quick_is_smaller() -> None:
    quick = VariantStudyConfig(quick=True).sized()
    full = VariantStudyConfig()
    assert quick.charlm_steps < full.charlm_steps
    assert quick.task_steps < full.task_steps
    assert quick.seeds >= 2
    assert not quick.quick

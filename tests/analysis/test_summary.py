"""rnnkit.summary: counts against the formulas and sum(p.numel()), output shapes, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

import rnnkit
from rnnkit.analysis.formulas import Formula, module_formula
from rnnkit.analysis.summary import summary
from rnnkit.cells import ElmanCell, GRUCell, LSTMCell, MLSTMCell, MRNNCell
from rnnkit.cli import main
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import Recurrent
from rnnkit.models.many_to_many import LanguageModel, LanguageModelConfig

F, H, P, M = 3, 5, 2, 7

# (module, the count written out by hand from the formula of the module docstring)
CELLS = [
    (ElmanCell(F, H), H * (F + H) + 2 * H),
    (ElmanCell(F, H, bias=False), H * (F + H)),
    (GRUCell(F, H), 3 * H * (F + H) + 6 * H),
    (GRUCell(F, H, bias=False, reset_after=False), 3 * H * (F + H)),
    (LSTMCell(F, H), 4 * H * (F + H) + 8 * H),
    (LSTMCell(F, H, bias=False), 4 * H * (F + H)),
    (LSTMCell(F, H, proj_size=P), 4 * H * (F + P) + 8 * H + P * H),
    (LSTMCell(F, H, peephole=True), 4 * H * (F + H) + 8 * H + 3 * H),
    (LSTMCell(F, H, coupled_gates=True), 3 * H * (F + H) + 6 * H),
    (LSTMCell(F, H, coupled_gates=True, peephole=True), 3 * H * (F + H) + 6 * H + 2 * H),
    (LSTMCell(F, H, proj_size=P, peephole=True, bias=False), 4 * H * (F + P) + P * H + 3 * H),
    (MRNNCell(F, H), H * (F + H) + 2 * H + H * (F + H)),
    (MRNNCell(F, H, multiplicative_size=M, bias=False), H * (F + M) + M * (F + H)),
    (MLSTMCell(F, H), 4 * H * (F + H) + 8 * H + H * (F + H)),
    (MLSTMCell(F, H, multiplicative_size=M), 4 * H * (F + M) + 8 * H + M * (F + H)),
    (nn.RNNCell(F, H), H * (F + H) + 2 * H),
    (nn.LSTMCell(F, H, bias=False), 4 * H * (F + H)),
    (nn.GRUCell(F, H), 3 * H * (F + H) + 6 * H),
]


def _layer_count(k: int, layers: int, directions: int, *, bias: bool = True, proj: int = 0) -> int:
    """Σ_l D·[kH(F_l + R) + 2kH + PH], F_0 = F, F_l = D·(P or H): the stacked formula."""
    R, D = proj or H, directions
    total = 0
    for layer in range(layers):
        F_l = F if layer == 0 else D * R
        total += D * (k * H * (F_l + R) + (2 * k * H if bias else 0) + proj * H)
    return total


LAYERS = [
    (rnnkit.RNN(F, H), _layer_count(1, 1, 1)),
    (rnnkit.RNN(F, H, num_layers=3, bidirectional=True, bias=False), _layer_count(1, 3, 2,
                                                                                  bias=False)),
    (rnnkit.GRU(F, H, num_layers=2), _layer_count(3, 2, 1)),
    (rnnkit.LSTM(F, H, num_layers=2, bidirectional=True), _layer_count(4, 2, 2)),
    (rnnkit.LSTM(F, H, num_layers=2, proj_size=P), _layer_count(4, 2, 1, proj=P)),
    (nn.RNN(F, H, num_layers=2, nonlinearity="relu"), _layer_count(1, 2, 1)),
    (nn.GRU(F, H, bidirectional=True, bias=False), _layer_count(3, 1, 2, bias=False)),
    (nn.LSTM(F, H, num_layers=3), _layer_count(4, 3, 1)),
    (nn.LSTM(F, H, num_layers=2, bidirectional=True, proj_size=P), _layer_count(4, 2, 2,
                                                                                proj=P)),
    (Recurrent(MLSTMCell(F, H)), 4 * H * (F + H) + 8 * H + H * (F + H)),
    (Recurrent(LSTMCell(F, H, peephole=True), reverse=True), 4 * H * (F + H) + 11 * H),
]  # fmt: skip


def _evaluate(filled: str) -> int:
    """The filled-in formula as a number: "4·5·(3 + 5) + 2·[…]" with · and [] as * and ()."""
    expression = filled.replace("·", "*").replace("[", "(").replace("]", ")")
    assert set(expression) <= set("0123456789+*() "), expression
    return eval(expression)  # only digits and arithmetic, checked above


@pytest.mark.parametrize(("module", "expected"), CELLS + LAYERS,
                         ids=[repr(m) for m, _ in CELLS + LAYERS])  # fmt: skip
def test_counts_equal_the_formula_and_the_parameters(module: nn.Module, expected: int) -> None:
    numel = sum(p.numel() for p in module.parameters())
    assert numel == expected
    formula = module_formula(module)
    assert isinstance(formula, Formula)
    assert formula.value == expected
    assert _evaluate(formula.filled) == expected
    assert "_" not in formula.symbolic  # no "+ n (parameter names)" term: every one is named
    result = summary(module)
    assert result.total == result.trainable == expected
    assert result.row("").formula == formula


def test_lstm_formula_text() -> None:
    assert str(module_formula(LSTMCell(3, 5))) == "4H(F + H) + 8H = 4·5·(3 + 5) + 8·5 = 200"
    assert module_formula(LSTMCell(3, 5, proj_size=2)).symbolic == "4H(F + P) + 8H + PH"
    assert module_formula(MLSTMCell(3, 5)).symbolic == "4H(F + M) + 8H + M(F + H)"
    two_layers = module_formula(nn.GRU(3, 5, num_layers=2, bidirectional=True))
    assert two_layers.filled == "2·[3·5·(3 + 5) + 6·5] + 2·[3·5·(10 + 5) + 6·5]"


def test_unknown_parameters_are_named_in_the_formula() -> None:
    cell = ElmanCell(3, 4)
    cell.extra_gain = nn.Parameter(torch.ones(4))  # a parameter no formula names
    formula = module_formula(cell)
    assert formula.value == sum(p.numel() for p in cell.parameters()) == 4 * 7 + 8 + 4
    assert formula.symbolic.endswith("+ 4 (extra_gain)")


def test_language_model_rows_shapes_and_totals() -> None:
    config = LanguageModelConfig(vocab_size=11, embed_dim=6, hidden_size=8, num_layers=2)
    model = LanguageModel(config)
    model.embedding.weight.requires_grad_(False)
    result = summary(model, input_shape=(2, 7))
    assert result.total == sum(p.numel() for p in model.parameters())
    assert result.non_trainable == 11 * 6
    assert result.trainable == result.total - 66
    assert result.memory_bytes == 4 * result.total
    assert result.row("embedding").output_shape == "(2, 7, 6)"
    assert result.row("recurrent").output_shape == "(2, 7, 8), LSTMState((2, 2, 8), (2, 2, 8))"
    assert result.row("output").output_shape == "(2, 7, 11)"
    assert str(result.row("output").formula) == "O(I + 1) = 11·(8 + 1) = 99"
    assert result.row("embedding").formula.filled == "11·6"
    assert result.row("recurrent").parameters == 4 * 8 * (6 + 8) + 64 + 4 * 8 * (8 + 8) + 64
    assert result.row("recurrent.stack").formula is None  # said once, on the layer
    assert result.row("recurrent.stack.layers.0.cell").formula.value == 4 * 8 * 14 + 64
    assert model.training  # the mode is restored
    text = str(result)
    assert f"Total params: {result.total:,}" in text
    assert "Params size (float32)" in text


def test_tied_weights_count_once_and_max_depth() -> None:
    config = LanguageModelConfig(vocab_size=11, embed_dim=8, hidden_size=8, tie_weights=True)
    model = LanguageModel(config)
    result = summary(model, max_depth=1)
    assert result.total == sum(p.numel() for p in model.parameters())
    assert result.total < sum(row.parameters for row in result.rows if row.depth == 1)
    assert max(row.depth for row in result.rows) == 1


def test_bad_arguments() -> None:
    model = LanguageModel(LanguageModelConfig(vocab_size=5, embed_dim=2, hidden_size=3))
    with pytest.raises(ShapeError, match=r"\(B, T\) or features \(B, T, F\).*got \(4,\)"):
        summary(model, input_shape=(4,))
    with pytest.raises(ShapeError, match="did not run on zeros of shape"):
        summary(model, input_shape=(1, 4, 2))  # floats for a model of token ids
    with pytest.raises(ConfigError, match=r"needs a torch\.nn\.Module; got dict"):
        summary({"weight": torch.zeros(2)})  # type: ignore[arg-type]


def test_cli_summary_of_a_tiny_run(
    tiny_runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model = rnnkit.load(tiny_runs["charlm"]).model
    total = sum(p.numel() for p in model.parameters())
    assert main(["summary", str(tiny_runs["charlm"]), "--input-shape", "1,12"]) == 0
    out = capsys.readouterr().out
    assert f"Total params: {total:,}" in out
    assert "4H(F + H) + 8H" in out
    V = model.config.vocab_size
    assert f"(1, 12, {V})" in " ".join(out.split())
    assert main(["summary", str(tiny_runs["charlm-gru"])]) == 0
    assert "3H(F + H) + 6H" in capsys.readouterr().out


def test_cli_bad_shape_is_one_red_line(
    tiny_runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summary", str(tiny_runs["charlm"]), "--input-shape", "1,4,3"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("error:")
    assert "did not run on zeros" in out

"""Cell initialisers: torch's U(±1/√H) default, orthogonal gate blocks of W_hh, forget-gate bias."""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.cells.init import forget_bias, orthogonal_recurrent, reset_parameters
from rnnkit.errors import ConfigError


@pytest.mark.parametrize(
    "make_cell",
    [
        lambda: ElmanCell(6, 16),
        lambda: GRUCell(6, 16),
        lambda: LSTMCell(6, 16, proj_size=4, peephole=True),
    ],
    ids=["elman", "gru", "lstm"],
)
def test_default_init_is_uniform_one_over_sqrt_hidden(make_cell) -> None:
    bound = 1 / math.sqrt(16)
    values = torch.cat([p.detach().flatten() for p in reset_parameters(make_cell()).parameters()])
    assert values.abs().max() <= bound
    # U(−b, b) has mean 0 and std b/√3; with hundreds of draws both land close
    assert abs(values.mean().item()) < 0.1 * bound
    assert abs(values.std().item() - bound / math.sqrt(3)) < 0.1 * bound


@pytest.mark.parametrize(
    ("make_cell", "blocks"),
    [
        (lambda: ElmanCell(3, 5), 1),
        (lambda: GRUCell(3, 5), 3),
        (lambda: LSTMCell(3, 5), 4),
        (lambda: LSTMCell(3, 5, coupled_gates=True), 3),
        (lambda: LSTMCell(3, 5, proj_size=2), 4),
    ],
    ids=["elman", "gru", "lstm", "lstm-coupled", "lstm-proj"],
)
def test_orthogonal_recurrent_blocks(float64, make_cell, blocks: int) -> None:
    cell = make_cell()
    weight_ih = cell.weight_ih.detach().clone()
    orthogonal_recurrent(cell, gain=2.0)
    gate_blocks = cell.weight_hh.detach().chunk(blocks)
    assert len(gate_blocks) == len(cell.gate_names) == blocks
    for block in gate_blocks:  # (H, H) or (H, P): orthonormal columns times the gain
        identity = torch.eye(block.shape[1])
        torch.testing.assert_close(block.T @ block, 4.0 * identity, atol=1e-6, rtol=0)
    torch.testing.assert_close(cell.weight_ih, weight_ih, atol=0, rtol=0)


@pytest.mark.parametrize(("coupled", "rows"), [(False, slice(5, 10)), (True, slice(0, 5))])
def test_forget_bias_sets_the_forget_rows(coupled: bool, rows: slice) -> None:
    cell = LSTMCell(3, 5, coupled_gates=coupled)
    before = cell.bias_ih.detach().clone()
    forget_bias(cell, value=1.5)
    assert cell.gate_rows("forget") == rows
    torch.testing.assert_close(cell.bias_ih[rows], torch.full((5,), 1.5), atol=0, rtol=0)
    torch.testing.assert_close(cell.bias_hh[rows], torch.zeros(5), atol=0, rtol=0)
    others = torch.ones(cell.gate_size, dtype=torch.bool)
    others[rows] = False
    torch.testing.assert_close(cell.bias_ih[others], before[others], atol=0, rtol=0)
    # with zero weights the forget gate is exactly σ(b_f)
    with torch.no_grad():
        cell.weight_ih.zero_()
        cell.weight_hh.zero_()
    gates = cell.project_input(torch.randn(2, 3)) + cell.bias_hh  # pre-activations (B, G)
    torch.testing.assert_close(
        torch.sigmoid(gates[:, rows]), torch.full((2, 5), torch.sigmoid(torch.tensor(1.5)).item())
    )


def test_forget_bias_rejects_cells_without_forget_gate_or_bias() -> None:
    with pytest.raises(ConfigError, match=r"forget gate.*got GRUCell"):
        forget_bias(GRUCell(3, 4))
    with pytest.raises(ConfigError, match=r"needs biases; got LSTMCell built with bias=False"):
        forget_bias(LSTMCell(3, 4, bias=False))
    with pytest.raises(ConfigError, match=r"`gate`, expected one of \['reset', 'update', 'new'\]"):
        GRUCell(3, 4).gate_rows("forget")

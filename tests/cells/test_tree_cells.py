"""Tree cells: hand computation from the papers' equations, gradcheck, leaves, bad input."""

from __future__ import annotations

import math

import pytest
import torch
from torch.func import functional_call

from rnnkit.cells.base import LSTMState, RNNState
from rnnkit.cells.tree import BinaryTreeLSTMCell, ChildSumTreeLSTMCell, RecursiveCell
from rnnkit.errors import ConfigError, ShapeError


def sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


def matvec(matrix: list[list[float]], vector: list[float]) -> list[float]:
    return [sum(m * v for m, v in zip(row, vector, strict=True)) for row in matrix]


def rows(tensor: torch.Tensor) -> list[list[float]]:
    return tensor.detach().tolist()


def test_recursive_cell_golden_value(float64: torch.dtype) -> None:
    """p = tanh(W [c1; c2] + b) with H = 1: tanh(0.5·0.4 − 0.25·0.8 + 0.1) = tanh(0.1)."""
    cell = RecursiveCell(1)
    with torch.no_grad():
        cell.weight.copy_(torch.tensor([[0.5, -0.25]]))
        cell.bias.fill_(0.1)
    children = RNNState(torch.tensor([[[0.4], [0.8]]]))  # (N=1, K=2, H=1)
    parent = cell(None, children, torch.ones(1, 2, dtype=torch.bool)).hidden
    assert parent.item() == pytest.approx(0.09966799462495582, abs=1e-12)


def test_recursive_leaf_is_the_word_vector(float64: torch.dtype) -> None:
    x = torch.randn(3, 5)
    assert torch.equal(RecursiveCell(5).leaf(x).hidden, x)


def child_sum_by_hand(
    cell: ChildSumTreeLSTMCell, x: list[float], kids: list[tuple[list[float], list[float]]]
) -> tuple[list[float], list[float]]:
    """Eqs. (2)–(8) of Tai et al. 2015 in scalar Python, for one node."""
    H = cell.hidden_size
    W, U, b = rows(cell.weight_ih), rows(cell.weight_hh), cell.bias.tolist()
    Wx = [w + bias for w, bias in zip(matvec(W, x), b, strict=True)]  # rows i|f|u|o
    h_sum = [sum(h[k] for h, _ in kids) for k in range(H)]  # (2)
    U_sum = matvec(U, h_sum)
    i = [sigmoid(Wx[k] + U_sum[k]) for k in range(H)]  # (3)
    o = [sigmoid(Wx[3 * H + k] + U_sum[3 * H + k]) for k in range(H)]  # (5)
    u = [math.tanh(Wx[2 * H + k] + U_sum[2 * H + k]) for k in range(H)]  # (6)
    c = [i[k] * u[k] for k in range(H)]
    for h_child, c_child in kids:
        U_f_h = matvec(U[H : 2 * H], h_child)
        for k in range(H):
            c[k] += sigmoid(Wx[H + k] + U_f_h[k]) * c_child[k]  # (4), (7)
    return [o[k] * math.tanh(c[k]) for k in range(H)], c  # (8)


def binary_by_hand(
    cell: BinaryTreeLSTMCell, x: list[float] | None, kids: list[tuple[list[float], list[float]]]
) -> tuple[list[float], list[float]]:
    """Eqs. (9)–(14) of Tai et al. 2015 with N = 2 in scalar Python, for one node."""
    H = cell.hidden_size
    W, U, b = rows(cell.weight_ih), rows(cell.weight_hh), cell.bias.tolist()
    Wx = b if x is None else [w + bias for w, bias in zip(matvec(W, x), b, strict=True)]
    (h1, c1), (h2, c2) = kids
    Uh = matvec(U, h1 + h2)  # rows i|f1|f2|u|o of [U_1 U_2] [h_j1; h_j2]
    i = [sigmoid(Wx[k] + Uh[k]) for k in range(H)]  # (9)
    f1 = [sigmoid(Wx[H + k] + Uh[H + k]) for k in range(H)]  # (10), k = 1
    f2 = [sigmoid(Wx[H + k] + Uh[2 * H + k]) for k in range(H)]  # (10), k = 2
    u = [math.tanh(Wx[2 * H + k] + Uh[3 * H + k]) for k in range(H)]  # (12)
    o = [sigmoid(Wx[3 * H + k] + Uh[4 * H + k]) for k in range(H)]  # (11)
    c = [i[k] * u[k] + f1[k] * c1[k] + f2[k] * c2[k] for k in range(H)]  # (13)
    return [o[k] * math.tanh(c[k]) for k in range(H)], c  # (14)


def test_child_sum_matches_hand_computation_with_padding(float64: torch.dtype) -> None:
    cell = ChildSumTreeLSTMCell(3, 2)
    x = torch.randn(2, 3)
    hidden, memory = torch.randn(2, 3, 2), torch.randn(2, 3, 2)  # (N, K, H)
    mask = torch.tensor([[True, True, True], [True, False, False]])  # node 2 has one child
    state = cell(x, LSTMState(hidden, memory), mask)
    for n in range(2):
        kids = [
            (hidden[n, k].tolist(), memory[n, k].tolist()) for k in range(3) if bool(mask[n, k])
        ]
        h, c = child_sum_by_hand(cell, x[n].tolist(), kids)
        torch.testing.assert_close(state.hidden[n], torch.tensor(h), rtol=0, atol=1e-12)
        torch.testing.assert_close(state.cell[n], torch.tensor(c), rtol=0, atol=1e-12)


def test_binary_matches_hand_computation(float64: torch.dtype) -> None:
    cell = BinaryTreeLSTMCell(3, 2)
    x = torch.randn(2, 3)
    hidden, memory = torch.randn(2, 2, 2), torch.randn(2, 2, 2)
    mask = torch.ones(2, 2, dtype=torch.bool)
    for inputs in (x, None):
        state = cell(inputs, LSTMState(hidden, memory), mask)
        for n in range(2):
            kids = [(hidden[n, k].tolist(), memory[n, k].tolist()) for k in range(2)]
            h, c = binary_by_hand(cell, None if inputs is None else x[n].tolist(), kids)
            torch.testing.assert_close(state.hidden[n], torch.tensor(h), rtol=0, atol=1e-12)
            torch.testing.assert_close(state.cell[n], torch.tensor(c), rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell_type", [ChildSumTreeLSTMCell, BinaryTreeLSTMCell])
def test_leaf_equals_node_with_zero_children(float64: torch.dtype, cell_type: type) -> None:
    """Tai et al.: a leaf is the general node with h_k = c_k = 0 (c_j = i_j ⊙ u_j)."""
    cell = cell_type(3, 4)
    x = torch.randn(5, 3)
    zeros = LSTMState(torch.zeros(5, 2, 4), torch.zeros(5, 2, 4))
    general = cell(x, zeros, torch.ones(5, 2, dtype=torch.bool))
    leaf = cell.leaf(x)
    torch.testing.assert_close(leaf.hidden, general.hidden, rtol=0, atol=1e-12)
    torch.testing.assert_close(leaf.cell, general.cell, rtol=0, atol=1e-12)


def test_child_sum_ignores_child_order_binary_does_not(float64: torch.dtype) -> None:
    x = torch.randn(4, 3)
    children = LSTMState(torch.randn(4, 2, 5), torch.randn(4, 2, 5))
    swapped = LSTMState(children.hidden.flip(1), children.cell.flip(1))
    mask = torch.ones(4, 2, dtype=torch.bool)
    child_sum, binary = ChildSumTreeLSTMCell(3, 5), BinaryTreeLSTMCell(3, 5)
    torch.testing.assert_close(
        child_sum(x, children, mask).hidden, child_sum(x, swapped, mask).hidden
    )
    assert not torch.allclose(binary(x, children, mask).hidden, binary(x, swapped, mask).hidden)


def _gradcheck(cell: torch.nn.Module, x: torch.Tensor | None, children: tuple) -> bool:
    """gradcheck w.r.t. x, every child state tensor and every parameter."""
    names = [name for name, _ in cell.named_parameters()]
    parameters = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    K = children[0].shape[1]
    mask = torch.ones(children[0].shape[0], K, dtype=torch.bool)
    if cell.arity is None:
        mask[0, K - 1] = False  # padding in a child-sum batch

    def node(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        offset = 0 if x is None else 1
        state = cell.state_type(*tensors[offset : offset + len(children)])
        values = dict(zip(names, tensors[offset + len(children) :], strict=True))
        inputs = None if x is None else tensors[0]
        return tuple(functional_call(cell, values, (inputs, state, mask)))

    inputs = ([] if x is None else [x]) + list(children) + parameters
    return torch.autograd.gradcheck(node, tuple(inputs))


def test_recursive_gradcheck(float64: torch.dtype) -> None:
    hidden = torch.randn(3, 2, 4, requires_grad=True)
    assert _gradcheck(RecursiveCell(4), None, (hidden,))


@pytest.mark.parametrize("cell_type", [ChildSumTreeLSTMCell, BinaryTreeLSTMCell])
def test_tree_lstm_gradcheck(float64: torch.dtype, cell_type: type) -> None:
    x = torch.randn(3, 2, requires_grad=True)
    children = tuple(torch.randn(3, 2, 3, requires_grad=True) for _ in range(2))
    assert _gradcheck(cell_type(2, 3), x, children)
    assert _gradcheck(cell_type(2, 3), None, children)


def test_leaf_gradcheck(float64: torch.dtype) -> None:
    for cell in (ChildSumTreeLSTMCell(2, 3), BinaryTreeLSTMCell(2, 3)):
        x = torch.randn(4, 2, requires_grad=True)
        assert torch.autograd.gradcheck(lambda x, cell=cell: tuple(cell.leaf(x)), (x,))


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="hidden_size"):
        ChildSumTreeLSTMCell(3, 0)
    cell = BinaryTreeLSTMCell(3, 4)
    three = LSTMState(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4))
    with pytest.raises(ShapeError, match="exactly 2 real children"):
        cell(None, three, torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ShapeError, match="got"):
        cell(None, LSTMState(torch.zeros(2, 2, 5), torch.zeros(2, 2, 5)), torch.ones(2, 2))
    with pytest.raises(ShapeError, match="child_mask"):
        ChildSumTreeLSTMCell(3, 4)(None, three, torch.ones(2, 3))
    with pytest.raises(ShapeError, match="exactly 2 real children"):
        RecursiveCell(4)(None, RNNState(torch.zeros(2, 3, 4)), torch.ones(2, 3, dtype=torch.bool))

"""Tree cells: one node of a tree from its input and its children's states.

A tree cell is the recursive counterpart of a recurrent cell: where an RNN cell combines x_t
with h_{t-1}, a tree cell combines the input x_j of node j with the states of its children
C(j). The traversal (leaves first, then every parent once its children are done) belongs to
the layer, `rnnkit.layers.tree.TreeLayer`, exactly as the time loop belongs to `Recurrent`.

Every cell here has two entry points:
    leaf(x)                               a node with no children
    forward(x, children, child_mask)      an internal node; x may be None (no input at the node)
Children come stacked as (N, K, H) with a mask (N, K), True on real children, so one call
evaluates N nodes of up to K children each.

References:
    https://icml.cc/2011/papers/125_icmlpaper.pdf (Socher, Lin, Ng & Manning 2011, recursive net)
    https://arxiv.org/abs/1503.00075 (Tai, Socher & Manning 2015, Tree-LSTM)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.cells.base import LSTMState, RNNState, check_positive_int
from rnnkit.errors import ShapeError


def _uniform_(module: nn.Module, hidden_size: int) -> None:
    """Every parameter from U(−1/√H, 1/√H), torch.nn.LSTM's default."""
    bound = 1.0 / math.sqrt(hidden_size)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.uniform_(-bound, bound)


def _check_children(children: Tensor, child_mask: Tensor, hidden_size: int) -> None:
    """Children states must be (N, K, H) with a (N, K) bool mask."""
    if children.dim() != 3 or children.shape[-1] != hidden_size:
        raise ShapeError(
            f"children states must be (N, K, {hidden_size}); got {tuple(children.shape)}"
        )
    if child_mask.shape != children.shape[:2] or child_mask.dtype != torch.bool:
        raise ShapeError(
            f"child_mask must be a bool tensor of shape {tuple(children.shape[:2])}; "
            f"got {child_mask.dtype} of shape {tuple(child_mask.shape)}"
        )


class RecursiveCell(nn.Module):
    """The recursive neural network of Socher et al. 2011: a parent from its two children.

    p = tanh(W [c_1; c_2] + b)  (Socher, Lin, Ng & Manning 2011; their parser adds a score)
    a leaf is its word vector:  h_leaf = x = L e_k  (Socher et al. 2011)

    where
        c_1, c_2 the states of the left and right child (each (H,)), [;] concatenation,
        W (H, 2H) the composition matrix shared by every node of every tree, b (H,).
    Internal nodes take no input: x is ignored there (pass None). Leaves need F = H.

    Shapes: x (N, H); children (N, 2, H); returns RNNState(hidden (N, H)).

    Args:
        hidden_size: H, the size of every node vector (and of the word vectors).

    Example:
        >>> cell = RecursiveCell(4)
        >>> left, right = cell.leaf(torch.randn(3, 4)), cell.leaf(torch.randn(3, 4))
        >>> children = torch.stack([left.hidden, right.hidden], 1)  # (N, 2, H)
        >>> cell(None, RNNState(children), torch.ones(3, 2, dtype=torch.bool)).hidden.shape
        torch.Size([3, 4])

    References:
        Socher, Lin, Ng & Manning 2011, "Parsing Natural Scenes and Natural Language with
        Recursive Neural Networks", ICML.
    """

    state_type = RNNState
    arity = 2  # a binary tree: every internal node has exactly two children

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.input_size = hidden_size  # the leaves are the word vectors themselves
        self.weight = nn.Parameter(torch.empty(hidden_size, 2 * hidden_size))  # W
        self.bias = nn.Parameter(torch.empty(hidden_size))  # b
        _uniform_(self, hidden_size)

    def leaf(self, x: Tensor) -> RNNState:
        """h_leaf = x: a word is represented by its vector (N, H)."""
        return RNNState(hidden=x)

    def forward(self, x: Tensor | None, children: RNNState, child_mask: Tensor) -> RNNState:
        """p = tanh(W [c_1; c_2] + b) for N parents at once; x is ignored."""
        del x  # Socher et al.'s internal nodes have no input of their own
        _check_children(children.hidden, child_mask, self.hidden_size)
        N, K, H = children.hidden.shape
        if K != 2 or not bool(child_mask.all()):
            raise ShapeError(f"RecursiveCell needs exactly 2 real children per node; got K = {K}")
        pair = children.hidden.reshape(N, 2 * H)  # [c_1; c_2], (N, 2H)
        return RNNState(hidden=torch.tanh(F.linear(pair, self.weight, self.bias)))  # p


class _TreeLSTMCell(nn.Module):
    """What the two Tree-LSTM cells share: W^(i|f|u|o) x_j + b and the leaf step.

    A leaf has no children (h_jk = c_jk = 0), so both cells' equations reduce to
    c_j = i_j ⊙ u_j,  h_j = o_j ⊙ tanh(c_j)  (Tai et al. 2015, eqs. 3, 5–8 and 9–14).
    """

    state_type = LSTMState

    def __init__(self, input_size: int, hidden_size: int, recurrent: tuple[int, int]) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = H = check_positive_int("hidden_size", hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(4 * H, input_size))  # W^(i|f|u|o)
        self.weight_hh = nn.Parameter(torch.empty(*recurrent))  # U^(·), the cell's layout
        self.bias = nn.Parameter(torch.empty(4 * H))  # b^(i|f|u|o)
        _uniform_(self, H)

    def _input_part(self, x: Tensor | None, count: int) -> Tensor:
        """W^(·) x_j + b^(·) for i|f|u|o: (N, 4H); b alone when x is None."""
        if x is None:
            return self.bias.expand(count, -1)
        return F.linear(x, self.weight_ih, self.bias)

    def leaf(self, x: Tensor) -> LSTMState:
        """No children: c_j = i_j ⊙ u_j, h_j = o_j ⊙ tanh(c_j)."""
        input_pre, _, candidate_pre, output_pre = self._input_part(x, x.shape[0]).chunk(4, -1)
        cell = torch.sigmoid(input_pre) * torch.tanh(candidate_pre)  # c_j = i_j ⊙ u_j
        return LSTMState(hidden=torch.sigmoid(output_pre) * torch.tanh(cell), cell=cell)


class ChildSumTreeLSTMCell(_TreeLSTMCell):
    """Child-Sum Tree-LSTM node (Tai, Socher & Manning 2015, eqs. 2–8): any number of children.

    h̃_j = Σ_{k ∈ C(j)} h_k                                  (2)  (Tai et al. 2015)
    i_j = σ(W^(i) x_j + U^(i) h̃_j + b^(i))                  (3)  input gate
    f_jk = σ(W^(f) x_j + U^(f) h_k + b^(f))                  (4)  one forget gate per child k
    o_j = σ(W^(o) x_j + U^(o) h̃_j + b^(o))                  (5)  output gate
    u_j = tanh(W^(u) x_j + U^(u) h̃_j + b^(u))               (6)  candidate
    c_j = i_j ⊙ u_j + Σ_{k ∈ C(j)} f_jk ⊙ c_k                (7)
    h_j = o_j ⊙ tanh(c_j)                                    (8)

    where
        C(j) the children of node j (empty at a leaf, so h̃_j = 0 and c_j = i_j ⊙ u_j),
        x_j the input at node j, σ the logistic sigmoid, ⊙ the element-wise product.
    The sum over children makes the cell blind to their order: suited to dependency trees
    and to operators whose result does not depend on argument order.

    Parameter layout: rows stacked i|f|u|o as torch.nn.LSTM's i|f|g|o: `weight_ih` (4H, F)
    holds W^(·), `weight_hh` (4H, H) holds U^(·), `bias` (4H,) holds b^(·).

    Shapes: x (N, F) or None; children hidden and cell (N, K, H); child_mask (N, K) bool;
    returns LSTMState(hidden (N, H), cell (N, H)).

    Args:
        input_size: F, features of x_j.
        hidden_size: H.

    References:
        Tai, Socher & Manning 2015, "Improved Semantic Representations From Tree-Structured
        Long Short-Term Memory Networks", ACL (arXiv 1503.00075).
    """

    arity: int | None = None  # any number of children

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size, (4 * hidden_size, hidden_size))  # U^(i|f|u|o)

    def forward(self, x: Tensor | None, children: LSTMState, child_mask: Tensor) -> LSTMState:
        """One batched call for N nodes with up to K children each (padding masked out)."""
        _check_children(children.hidden, child_mask, self.hidden_size)
        N = children.hidden.shape[0]
        mask = child_mask.unsqueeze(-1).to(children.hidden.dtype)  # (N, K, 1)
        child_hidden = children.hidden * mask  # padding children contribute nothing
        child_sum = child_hidden.sum(1)  # h̃_j, (N, H)
        wx = self._input_part(x, N)  # (N, 4H)
        U_i, U_f, U_u, U_o = self.weight_hh.chunk(4, 0)  # 4 x (H, H)
        wx_i, wx_f, wx_u, wx_o = wx.chunk(4, -1)  # 4 x (N, H)
        input_gate = torch.sigmoid(wx_i + child_sum @ U_i.T)  # i_j
        forget_gate = torch.sigmoid(wx_f.unsqueeze(1) + child_hidden @ U_f.T)  # f_jk, (N, K, H)
        output_gate = torch.sigmoid(wx_o + child_sum @ U_o.T)  # o_j
        candidate = torch.tanh(wx_u + child_sum @ U_u.T)  # u_j
        kept = (forget_gate * children.cell * mask).sum(1)  # Σ_k f_jk ⊙ c_k, (N, H)
        cell = input_gate * candidate + kept  # c_j
        return LSTMState(hidden=output_gate * torch.tanh(cell), cell=cell)  # h_j


class BinaryTreeLSTMCell(_TreeLSTMCell):
    """N-ary Tree-LSTM node with N = 2 (Tai, Socher & Manning 2015, eqs. 9–14): ordered children.

    i_j = σ(W^(i) x_j + Σ_l U^(i)_l h_jl + b^(i))             (9)   (Tai et al. 2015)
    f_jk = σ(W^(f) x_j + Σ_l U^(f)_kl h_jl + b^(f))           (10)  k = 1, 2
    o_j = σ(W^(o) x_j + Σ_l U^(o)_l h_jl + b^(o))             (11)
    u_j = tanh(W^(u) x_j + Σ_l U^(u)_l h_jl + b^(u))          (12)
    c_j = i_j ⊙ u_j + Σ_l f_jl ⊙ c_jl                          (13)
    h_j = o_j ⊙ tanh(c_j)                                      (14)

    where
        h_jl, c_jl the states of the l-th child of node j (l = 1 left, 2 right); every
        child has its own U_l, so the cell sees the order of its children, and each forget gate
        f_jk sees both children through U^(f)_kl. A leaf has h_jl = c_jl = 0.
    In constituency trees only the leaves carry a word: internal nodes pass x = None.

    Parameter layout: `weight_ih` (4H, F) rows i|f|u|o (W^(f) shared by both forget gates, as
    in eq. 10), `bias` (4H,); `weight_hh` (5H, 2H) rows i|f_1|f_2|u|o, columns [h_j1; h_j2],
    i.e. the blocks [U^(·)_1  U^(·)_2].

    Shapes: x (N, F) or None; children hidden and cell (N, 2, H); returns LSTMState((N, H) each).

    Args:
        input_size: F, features of x_j.
        hidden_size: H.

    References:
        Tai, Socher & Manning 2015, "Improved Semantic Representations From Tree-Structured
        Long Short-Term Memory Networks", ACL (arXiv 1503.00075).
    """

    arity = 2

    def __init__(self, input_size: int, hidden_size: int) -> None:
        H = hidden_size
        super().__init__(input_size, hidden_size, (5 * H, 2 * H))  # U^(i|f1|f2|u|o)_l

    def forward(self, x: Tensor | None, children: LSTMState, child_mask: Tensor) -> LSTMState:
        """One batched call for N nodes of exactly two children each."""
        _check_children(children.hidden, child_mask, self.hidden_size)
        N, K, H = children.hidden.shape
        if K != 2 or not bool(child_mask.all()):
            raise ShapeError(
                f"BinaryTreeLSTMCell needs exactly 2 real children per node; got K = {K}"
            )
        wx_i, wx_f, wx_u, wx_o = self._input_part(x, N).chunk(4, -1)  # 4 x (N, H)
        uh = F.linear(children.hidden.reshape(N, 2 * H), self.weight_hh)  # Σ_l U_l h_jl, (N, 5H)
        uh_i, uh_f1, uh_f2, uh_u, uh_o = uh.chunk(5, -1)
        input_gate = torch.sigmoid(wx_i + uh_i)  # i_j
        forget_left = torch.sigmoid(wx_f + uh_f1)  # f_j1
        forget_right = torch.sigmoid(wx_f + uh_f2)  # f_j2
        output_gate = torch.sigmoid(wx_o + uh_o)  # o_j
        candidate = torch.tanh(wx_u + uh_u)  # u_j
        cell = (
            input_gate * candidate
            + forget_left * children.cell[:, 0]
            + forget_right * children.cell[:, 1]
        )  # c_j
        return LSTMState(hidden=output_gate * torch.tanh(cell), cell=cell)  # h_j


TreeCell = RecursiveCell | ChildSumTreeLSTMCell | BinaryTreeLSTMCell

__all__ = ["BinaryTreeLSTMCell", "ChildSumTreeLSTMCell", "RecursiveCell", "TreeCell"]

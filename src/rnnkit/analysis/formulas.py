"""Parameter counts of recurrent layers written as formulas, with the numbers filled in.

References:
    https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html (the layout counted here)
    https://keras.io/api/models/model/#summary-method (Keras's model.summary, which gives counts)

The formulas, one per cell type and option, are in `cell_formula`'s docstring; a layer stack
sums its cells (`stacked_formula`).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from rnnkit.cells.base import RecurrentCell
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.mlstm import MLSTMCell
from rnnkit.cells.mrnn import MRNNCell
from rnnkit.cells.rnn import ElmanCell

KNOWN = {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr", "weight_ci", "weight_cf",
         "weight_co", "weight_gg", "weight_mx", "weight_mh"}  # fmt: skip
TORCH_BLOCKS = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}  # torch.nn.RNNBase.mode -> k


@dataclass(frozen=True)
class Formula:
    """A count as a formula: `symbolic` ("4H(F + H) + 8H"), `filled` ("4·5·(3 + 5) + 8·5")."""

    symbolic: str
    filled: str
    value: int

    def __str__(self) -> str:
        return f"{self.symbolic} = {self.filled} = {self.value:,}"


def cell_formula(
    blocks: int,
    input_size: int,
    hidden_size: int,
    *,
    bias: bool = True,
    recurrent: tuple[str, int] | None = None,
    extras: tuple[tuple[str, str, int], ...] = (),
) -> Formula:
    """kH(F + R) + 2kH + extras: one cell of k blocks whose recurrent matrix reads R features.

    Per cell, that is one layer in one direction (F its input features, H hidden, bias=True):

        Elman   H(F + H) + 2H            W_ih (H, F), W_hh (H, H), b_ih, b_hh (H,)
        GRU     3H(F + H) + 6H           three blocks r|z|n of each
        LSTM    4H(F + H) + 8H           four blocks i|f|g|o of each
          proj_size P:  4H(F + P) + 8H + PH    W_hh (4H, P) and the projection W_hr (P, H)
          peephole:     + 3H                   w_ci, w_cf, w_co (+ 2H with coupled gates: no w_ci)
          coupled gates: 3H(F + H) + 6H        no input gate (Greff et al. 2017, CIFG)
          no input / forget / output gate: one block and its peephole vector fewer (NIG, NFG, NOG)
          full gate recurrence: + 9H²          R_·· of i|f|o from i|f|o, `weight_gg` (FGR)
        mRNN    H(F + M) + 2H + M(F + H)       W_hm (H, M), W_mx (M, F), W_mh (M, H); M = H default
        mLSTM   4H(F + M) + 8H + M(F + H)      (Krause et al. 2016)

    bias=False drops the 2kH term (k blocks). A stack of L layers with D directions sums D cells a
    layer, layer 1 reading F and layers 2…L reading D·H (D·P with a projection). Parameters that
    none of these name (for example the gains of a layer-normalised cell) are added as one more
    term with their names, so a formula always equals the count.
    Two non-recurrent layers get theirs too: an embedding V·E and a linear layer O(I + 1).

    Example:
        >>> str(cell_formula(4, 3, 5))
        '4H(F + H) + 8H = 4·5·(3 + 5) + 8·5 = 200'
    """
    k, F, H = blocks, input_size, hidden_size
    name, R = recurrent or ("H", H)
    head = "" if k == 1 else str(k)
    symbolic = f"{head}H(F + {name})"
    filled = f"{k}·{H}·({F} + {R})"
    value = k * H * (F + R)
    if bias:
        symbolic += f" + {2 * k}H"
        filled += f" + {2 * k}·{H}"
        value += 2 * k * H
    for extra_symbolic, extra_filled, extra_value in extras:
        symbolic += f" + {extra_symbolic}"
        filled += f" + {extra_filled}"
        value += extra_value
    return Formula(symbolic, filled, value)


def rnnkit_cell_formula(cell: RecurrentCell) -> Formula | None:
    """The formula of one rnnkit cell (any variant), or None for a cell it does not know."""
    F, H = cell.input_size, cell.hidden_size
    extras: list[tuple[str, str, int]] = []
    recurrent = None
    if isinstance(cell, MRNNCell | MLSTMCell):
        M = cell.multiplicative_size
        recurrent = ("M", M)
        extras.append(("M(F + H)", f"{M}·({F} + {H})", M * (F + H)))
        blocks = 1 if isinstance(cell, MRNNCell) else 4
    elif isinstance(cell, LSTMCell):
        blocks = len(cell.gate_names)
        if cell.proj_size:
            P = cell.proj_size
            recurrent = ("P", P)
            extras.append(("PH", f"{P}·{H}", P * H))
        if cell.peephole:  # one w_c· per σ gate the cell has
            n = sum(getattr(cell, f"weight_c{g}") is not None for g in "ifo")
            extras.append((f"{n}H", f"{n}·{H}", n * H))
        if cell.full_gate_recurrence:  # Greff et al. 2017, FGR: nine H × H matrices
            extras.append(("9H²", f"9·{H}²", 9 * H * H))
    elif isinstance(cell, GRUCell):
        blocks = 3
    elif isinstance(cell, ElmanCell):
        blocks = 1
    else:
        return None
    formula = cell_formula(blocks, F, H, bias=cell.bias, recurrent=recurrent, extras=tuple(extras))
    return with_other_parameters(formula, cell)


def with_other_parameters(formula: Formula, module: nn.Module) -> Formula:
    """Add the parameters the formula does not name as one term "n (their names)"."""
    other = {name: p.numel() for name, p in module.named_parameters(recurse=False)
             if name not in KNOWN}  # fmt: skip
    if not other:
        return formula
    n = sum(other.values())
    names = ", ".join(other)
    return Formula(
        f"{formula.symbolic} + {n} ({names})", f"{formula.filled} + {n}", formula.value + n
    )


def torch_cell_formula(module: nn.RNNCellBase) -> Formula:
    """torch.nn.RNNCell / LSTMCell / GRUCell."""
    blocks = module.weight_ih.shape[0] // module.hidden_size
    return cell_formula(blocks, module.input_size, module.hidden_size, bias=module.bias)


def torch_layer_cells(module: nn.RNNBase) -> list[Formula]:
    """One formula per (layer, direction) of torch.nn.RNN / LSTM / GRU, in torch's order."""
    k, H, P = TORCH_BLOCKS[module.mode], module.hidden_size, module.proj_size
    D = 2 if module.bidirectional else 1
    cells = []
    for layer in range(module.num_layers):
        F = module.input_size if layer == 0 else D * (P or H)
        recurrent = ("P", P) if P else None
        extras = (("PH", f"{P}·{H}", P * H),) if P else ()
        formula = cell_formula(k, F, H, bias=module.bias, recurrent=recurrent, extras=extras)
        cells += [formula] * D
    return cells


def stacked_formula(cells: list[Formula]) -> Formula:
    """The sum over the cells of a layer stack, equal consecutive cells grouped: D·[…] + …

    Example:
        >>> one, two = cell_formula(1, 3, 4), cell_formula(1, 8, 4)
        >>> stacked_formula([one, one, two, two]).filled
        '2·[1·4·(3 + 4) + 2·4] + 2·[1·4·(8 + 4) + 2·4]'
    """
    groups: list[list[Formula]] = []
    for cell in cells:
        if groups and groups[-1][0] == cell:
            groups[-1].append(cell)
        else:
            groups.append([cell])
    if len(groups) == 1 and len(groups[0]) == 1:
        return cells[0]

    def term(group: list[Formula], text: str) -> str:
        return f"{len(group)}·[{text}]" if len(group) > 1 else f"[{text}]"

    symbolic = " + ".join(term(g, g[0].symbolic) for g in groups)
    filled = " + ".join(term(g, g[0].filled) for g in groups)
    return Formula(symbolic, filled, sum(cell.value for cell in cells))


def module_formula(module: nn.Module) -> Formula | None:
    """The formula for `module` if it is a recurrent cell or layer, an embedding or a linear."""
    if isinstance(module, RecurrentCell):
        return rnnkit_cell_formula(module)
    if isinstance(module, nn.RNNCellBase):
        return torch_cell_formula(module)
    if isinstance(module, nn.RNNBase) and module.mode in TORCH_BLOCKS:
        return stacked_formula(torch_layer_cells(module))
    if isinstance(module, nn.Embedding):
        V, E = module.weight.shape
        return Formula("V·E", f"{V}·{E}", V * E)
    if isinstance(module, nn.Linear):
        O, I = module.out_features, module.in_features  # noqa: E741
        if module.bias is None:
            return Formula("O·I", f"{O}·{I}", O * I)
        return Formula("O(I + 1)", f"{O}·({I} + 1)", O * (I + 1))
    # a layer made of rnnkit cells only (Recurrent, Bidirectional, Stacked, the drop-ins)
    cells = [m for m in module.modules() if isinstance(m, RecurrentCell)]
    formulas = [rnnkit_cell_formula(cell) for cell in cells]
    if not cells or any(formula is None for formula in formulas):
        return None
    total = stacked_formula(formulas)  # type: ignore[arg-type]
    own = sum(p.numel() for p in module.parameters())  # each tensor once
    return total if total.value == own else None


__all__ = [
    "Formula",
    "cell_formula",
    "module_formula",
    "rnnkit_cell_formula",
    "stacked_formula",
    "torch_layer_cells",
]

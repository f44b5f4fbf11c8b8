"""Inside the network for the web page: every gate of every cell at every step, and ‖∂L/∂h_t‖.

The model reads the text once with its steps recorded (`rnnkit.analysis.tape.record_steps`):
each step leaves its projected input a_t = W_ih x_t + b_ih, the state it started from and the
state it computed. The gates are then recomputed from those with the cell's own weights and
the equations of its class (`rnnkit.cells.lstm.LSTMCell`: i_t, f_t, c̃_t, o_t, with its
peephole and coupled-gate variants; `rnnkit.cells.gru.GRUCell`: r_t, z_t, n_t, reset after or
before), while c_t and h_t are the cell's own results. An Elman cell has h_t only.

Recording replaces the cells' `step` for the duration, so it runs on a private deep copy of
the model: the served model is never changed, and requests can run at once.

References:
    Karpathy, Johnson & Fei-Fei. Visualizing and Understanding Recurrent Networks. ICLR 2016
        workshop, arXiv:1506.02078.
    Pascanu, Mikolov & Bengio. On the difficulty of training recurrent neural networks.
        ICML 2013, arXiv:1211.5063.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.analysis import step_gradient_norms
from rnnkit.analysis.tape import CellSteps, record_steps
from rnnkit.cells.base import ACTIVATIONS
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.lstm import LSTMCell
from rnnkit.errors import DataError
from rnnkit.losses.sequence import sequence_cross_entropy
from rnnkit.models.many_to_many import LanguageModel
from rnnkit.models.many_to_one import SequenceClassifier, pool_states

Maps = dict[str, Tensor]  # name -> (T, H) values of one cell


def _rows(tensor: Tensor | None, rows: slice) -> Tensor | None:
    return None if tensor is None else tensor[rows]


def lstm_maps(
    cell: LSTMCell, projected: Tensor, hidden_prev: Tensor, cell_prev: Tensor, cell_new: Tensor
) -> Maps:
    """i_t, f_t, c̃_t, o_t of every step from a_t (T, G), h_{t-1} (T, P or H) and c_{t-1}, c_t."""
    gate, squash = ACTIVATIONS[cell.recurrent_activation], ACTIVATIONS[cell.activation]

    def pre(name: str) -> Tensor:  # a_· + W_h· h_{t-1} + b_h·, (T, H)
        rows = cell.gate_rows(name)
        recurrent = F.linear(hidden_prev, cell.weight_hh[rows], _rows(cell.bias_hh, rows))
        return projected[:, rows] + recurrent

    forget_pre = pre("forget")
    if cell.peephole:
        forget_pre = forget_pre + cell.weight_cf * cell_prev  # + w_cf ⊙ c_{t-1}
    forget_gate = gate(forget_pre)  # f_t
    if cell.coupled_gates:
        input_gate = 1.0 - forget_gate  # i_t = 1 − f_t
    else:
        input_pre = pre("input")
        if cell.peephole:
            input_pre = input_pre + cell.weight_ci * cell_prev  # + w_ci ⊙ c_{t-1}
        input_gate = gate(input_pre)  # i_t
    output_pre = pre("output")
    if cell.peephole:
        output_pre = output_pre + cell.weight_co * cell_new  # + w_co ⊙ c_t
    output_gate = gate(output_pre)  # o_t
    candidate = squash(pre("candidate"))  # c̃_t
    return {"input_gate": input_gate, "forget_gate": forget_gate, "output_gate": output_gate,
            "candidate": candidate}  # fmt: skip


def gru_maps(cell: GRUCell, projected: Tensor, hidden_prev: Tensor) -> Maps:
    """r_t, z_t and the candidate n_t of every step from a_t (T, 3H) and h_{t-1} (T, H)."""
    reset, update, new = (cell.gate_rows(name) for name in ("reset", "update", "new"))

    def recurrent(rows: slice, hidden: Tensor) -> Tensor:  # W_h· h + b_h·, (T, H)
        return F.linear(hidden, cell.weight_hh[rows], _rows(cell.bias_hh, rows))

    reset_gate = torch.sigmoid(projected[:, reset] + recurrent(reset, hidden_prev))  # r_t
    update_gate = torch.sigmoid(projected[:, update] + recurrent(update, hidden_prev))  # z_t
    if cell.reset_after:
        new_pre = projected[:, new] + reset_gate * recurrent(new, hidden_prev)
    else:
        new_pre = projected[:, new] + recurrent(new, reset_gate * hidden_prev)
    candidate = torch.tanh(new_pre)  # n_t
    return {"reset_gate": reset_gate, "update_gate": update_gate, "candidate": candidate}


def cell_name(cell: nn.Module) -> str:
    """The cell's name in the API: lstm, gru or rnn (the Elman cell)."""
    return "lstm" if isinstance(cell, LSTMCell) else "gru" if isinstance(cell, GRUCell) else "rnn"


def _over_time(states: list, field: int) -> Tensor:
    """Field `field` (0: h, 1: c) of each step's state, first sequence of the batch: (T, H)."""
    return torch.stack([state[field][0] for state in states])


def maps_of(steps: CellSteps) -> Maps:
    """Every map of one cell over the first sequence of the batch, in time order: (T, H) each."""
    projected = torch.stack([p[0] for p in steps.projections])  # a_t, (T, G)
    states = [_over_time(steps.states, field) for field in range(len(steps.states[0]))]
    previous = [_over_time(steps.previous, field) for field in range(len(steps.previous[0]))]
    maps: Maps = {"hidden": states[0]}  # h_t, as the cell computed it
    cell = steps.cell
    if isinstance(cell, LSTMCell):
        maps["cell"] = states[1]  # c_t, as the cell computed it
        maps.update(lstm_maps(cell, projected, previous[0], previous[1], states[1]))
    elif isinstance(cell, GRUCell):
        maps.update(gru_maps(cell, projected, previous[0]))
    if steps.reverse:  # it ran t = T … 1
        maps = {name: values.flip(0) for name, values in maps.items()}
    return maps


def record_maps(
    model: nn.Module, forward: Callable[[nn.Module], Tensor], units: int, first_unit: int = 0
) -> tuple[str, list[dict], Tensor]:
    """Run `forward` on a private copy of `model`, recording every step; its maps and output.

    Returns the cell name, one {"layer", "direction", "hidden_size", "maps"} per cell (maps
    (T, U) as lists: `units` units from `first_unit`, so that every unit can be reached page
    by page) in torch.nn's (layer, direction) order, and what `forward` gave. Raises DataError
    if a map holds NaN or ±inf, or if `first_unit` is not below every cell's H.
    """
    private = copy.deepcopy(model)
    with torch.no_grad(), record_steps(private) as tape:
        output = forward(private)
    layers, seen = [], {False: 0, True: 0}
    for steps in tape:
        maps = maps_of(steps)
        H = maps["hidden"].shape[-1]
        if first_unit >= H:
            raise DataError(
                f"first_unit must be below the {H} units of layer {seen[steps.reverse]}; got "
                f"{first_unit}: ask for a unit in 0 … {H - 1}"
            )
        for name, values in maps.items():
            if not torch.isfinite(values).all():  # JSON has no NaN or ±inf
                raise DataError(
                    f"the {name} map holds NaN or infinite values (float32 overflowed while "
                    "reading the text); try a shorter text"
                )
        layers.append(
            {
                "layer": seen[steps.reverse],
                "direction": int(steps.reverse),
                "hidden_size": H,
                "maps": {
                    name: values[:, first_unit : first_unit + units].tolist()
                    for name, values in maps.items()
                },
            }
        )
        seen[steps.reverse] += 1
    return cell_name(tape[0].cell), layers, output


def next_token_gradient_norms(model: LanguageModel, token_ids: Tensor) -> Tensor:
    """‖∂L/∂h_t‖ of the top layer for each input x_1 … x_{T-1} of a text x_1 … x_T.

    L = −(1/(T−1)) Σ_t ln Pr(x_{t+1} | x_≤t), the next-token loss over the text, from one
    backward pass (`rnnkit.analysis.step_gradient_norms`) through a private copy of the
    recurrent layers. Shapes: token_ids (T,) int64 with T ≥ 2 -> (T − 1,).
    """
    if token_ids.numel() < 2:
        raise DataError(
            f"the gradient of the next-token loss needs a text of at least 2 tokens; got "
            f"{token_ids.numel()}"
        )
    inputs, targets = token_ids[:-1].unsqueeze(0), token_ids[1:].unsqueeze(0)  # (1, T-1) each
    with torch.no_grad():
        x = model.embedding(inputs)  # (1, T-1, E)
    recurrent = copy.deepcopy(model.recurrent)

    def loss(outputs: Tensor) -> Tensor:  # outputs (1, T-1, H)
        return sequence_cross_entropy(model.output(outputs), targets)

    norms = step_gradient_norms(recurrent, x, loss)  # (L, T-1)
    return norms[-1].detach()


def classifier_gradient_norms(model: SequenceClassifier, token_ids: Tensor, label: int) -> Tensor:
    """‖∂L/∂h_t‖ of the top layer for each token x_1 … x_T of a text a classifier reads.

    L = −ln Pr(label | x_1 … x_T), the loss of the class `label`, from one backward pass
    (`rnnkit.analysis.step_gradient_norms`) through a private copy of the recurrent layers.
    A bidirectional top layer's h_t = [h→_t ; h←_t], so its norm is (‖∂L/∂h→_t‖² +
    ‖∂L/∂h←_t‖²)^½. Shapes: token_ids (T,) int64 -> (T,).
    """
    T = token_ids.numel()
    ids, lengths = token_ids.unsqueeze(0), torch.tensor([T])  # (1, T), (1,)
    with torch.no_grad():
        x = model.represent(ids)  # (1, T, F)
    recurrent = copy.deepcopy(model.recurrent)
    config = model.config

    def loss(outputs: Tensor) -> Tensor:  # outputs (1, T, D·H)
        pooled = pool_states(outputs, lengths, config.pooling, bidirectional=config.bidirectional)
        return F.cross_entropy(model.output(pooled), torch.tensor([label]))  # −ln Pr(label | x)

    norms = step_gradient_norms(recurrent, x, loss).reshape(-1, T)  # (L·D, T)
    top = norms[-2:] if config.bidirectional else norms[-1:]  # (D, T)
    return top.detach().pow(2).sum(0).sqrt()  # (T,)


__all__ = [
    "classifier_gradient_norms",
    "gru_maps",
    "lstm_maps",
    "maps_of",
    "next_token_gradient_norms",
    "record_maps",
]

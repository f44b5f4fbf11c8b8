"""The time loop of an Adaptive Computation Time network: an ACTCell over a (T, B, F) sequence.

References:
    https://arxiv.org/abs/1603.08983 (Graves 2016, "Adaptive Computation Time for Recurrent
    Neural Networks"; the per-step equations are in `rnnkit.cells.act.ACTCell`)
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.cells.act import ACTCell
from rnnkit.cells.base import State
from rnnkit.layers.checks import check_sequence
from rnnkit.layers.lengths import check_lengths, lengths_mask


class ACTSequence(NamedTuple):
    """What an ACT layer returns; time-major, or batch-major with batch_first.

    outputs:      h_t, the p-weighted hidden state of every step, (T, B, H); 0 on padding.
    state:        the state after each sequence's last real step, fields (B, ·).
    ponder_cost:  ρ_t = N(t) + R(t), (T, B); 0 on padding. Sum over t for P(x).
    steps:        N(t), (T, B) int64; 0 on padding.
    """

    outputs: Tensor
    state: State
    ponder_cost: Tensor
    steps: Tensor


class ACTRecurrent(nn.Module):
    """Run an ACTCell over a sequence: at every t the cell ponders N(t) steps on x_t.

    s_t, ρ_t, N(t) = ACT(x_t, s_{t-1})   (Graves 2016, eqs. 3-11; see ACTCell)

    The input projections of all T inputs (with the flag 1 and 0) are computed in one product
    each, before the loop. A sequence shorter than T stops at its length: its state is carried
    unchanged through the padding, where its outputs, ρ_t and N(t) are 0.

    Shapes:
        x (T, B, F), or (B, T, F) with batch_first; lengths (B,) int64; outputs (T, B, H) or
        (B, T, H); ponder_cost and steps (T, B) or (B, T).

    Args:
        cell: the ACTCell to run.
        batch_first: read and return (B, T, ·) instead of (T, B, ·).

    Example:
        >>> from rnnkit.cells import GRUCell
        >>> layer = ACTRecurrent(ACTCell(GRUCell(3 + 1, 5), max_ponder=8))
        >>> result = layer(torch.randn(7, 2, 3), lengths=torch.tensor([7, 4]))  # (T, B, F)
        >>> result.outputs.shape, result.ponder_cost.shape
        (torch.Size([7, 2, 5]), torch.Size([7, 2]))
        >>> result.steps[4:, 1].tolist()  # padding
        [0, 0, 0]
    """

    def __init__(self, cell: ACTCell, *, batch_first: bool = False) -> None:
        super().__init__()
        self.cell = cell
        self.batch_first = batch_first

    def forward(
        self, x: Tensor, state: State | None = None, *, lengths: Tensor | None = None
    ) -> ACTSequence:
        """Run the sequence; `state` is s_0 (zeros if None), `lengths` the real steps of each row.

        Raises:
            ShapeError: x is not (T, B, F) (or (B, T, F)), or lengths or state do not match.
        """
        name = type(self).__name__
        check_sequence(x, input_size=self.cell.input_size, batch_first=self.batch_first,
                       layer=name)  # fmt: skip
        if self.batch_first:
            x = x.transpose(0, 1)  # (T, B, F)
        T, B, _ = x.shape
        mask = None
        if lengths is not None:
            lengths = check_lengths(lengths, batch_size=B, steps=T, source=name)
            mask = lengths_mask(lengths, T, device=x.device).transpose(0, 1)  # (T, B)
        if state is None:
            state = self.cell.init_state(B, dtype=x.dtype, device=x.device)
        else:
            self.cell.cell.check_step_input(x.new_zeros(B, self.cell.cell.input_size), state)
        first, rest = self.cell.project_input(x)  # 2 x (T, B, G)
        outputs, costs, steps = [], [], []
        for t in range(T):
            active = None if mask is None else mask[t]
            result = self.cell.ponder(first[t], rest[t], state, active)
            state = result.state
            hidden = state.hidden
            if active is not None:
                hidden = torch.where(active.unsqueeze(-1), hidden, torch.zeros_like(hidden))
            outputs.append(hidden)  # (B, H)
            costs.append(result.ponder_cost)  # (B,)
            steps.append(result.steps)  # (B,)
        time_dim = 1 if self.batch_first else 0
        return ACTSequence(
            outputs=torch.stack(outputs, dim=time_dim),  # (T, B, H) or (B, T, H)
            state=state,
            ponder_cost=torch.stack(costs, dim=time_dim),  # (T, B) or (B, T)
            steps=torch.stack(steps, dim=time_dim),
        )


__all__ = ["ACTRecurrent", "ACTSequence"]

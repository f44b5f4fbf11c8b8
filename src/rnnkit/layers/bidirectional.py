"""Bidirectional: a forward pass and a length-aware reversed pass, concatenated to (B, T, 2H).

References:
    https://doi.org/10.1109/78.650093 (Schuster & Paliwal 1997, bidirectional recurrent networks)
    https://github.com/google/flax/blob/18f8f31/flax/linen/recurrent.py (`Bidirectional`)

    h→_t = step→(x_t, h→_{t-1}),  t = 1…len_b          the forward pass
    h←_t = step←(x_t, h←_{t+1}),  t = len_b…1          the reversed pass, from each sequence's end
    y_t = [h→_t ; h←_t]                               (2H,), forward half first, as torch.nn

where step→ and step← are two cells with their own parameters and [· ; ·] is concatenation.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.cells.base import RecurrentCell, State
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.checks import check_cell_state, check_sequence, describe_input, shape_of
from rnnkit.layers.lengths import SequenceLengths
from rnnkit.layers.recurrent import Bptt, Recurrent


class Bidirectional(nn.Module):
    """Two cells over the same sequence, one forwards and one backwards, outputs concatenated.

    Shapes:
        x (B, T, F) (or (T, B, F) with batch_first=False); lengths (B,);
        returns outputs (B, T, 2H) and (state→, state←), the final state of each direction.

    Args:
        forward_cell: the cell of the forward pass.
        backward_cell: the cell of the reversed pass (same input and state sizes).
        batch_first: whether x is (B, T, F) or (T, B, F).
        bptt: how each direction's loop runs ("auto", "autograd", "hand"; see `Recurrent`).

    Example:
        >>> from rnnkit.cells import LSTMCell
        >>> layer = Bidirectional(LSTMCell(3, 4), LSTMCell(3, 4))
        >>> outputs, (forward, backward) = layer(torch.randn(2, 5, 3))  # x (B, T, F)
        >>> outputs.shape, backward.hidden.shape  # (B, T, 2H), (B, H)
        (torch.Size([2, 5, 8]), torch.Size([2, 4]))
        >>> bool(torch.equal(outputs[:, 0, 4:], backward.hidden))  # h← ends at t = 1
        True
    """

    def __init__(
        self,
        forward_cell: RecurrentCell,
        backward_cell: RecurrentCell,
        *,
        batch_first: bool = True,
        bptt: Bptt = "auto",
    ) -> None:
        super().__init__()
        sizes = [(c.input_size, c.state_size, c.state_type) for c in (forward_cell, backward_cell)]
        if sizes[0] != sizes[1]:
            raise ConfigError(
                f"Bidirectional needs two cells with the same input size, state size and state "
                f"type; got {sizes[0][:2]} and {sizes[1][:2]}."
            )
        self.forward_layer = Recurrent(forward_cell, batch_first=False, bptt=bptt)
        self.backward_layer = Recurrent(backward_cell, reverse=True, batch_first=False, bptt=bptt)
        self.batch_first = batch_first

    def forward(
        self,
        x: Tensor,
        state: tuple[State, State] | None = None,
        *,
        lengths: Tensor | None = None,
    ) -> tuple[Tensor, tuple[State, State]]:
        """Concatenated outputs of both passes and the final state of each.

        Shapes:
            x (B, T, F) or (T, B, F); state a pair of cell states with fields (B, H), or None
            for zeros; returns ((B, T, 2H) or (T, B, 2H), (state→, state←)).

        Raises:
            ShapeError: x, the states or lengths do not fit (the message names which).
        """
        cell = self.forward_layer.cell
        name = f"Bidirectional({type(cell).__name__})"
        check_sequence(x, input_size=cell.input_size, batch_first=self.batch_first, layer=name)
        source = describe_input(tuple(x.shape), batch_first=self.batch_first)  # for messages
        if self.batch_first:
            x = x.transpose(0, 1)  # (T, B, F)
        T, B, _ = x.shape
        layers = (self.forward_layer, self.backward_layer)
        if state is None:
            state = (layers[0].init_state(B, like=x), layers[1].init_state(B, like=x))
        if not isinstance(state, tuple) or len(state) != 2:
            raise ShapeError(
                f"{name} state must be a pair (state→, state←); got {shape_of(state)}."
            )
        states = [
            check_cell_state(s, lay.cell, B, layer=name, source=source)
            for s, lay in zip(state, layers, strict=True)
        ]
        padding = SequenceLengths.checked(
            lengths, batch_size=B, steps=T, device=x.device, source=source
        )
        outputs, final = self.run(x, (states[0], states[1]), padding)
        return (outputs.transpose(0, 1) if self.batch_first else outputs), final

    def run(
        self, x: Tensor, state: tuple[State, State], lengths: SequenceLengths | None
    ) -> tuple[Tensor, tuple[State, State]]:
        """The unchecked time-major pass, (T, B, F) -> (T, B, 2H)."""
        forward_outputs, forward_state = self.forward_layer.run(x, state[0], lengths)
        backward_outputs, backward_state = self.backward_layer.run(x, state[1], lengths)
        outputs = torch.cat([forward_outputs, backward_outputs], dim=-1)  # y_t = [h→_t ; h←_t]
        return outputs, (forward_state, backward_state)


__all__ = ["Bidirectional"]

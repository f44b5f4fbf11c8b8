"""Stacked: L recurrent layers, each reading the outputs of the one below, dropout between them.

References:
    https://arxiv.org/abs/1312.6026 (Pascanu et al. 2014, how to construct deep RNNs)
    https://arxiv.org/abs/1409.2329 (Zaremba et al. 2014, dropout between layers, not in time)

    y⁽⁰⁾_t = x_t
    y⁽ˡ⁾_t = layer_l(dropout(y⁽ˡ⁻¹⁾)_t)    l = 1…L; dropout before every layer but the first
    outputs = y⁽ᴸ⁾                           (no dropout after the last layer, as torch.nn)

With input_dropout / output_dropout, locked (variational) dropout on the stack's input and
output sequences, one mask per sequence for every step  (Gal & Ghahramani 2016; Merity et al.
2017, "LockedDropout"):  y⁽⁰⁾_t = m_in ⊙ x_t,  outputs_t = m_out ⊙ y⁽ᴸ⁾_t,  m ~ Bernoulli(1 − p)
/ (1 − p) of shape (B, F) and (B, D·H); the final states are not dropped; eval: m = 1.

The final states of all layers and directions are stacked as torch.nn does: one tensor
(L·D, B, H) per state field, row layer·D + direction (`rnnkit.layers.state`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.cells.base import State
from rnnkit.cells.regularisers import check_probability, locked_dropout
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.bidirectional import Bidirectional
from rnnkit.layers.checks import check_layer_state, check_sequence, describe_input, shape_of
from rnnkit.layers.lengths import SequenceLengths
from rnnkit.layers.recurrent import Recurrent
from rnnkit.layers.state import split_layer_state, stack_layer_states


class Stacked(nn.Module):
    """L layers (`Recurrent` or `Bidirectional`) on top of each other, dropout between them.

    Shapes:
        x (B, T, F) (or (T, B, F) with batch_first=False); lengths (B,); the state's fields are
        (L·D, B, H) as in torch.nn; returns outputs (B, T, D·H) and the final state in the same
        layout.

    Args:
        layers: the layers, bottom first; all with the same number of directions D and the same
            cell state type; layer l + 1 reads the D·H outputs of layer l.
        dropout: probability of zeroing an input of layers 2…L during training.
        batch_first: whether x is (B, T, F) or (T, B, F).
        input_dropout: p of the locked dropout of the input sequence (training only).
        output_dropout: p of the locked dropout of the output sequence (training only).

    Example:
        >>> import torch
        >>> from rnnkit.cells import ElmanCell
        >>> stack = Stacked([Recurrent(ElmanCell(3, 4)), Recurrent(ElmanCell(4, 4))])
        >>> outputs, state = stack(torch.randn(2, 5, 3))  # x (B, T, F)
        >>> outputs.shape, state.hidden.shape  # (B, T, H), (L·D, B, H)
        (torch.Size([2, 5, 4]), torch.Size([2, 2, 4]))
    """

    def __init__(
        self,
        layers: Sequence[Recurrent | Bidirectional],
        *,
        dropout: float = 0.0,
        batch_first: bool = True,
        input_dropout: float = 0.0,
        output_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not layers:
            raise ConfigError("Stacked needs at least one layer; got none.")
        if not 0.0 <= dropout <= 1.0:
            raise ConfigError(f"Stacked `dropout` must be in [0, 1]; got {dropout!r}.")
        self.layers = nn.ModuleList(layers)
        self.dropout = dropout
        self.input_dropout = check_probability("input_dropout", input_dropout)
        self.output_dropout = check_probability("output_dropout", output_dropout)
        self.batch_first = batch_first
        self.num_directions = 2 if isinstance(layers[0], Bidirectional) else 1
        self._check_sizes()

    def _cells(self, index: int) -> list:
        layer = self.layers[index]
        if isinstance(layer, Bidirectional):
            return [layer.forward_layer.cell, layer.backward_layer.cell]
        return [layer.cell]

    def _check_sizes(self) -> None:
        """Each layer reads D·H features from the one below; all share D and the state type."""
        first = self._cells(0)[0]
        for index in range(len(self.layers)):
            cells = self._cells(index)
            if len(cells) != self.num_directions or cells[0].state_type is not first.state_type:
                raise ConfigError(
                    f"Stacked layers must all have {self.num_directions} direction(s) and "
                    f"{first.state_type.__name__} states; layer {index} does not."
                )
            if index > 0:
                below = self._cells(index - 1)[0].state_size * self.num_directions
                if cells[0].input_size != below:
                    raise ConfigError(
                        f"Stacked layer {index} must read {below} features (D·H of layer "
                        f"{index - 1}); its cell has input_size {cells[0].input_size}."
                    )

    def forward(
        self, x: Tensor, state: State | None = None, *, lengths: Tensor | None = None
    ) -> tuple[Tensor, State]:
        """Outputs of the top layer for every step and the stacked final state.

        Shapes:
            x (B, T, F) or (T, B, F); state fields (L·D, B, H) or None for zeros; returns
            ((B, T, D·H) or (T, B, D·H), state with fields (L·D, B, H)).

        Raises:
            ShapeError: x, the state or lengths do not fit (the message names which).
        """
        first = self._cells(0)[0]
        name = f"Stacked({type(first).__name__})"
        check_sequence(x, input_size=first.input_size, batch_first=self.batch_first, layer=name)
        source = describe_input(tuple(x.shape), batch_first=self.batch_first)  # for messages
        if self.batch_first:
            x = x.transpose(0, 1)  # (T, B, F)
        T, B, _ = x.shape
        if state is None:
            states = [[c.init_state(B, dtype=x.dtype, device=x.device) for c in self._cells(k)]
                      for k in range(len(self.layers))]  # fmt: skip
            state = stack_layer_states(states)  # fields (L·D, B, H)
        else:
            state = self._check_state(state, B, name, source)
        padding = SequenceLengths.checked(
            lengths, batch_size=B, steps=T, device=x.device, source=source
        )
        outputs, final = self.run(x, state, padding)
        return (outputs.transpose(0, 1) if self.batch_first else outputs), final

    def run(self, x: Tensor, state: State, lengths: SequenceLengths | None) -> tuple[Tensor, State]:
        """The unchecked time-major pass, x (T, B, F) -> (T, B, D·H); state fields (L·D, B, H)."""
        layers = self.layers
        states = split_layer_state(state, len(layers), self.num_directions)
        finals: list[list[State]] = []
        x = locked_dropout(x, self.input_dropout, training=self.training)  # m_in ⊙ x_t
        for index, level in enumerate(layers):
            if index > 0 and self.dropout > 0.0 and self.training:
                x = F.dropout(x, p=self.dropout, training=True)  # between layers only
            if isinstance(level, Bidirectional):
                x, pair = level.run(x, (states[index][0], states[index][1]), lengths)
                finals.append(list(pair))
            else:
                x, final = level.run(x, states[index][0], lengths)  # (T, B, H)
                finals.append([final])
        x = locked_dropout(x, self.output_dropout, training=self.training)  # m_out ⊙ y⁽ᴸ⁾_t
        return x, stack_layer_states(finals)  # fields (L·D, B, H)

    def directions(self, index: int) -> list[Recurrent]:
        """The `Recurrent` loops of layer `index`: [forward] or [forward, backward]."""
        layer = self.layers[index]
        if isinstance(layer, Bidirectional):
            return [layer.forward_layer, layer.backward_layer]
        return [layer]

    def _check_state(self, state: State, batch_size: int, name: str, source: str) -> State:
        first = self._cells(0)[0]
        fields = first.state_type._fields
        if not isinstance(state, tuple) or len(state) != len(fields):
            raise ShapeError(
                f"{name} state must be {first.state_type.__name__}({', '.join(fields)}) with "
                f"fields (L·D, B, H); got {shape_of(state)}."
            )
        rows = len(self.layers) * self.num_directions
        for field, tensor in zip(fields, state, strict=True):
            size = first.state_size if field == "hidden" else first.hidden_size
            check_layer_state(
                tensor,
                argument=f"state.{field}",
                expected=(rows, batch_size, size),
                layer=name,
                meaning="(L·D, B, H)",
                source=source,
            )
        return first.state_type(*state)


__all__ = ["Stacked"]

"""Recurrent(cell): the time loop that runs any rnnkit cell over a sequence, (B, T, F) -> (B, T, H).

References:
    https://github.com/google/flax/blob/18f8f31/flax/linen/recurrent.py (`RNN`: any cell, lengths)
    https://github.com/pytorch/pytorch/blob/02ed725/benchmarks/fastrnns/custom_lstms.py (LSTMLayer)

The loop follows the split of every cell (`rnnkit.cells.base`):

    a_t = W_ih x_t + b_ih             for all t at once: one matrix product (T·B, F) -> (T·B, G)
    state_t = step(a_t, state_{t-1})  for t = 1…T: the recurrence, one product W_hh h_{t-1} a step
    y_t = h_t                         the outputs are the hidden states

With lengths len_b, step t of sequence b is real when t < len_b (m_t = 1); on padding the state
is kept and the output is zero,

    state_t = m_t ? step(a_t, state_{t-1}) : state_{t-1},    y_t = m_t ⊙ h_t,

so the returned state is each sequence's state after its own last step. The reversed direction
runs t = T…1 with the same rule: a sequence's state stays h_0 through its padding and the pass
starts at its own last real step, exactly as reversing each sequence within its valid prefix
(`flip_sequences`) and running forward would.

The regularisers of the cell (`rnnkit.cells.base`) draw their masks once per forward pass,
here: `masks = cell.begin_sequence(T, B, like=x)`, and step t gets `masks.at(t)`. An option
that changes the step (zoneout, recurrent_dropout in training, except in the LSTM rows, which
run recurrent dropout, and zoneout without layer_norm; layer_norm except in the LSTM's lstm_ln
row) takes the cell's step; weight_drop keeps the fast rows. A row is given
the cell with the pass's masks and W̃_hh in place of W_hh (`rnnkit.layers.fast.MaskedCell`).

`Recurrent.run` is the one place that chooses how the loop runs: the cell's own step
(`run_cell`), or the sequence function of the cell's configuration in `rnnkit.layers.fast.TABLE`
(same numbers, faster), as `bptt` asks; under PyTorch's tools, what each can trace:

    torch.func transforms, ONNX export         the cell's step (torch operators only)
    torch.compile, torch.export                the row's single operators (`fast.traceable`)
                                               when no lengths and no autocast, else the step

`Recurrent.one_step` is the same choice for one step x_t (B, F) given alone (streaming: the
drop-in layers send T = 1 there), without stacking the step into a sequence.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from rnnkit.cells.base import RecurrentCell, State, check_choice
from rnnkit.cells.regularisers import SequenceMasks
from rnnkit.errors import ConfigError
from rnnkit.layers.autocast import autocast_dtype, cast_state, kind_of
from rnnkit.layers.checks import check_cell_state, check_sequence, describe_input
from rnnkit.layers.fast import MaskedCell, lookup
from rnnkit.layers.fast.traceable import compiling, traced_sequence, transformed
from rnnkit.layers.lengths import SequenceLengths

Bptt = Literal["auto", "autograd", "hand"]


def run_cell(
    cell: RecurrentCell,
    x: Tensor,
    state: State,
    lengths: SequenceLengths | None = None,
    *,
    reverse: bool = False,
    masks: SequenceMasks | None = None,
) -> tuple[Tensor, State]:
    """Run `cell` over a time-major sequence with autograd; no checks (the callers check).

    Shapes:
        x (T, B, F); state fields (B, state_size) / (B, H); returns outputs (T, B, state_size).

    Args:
        cell: any rnnkit cell.
        x: the inputs x_1…x_T.
        state: the initial state h_0 (and c_0).
        lengths: the real steps of each sequence, or None when all are T long.
        reverse: run t = T…1, each sequence from its own last real step.
        masks: the regularisers' masks of this pass (`cell.begin_sequence`); step t gets
            `masks.at(t)`. None: the deterministic step (eval mode).

    Returns:
        (outputs, state): outputs zero past each sequence's length, and the final state.
    """
    state = cast_state(state, kind_of(cell), x.device.type, packed=lengths is not None)  # autocast
    projected = cell.project_input(x).unbind(0)  # T × (B, G), one product for all steps
    real = [None] * len(projected) if lengths is None else lengths.mask.unbind(0)  # T × (B, 1)
    order = range(len(projected) - 1, -1, -1) if reverse else range(len(projected))
    outputs: list[Tensor] = []
    for t in order:
        new = cell.step(projected[t], state, None if masks is None else masks.at(t))  # state_t
        mask = real[t]  # m_t of the lengths
        if mask is None:
            state = new
            outputs.append(new.hidden)  # y_t = h_t
        else:
            pairs = zip(new, state, strict=True)  # kept in the step's dtype (autocast may vary)
            state = type(new)(*(torch.where(mask, n, o.to(n.dtype)) for n, o in pairs))
            outputs.append(new.hidden.masked_fill(~mask, 0.0))  # y_t = m_t ⊙ h_t
    if reverse:
        outputs.reverse()
    return torch.stack(outputs), state  # (T, B, state_size)


class Recurrent(nn.Module):
    """Run one cell over a sequence: the time loop of a single-direction recurrent layer.

    Shapes:
        x (B, T, F) (or (T, B, F) with batch_first=False); lengths (B,);
        returns outputs (B, T, H) (H the cell's `state_size`) and the final state, whose fields
        are (B, H).

    Args:
        cell: any rnnkit cell (`ElmanCell`, `LSTMCell`, `GRUCell`, …).
        reverse: run from the last step to the first (the backward half of a bidirectional
            layer), each sequence from its own last real step.
        batch_first: whether x is (B, T, F) (the default above the layers) or (T, B, F).
        bptt: how the loop runs and is differentiated: "auto" the fast sequence function of the
            cell's configuration (`rnnkit.layers.fast`) where one exists and T > 1, else the
            cell's step; "autograd" always the cell's step (autograd through its equations,
            which differentiates twice); "hand" the hand-derived backward (ElmanCell, LSTMCell
            with torch's options), whose second derivatives replay the cell's step (refused
            under autocast: `rnnkit.layers.fast.first_order`).

    Raises:
        ConfigError: bptt="hand" for a cell configuration without a hand-derived backward.

    Example:
        >>> from rnnkit.cells import GRUCell
        >>> layer = Recurrent(GRUCell(3, 5))
        >>> x = torch.randn(2, 4, 3)  # (B, T, F)
        >>> outputs, state = layer(x, lengths=torch.tensor([4, 2]))
        >>> outputs.shape, state.hidden.shape  # (B, T, H), (B, H)
        (torch.Size([2, 4, 5]), torch.Size([2, 5]))
        >>> bool(outputs[1, 2:].eq(0).all()), bool(torch.equal(state.hidden[1], outputs[1, 1]))
        (True, True)
    """

    def __init__(
        self,
        cell: RecurrentCell,
        *,
        reverse: bool = False,
        batch_first: bool = True,
        bptt: Bptt = "auto",
    ) -> None:
        super().__init__()
        check_choice("bptt", bptt, ("auto", "autograd", "hand"))
        self.cell = cell
        self.reverse = reverse
        self.batch_first = batch_first
        fast = lookup(cell)  # its row of rnnkit.layers.fast.TABLE, or None
        if bptt == "hand" and (fast is None or not fast.hand_derived):
            raise ConfigError(
                f"Recurrent({type(cell).__name__}): bptt='hand' exists for ElmanCell and for "
                f"LSTMCell with torch's options (no peephole, coupling, projection or other "
                f"activations, and no zoneout with layer_norm; for ElmanCell no layer_norm, "
                f"zoneout or recurrent dropout in training); got {cell!r}. Use bptt='autograd' "
                f"or 'auto'."
            )
        self.bptt = bptt

    def forward(
        self, x: Tensor, state: State | None = None, *, lengths: Tensor | None = None
    ) -> tuple[Tensor, State]:
        """Outputs for every step and the final state.

        Shapes:
            x (B, T, F) or (T, B, F); state fields (B, H) or None for zeros; lengths (B,) in
            [1, T] or None; returns ((B, T, H) or (T, B, H), state).

        Raises:
            ShapeError: x is not 3-D with F = input_size, the state does not match the batch,
                or lengths are not (B,) integers in [1, T].
        """
        name = f"Recurrent({type(self.cell).__name__})"
        check_sequence(x, input_size=self.cell.input_size, batch_first=self.batch_first, layer=name)
        source = describe_input(tuple(x.shape), batch_first=self.batch_first)  # for messages
        if self.batch_first:
            x = x.transpose(0, 1)  # (T, B, F)
        T, B, _ = x.shape
        if state is None:
            state = self.cell.init_state(B, dtype=x.dtype, device=x.device)
        state = check_cell_state(state, self.cell, B, layer=name, source=source)
        padding = SequenceLengths.checked(
            lengths, batch_size=B, steps=T, device=x.device, source=source
        )
        outputs, state = self.run(x, state, padding)
        return (outputs.transpose(0, 1) if self.batch_first else outputs), state

    def run(self, x: Tensor, state: State, lengths: SequenceLengths | None) -> tuple[Tensor, State]:
        """The unchecked time-major loop, (T, B, F) -> (T, B, H): the cell's step or a fast path.

        The fast sequence function of the cell's row in `rnnkit.layers.fast.TABLE` (its Triton
        kernel on CUDA, `FastSequence.for_input`) runs when bptt is "hand", or "auto" with
        T ≥ the row's `min_steps`; otherwise `run_cell`. Under a torch.func transform, an ONNX
        export or torch.jit.trace the cell's step runs; under torch.compile or torch.export the
        row's operators (`rnnkit.layers.fast.traceable`) where they apply.
        """
        cell, bptt = self.cell, self.bptt
        masks = cell.begin_sequence(len(x), x.shape[1], like=x)  # once per pass; None in eval
        fast = lookup(cell)
        short = bptt == "auto" and fast is not None and len(x) < fast.min_steps
        if fast is None or bptt == "autograd" or short or transformed():
            return run_cell(cell, x, state, lengths, reverse=self.reverse, masks=masks)
        if compiling():
            plain = masks is None and not cell.changes_step  # the traced rows have no masks
            if lengths is None and autocast_dtype(x.device.type) is None and plain:
                return traced_sequence(cell, x, state, self.reverse)
            return run_cell(cell, x, state, lengths, reverse=self.reverse, masks=masks)
        if masks is not None:  # the row reads W̃_hh (and the LSTM row m and d_t) there
            cell = MaskedCell(cell, masks)
        return fast.for_input(cell, x)(cell, x, state, lengths, self.reverse)

    def one_step(self, x: Tensor, state: State) -> State | None:
        """The state after one step x (B, F), by the shortest route; no checks (the callers').

        The numbers and the random draws of `run` on a sequence of T = 1 (streaming, one call
        per step) without its stacking and unstacking: the row's `once` where it has one (the
        GRU's, the step of the loop `run` takes; Elman's, the cell's step with its parameters
        read once), else the cell's own step, which `run` takes for T = 1 below the row's
        `min_steps`. Returns None, drawing nothing, where `run` must decide: bptt="hand"
        (the row's function even for one step) and under torch.compile or torch.export. The
        caller leaves autocast to `run` (`rnnkit.layers.autocast` casts the state there).
        """
        if self.bptt == "hand" or compiling():
            return None
        cell = self._modules["cell"]  # nn.Module's lookup of a submodule costs about 1 µs
        masks = cell.begin_sequence(1, x.shape[0], like=x)  # None in eval (the usual case)
        if masks is None and self.bptt == "auto":
            fast = lookup(cell)
            if fast is not None and fast.once is not None:
                return fast.once(cell, x, state)
        return cell.step(cell.project_input(x), state, None if masks is None else masks.at(0))

    @property
    def path(self) -> str:
        """The name of what runs a sequence of T > 1 steps: a row of the table or "autograd".

        It can follow train()/eval(): recurrent dropout takes the cell's step in training only.
        """
        fast = lookup(self.cell)
        return "autograd" if fast is None or self.bptt == "autograd" else fast.name

    def init_state(self, batch_size: int, *, like: Tensor) -> State:
        """The zero state for a batch, in the dtype and device of `like`."""
        return self.cell.init_state(batch_size, dtype=like.dtype, device=like.device)

    @property
    def input_size(self) -> int:
        """F, the features of each step."""
        return self.cell.input_size

    @property
    def output_size(self) -> int:
        """H (or P for a projected LSTM), the features of each output step."""
        return self.cell.state_size


__all__ = ["Bptt", "Recurrent", "run_cell"]

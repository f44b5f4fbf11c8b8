"""`rnnkit.summary(model, input_shape=...)`: every layer with its output shape and parameter count.

References:
    https://keras.io/api/models/model/#summary-method (Keras's model.summary)
    https://github.com/TylerYep/torchinfo (torchinfo.summary: the module tree with shapes)

The table lists the module tree top to bottom, indented by depth. For each module:

    output shape   from a forward hook, when `input_shape` is given: the model runs once on
                   zeros (token ids (B, T) int64 for a 2-tuple, floats (B, T, F) for a
                   3-tuple) in eval mode without gradients; "—" for a module that did not run
                   on its own (a cell inside a layer: the layer calls its `step`)
    parameters     of the module and everything under it, each tensor once
    formula        for a recurrent cell or layer, its count as the formula of
                   `rnnkit.analysis.formulas` with the numbers filled in (LSTM: 4H(F + H) + 8H);
                   also V·E for an embedding and O(I + 1) for a linear layer

and below the table: total = trainable + non-trainable (each parameter tensor once, so tied
weights count once, as `model.parameters()` yields them) and their memory in float32, 4 bytes
each. The lecture's example: a 10,000-word vocabulary with 100-d embeddings is 10,000·100 = 1M
weights, before any recurrence.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from torch import Tensor, nn

from rnnkit.analysis.formulas import Formula, module_formula
from rnnkit.cells.base import RecurrentCell
from rnnkit.errors import ConfigError, ShapeError

BYTES_FLOAT32 = 4


@dataclass(frozen=True)
class SummaryRow:
    """One module of the tree: its dotted name, class, depth, output shape and counts."""

    name: str
    kind: str
    depth: int
    output_shape: str  # "—" when the module did not run (or no input_shape was given)
    parameters: int  # the module and its children, each tensor once
    formula: Formula | None


@dataclass(frozen=True)
class ModelSummary:
    """The summary of a model: rows, totals and memory; print it, or read the numbers.

    `print(summary)` gives plain text; `rich.print(summary)` (or the CLI) the coloured table.
    """

    model_name: str
    rows: list[SummaryRow]
    total: int
    trainable: int
    input_shape: tuple[int, ...] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def non_trainable(self) -> int:
        """Parameters with requires_grad=False (frozen embeddings, for example)."""
        return self.total - self.trainable

    @property
    def memory_bytes(self) -> int:
        """Memory of the parameters in float32: 4 bytes · total."""
        return BYTES_FLOAT32 * self.total

    def row(self, name: str) -> SummaryRow:
        """The row of the module called `name` ("" for the model itself)."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no module {name!r}; modules: {[r.name for r in self.rows]}")

    def __rich__(self) -> RenderableType:
        title = f"{self.model_name}" + (
            f" on input {self.input_shape}" if self.input_shape is not None else ""
        )
        table = Table(title=title, title_justify="left", show_lines=False)
        table.add_column("Layer (type)", no_wrap=True)
        table.add_column("Output shape")
        table.add_column("Param #", justify="right")
        table.add_column("Count as a formula", overflow="fold")
        for row in self.rows:
            label = "  " * row.depth + (row.name.rpartition(".")[2] or "(model)")
            formula = "" if row.formula is None else str(row.formula)
            table.add_row(f"{label} ({row.kind})", row.output_shape, f"{row.parameters:,}",
                          formula)  # fmt: skip
        footer = Text(
            f"Total params: {self.total:,}\n"
            f"Trainable params: {self.trainable:,}\n"
            f"Non-trainable params: {self.non_trainable:,}\n"
            f"Params size (float32): {format_bytes(self.memory_bytes)}"
        )
        notes = [Text(note, style="dim") for note in self.notes]
        return Group(table, footer, *notes)

    def __str__(self) -> str:
        buffer = io.StringIO()
        Console(file=buffer, width=160, color_system=None, force_terminal=False).print(self)
        return buffer.getvalue()


def format_bytes(size: int) -> str:
    """`1,234,567` bytes as '1.18 MiB (1,234,567 bytes)'.

    >>> format_bytes(4_000_000)
    '3.81 MiB (4,000,000 bytes)'
    """
    value, unit = float(size), "bytes"
    for unit in ("KiB", "MiB", "GiB"):  # noqa: B007
        value /= 1024
        if value < 1024:
            break
    return f"{value:.2f} {unit} ({size:,} bytes)"


def describe(value: Any) -> str:
    """A module's output as shapes: (1, 7, 64); a tuple or NamedTuple of them; "—" otherwise.

    >>> from rnnkit.cells import LSTMState
    >>> describe((torch.zeros(2, 3), LSTMState(torch.zeros(1, 4), torch.zeros(1, 4))))
    '(2, 3), LSTMState((1, 4), (1, 4))'
    """
    if isinstance(value, Tensor):
        return str(tuple(value.shape))
    if isinstance(value, tuple) and value:
        inner = ", ".join(_nested(item) for item in value)
        return f"{type(value).__name__}({inner})" if hasattr(value, "_fields") else inner
    if isinstance(value, list) and value:
        return "[" + ", ".join(describe(item) for item in value) + "]"
    return "—"


def _nested(value: Any) -> str:
    """`describe` inside a tuple: a plain inner tuple keeps its parentheses."""
    text = describe(value)
    plain_tuple = isinstance(value, tuple) and value and not hasattr(value, "_fields")
    return f"({text})" if plain_tuple else text


def _zero_input(model: nn.Module, input_shape: tuple[int, ...]) -> Tensor:
    """Zeros of `input_shape`: token ids (B, T) int64, or floats (B, T, F) in the model's dtype."""
    if not 2 <= len(input_shape) <= 3 or any(
        not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in input_shape
    ):
        raise ShapeError(
            f"summary input_shape must be token ids (B, T) or features (B, T, F), positive "
            f"integers; got {input_shape!r}. For example input_shape=(1, 50)."
        )
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    if len(input_shape) == 2:
        return torch.zeros(input_shape, dtype=torch.long, device=device)  # token ids (B, T)
    dtype = parameter.dtype if parameter is not None else torch.get_default_dtype()
    return torch.zeros(input_shape, dtype=dtype, device=device)  # (B, T, F)


def _output_shapes(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, str]:
    """Run the model once on zeros with a forward hook on every module: name -> output shape."""
    x = _zero_input(model, input_shape)
    shapes: dict[str, str] = {}
    handles = []
    for name, module in model.named_modules():

        def hook(_module: nn.Module, _inputs: Any, output: Any, name: str = name) -> None:
            shapes[name] = describe(output)  # the last call's, for a module called again

        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    except (RuntimeError, TypeError, ValueError, IndexError) as err:
        raise ShapeError(
            f"summary: {type(model).__name__} did not run on zeros of shape {input_shape} "
            f"({type(err).__name__}: {err}). Give the shape its forward takes, or "
            f"input_shape=None for the counts alone."
        ) from err
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return shapes


def _unique_parameters(module: nn.Module) -> Iterator[nn.Parameter]:
    """Each parameter tensor of `module` once (a drop-in layer registers its cells' twice)."""
    yield from module.parameters()  # nn.Module.parameters() already skips repeats


def summary(
    model: nn.Module, input_shape: tuple[int, ...] | None = None, *, max_depth: int | None = None
) -> ModelSummary:
    """Every layer of `model` with output shape, parameter count and formula; totals; memory.

    Shapes:
        input_shape: None (counts only), token ids (B, T) or features (B, T, F).

    Args:
        model: any torch module (rnnkit's models, layers and cells, or torch.nn's).
        input_shape: the shape of one zero input to run the model on for the output shapes.
        max_depth: list modules down to this depth (0: the model alone); None for all.

    Returns:
        A ModelSummary: `print` it, or read `.rows`, `.total`, `.trainable`, `.memory_bytes`.

    Raises:
        ConfigError: `model` is not a torch module.
        ShapeError: input_shape is not (B, T) or (B, T, F), or the model did not run on it.

    Example:
        >>> import rnnkit
        >>> s = summary(rnnkit.LSTM(3, 5, num_layers=2), input_shape=(7, 1, 3))
        >>> s.total, s.row("").formula.filled  # layer 1 reads F = 3, layer 2 H = 5
        (440, '[4·5·(3 + 5) + 8·5] + [4·5·(5 + 5) + 8·5]')
        >>> s.row("").output_shape  # (T, B, H) and h_n, c_n (L, B, H)
        '(7, 1, 5), LSTMState((2, 1, 5), (2, 1, 5))'
    """
    if not isinstance(model, nn.Module):
        raise ConfigError(
            f"summary needs a torch.nn.Module; got {type(model).__name__}. "
            f"For a run directory use rnnkit.load(run_dir).model."
        )
    shapes = {} if input_shape is None else _output_shapes(model, tuple(input_shape))
    rows = []
    formulas: dict[str, Formula | None] = {}
    for name, module in model.named_modules():
        depth = 0 if name == "" else name.count(".") + 1
        formula = formulas[name] = module_formula(module)
        parent = formulas.get(name.rpartition(".")[0]) if name else None
        if parent == formula and not isinstance(module, RecurrentCell | nn.RNNCellBase):
            formula = None  # a container of its parent's cells (stack, layers): said above
        if max_depth is not None and depth > max_depth:
            continue
        count = sum(p.numel() for p in _unique_parameters(module))
        rows.append(SummaryRow(
            name, type(module).__name__, depth, shapes.get(name, "—"), count, formula
        ))  # fmt: skip
    parameters = list(_unique_parameters(model))
    notes = []
    if input_shape is not None and any(row.output_shape == "—" for row in rows):
        notes.append("—: the module did not run on its own (a cell runs inside its layer).")
    return ModelSummary(
        model_name=type(model).__name__,
        rows=rows,
        total=sum(p.numel() for p in parameters),
        trainable=sum(p.numel() for p in parameters if p.requires_grad),
        input_shape=None if input_shape is None else tuple(input_shape),
        notes=notes,
    )


__all__ = ["ModelSummary", "SummaryRow", "describe", "format_bytes", "summary"]

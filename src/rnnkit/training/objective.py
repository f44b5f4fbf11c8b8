"""The Objective a task hands the trainer: how (model, batch, state) becomes a loss and a count.

A task supplies a model (any `nn.Module`), an Objective, a resumable source of training batches
and, optionally, evaluation batches, together as a `TrainingSetup`. The trainer never looks
inside a batch except to move its tensors to the device and, for truncated BPTT, to cut it
along time (`Objective.slice_time`; tensor_trees.py maps over the nesting).

References:
    https://pytorch.org/docs/stable/notes/ddp.html (call the model, not its submodules)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from torch import Tensor, nn

from rnnkit.errors import ShapeError
from rnnkit.training.tensor_trees import iter_tensors, map_tensors

if TYPE_CHECKING:
    from rnnkit.training.data import BatchSource


class StepResult(NamedTuple):
    """The outcome of one forward pass: mean loss, number of predictions, state after the batch.

    `loss` is the mean over `num_tokens` predictions (for a sequence loss, the valid steps);
    the trainer weights micro-batches and processes by `num_tokens`. `state` is the recurrent
    state after the last step; the trainer detaches it and passes it to the next call.
    """

    loss: Tensor
    num_tokens: int
    state: Any = None


class Objective(ABC):
    """How a task computes its loss; subclass and implement `loss`.

    `model` is the module to call. Under DistributedDataParallel it is the wrapper, so call
    `model(...)` itself rather than its submodules.

    `carry_state` says whether consecutive batches continue the same sequences (a stream cut
    into pieces: char-LM, forecasting). If True the state returned for one batch is passed to
    the next; if False every batch starts from None, and the state only flows between the
    truncated-BPTT windows of one batch.

    `unit` names what `StepResult.num_tokens` counts, in the singular ("token", "char", "word",
    "example", "value"): the progress line, the log and metrics.jsonl report throughput in it
    ("ex/s" for a classifier), and the loss plot's y axis reads
    "mean {loss_name} per {unit} ({loss_unit})".
    """

    carry_state: bool = False
    unit: str = "token"  # what num_tokens counts, singular
    loss_name: str = "cross-entropy"  # what `loss` averages over the units
    loss_unit: str = "nats"  # the unit of one unit's loss

    @property
    def loss_label(self) -> str:
        """The y label of the loss plot, e.g. "mean cross-entropy per example (nats)"."""
        return f"mean {self.loss_name} per {self.unit} ({self.loss_unit})"

    @abstractmethod
    def loss(self, model: nn.Module, batch: Any, state: Any, *, loss_from: int = 0) -> StepResult:
        """Run the model on `batch` from `state`; the loss counts only steps t ≥ `loss_from`.

        `state` is None at the start, then the detached state returned by the previous call:
        a stateless task ignores it, a streaming one (char-LM, forecasting) starts from it.
        `loss_from` > 0 only with truncated BPTT k2 > k1, where the first steps of the window
        are context that is backpropagated through but not scored.
        """

    def evaluate(self, model: nn.Module, batches: Iterable[Any]) -> dict[str, float]:
        """Mean loss over `batches`, weighted by tokens; override to add task metrics.

        Runs under `torch.no_grad()` with the model in eval mode (the trainer sees to both).
        """
        total, count, state = 0.0, 0, None
        for batch in batches:
            result = self.loss(model, batch, state if self.carry_state else None)
            total += float(result.loss) * result.num_tokens
            count += result.num_tokens
            state = result.state
        return {"loss": total / max(count, 1)}

    def time_length(self, batch: Any) -> int:
        """T of a batch: dim 1 of its first tensor with two or more dims (B, T, …)."""
        for tensor in iter_tensors(batch):
            if tensor.ndim >= 2:
                return int(tensor.shape[1])
        raise ShapeError("truncated BPTT needs a batch holding a (B, T, …) tensor; got none")

    def slice_time(self, batch: Any, start: int, stop: int) -> Any:
        """Steps [start, stop) of a batch: every tensor with two or more dims cut along dim 1.

        Override when a batch holds per-sequence `lengths` that must be cut too.
        """
        return map_tensors(batch, lambda t: t[:, start:stop] if t.ndim >= 2 else t)


class TrainingSetup(NamedTuple):
    """Everything a task builds for the trainer.

    `artifacts` are JSON-ready entries (a vocabulary, say) recorded beside the task config in
    config.json and every checkpoint; `callbacks` are called as `callback(trainer, row)` after
    every update (printing samples while training, say).
    """

    model: nn.Module
    objective: Objective
    train_data: BatchSource
    eval_data: Iterable[Any] | None = None
    artifacts: Mapping[str, Any] = MappingProxyType({})
    callbacks: tuple[Callable[..., None], ...] = ()

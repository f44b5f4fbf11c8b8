"""The counters of a training loop that a checkpoint must hold for an exact resume.

Besides weights, optimizer and RNG states, resuming exactly needs to know how many updates
were made, the best monitored metric so far, and, inside a batch cut into truncated-BPTT
windows, where that batch came from and which window is next; with NT-ASGD, the validation
values its trigger watches and the step the averaging began at (`rnnkit.training.averaging`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from rnnkit.errors import CheckpointError

# fields older checkpoints lack; None when absent
ADDED_LATER = frozenset({"first_loss", "nonmono_log", "averaging_from"})


@dataclass(kw_only=True)
class LoopState:
    """Mutable counters of `Trainer.fit`, saved as JSON in state.json."""

    step: int = 0  # optimizer updates made
    epoch: int = 0  # epoch of the last batch taken
    tokens: int = 0  # predictions trained on, all processes
    skipped: int = 0  # updates skipped for a nan/inf loss or gradient, or a diverging loss
    first_loss: float | None = None  # L of the first update, the reference of divergence_ratio
    best_metric: float | None = None  # best value of the monitored metric
    best_step: int | None = None
    bad_evaluations: int = 0  # evaluations since the last improvement
    last_eval_step: int | None = None
    pending_position: dict[str, Any] | None = None  # data position before a batch in progress
    pending_window: int = 0  # next truncated-BPTT window of that batch
    nonmono_log: list[float] | None = None  # NT-ASGD: monitored values before the trigger
    averaging_from: int | None = None  # step T the weight average began after (either start)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any], *, source: str) -> LoopState:
        """Rebuild from `to_json`; unknown or missing keys are a CheckpointError naming `source`."""
        names = {f.name for f in dataclasses.fields(cls)}
        if isinstance(data, dict) and names - ADDED_LATER <= set(data) < names:  # older
            data = {**{name: None for name in ADDED_LATER}, **data}
        if not isinstance(data, dict) or set(data) != names:
            found = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise CheckpointError(f"{source}: 'loop' must have keys {sorted(names)}, got {found}")
        return cls(**data)

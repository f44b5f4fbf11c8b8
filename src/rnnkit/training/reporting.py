"""What the trainer reports: a row of metrics.jsonl per logged step, the progress line, and
the message of a diverged run.

A training row holds at least step, epoch, loss, lr, grad_norm (‖g‖ before clipping),
grad_norm_clipped (after: min(‖g‖, θ₀) with clip_norm θ₀), the predictions in the update and
their rate, both named by the objective's unit (`Objective.unit`): tokens and tokens_per_s for
a language model, examples and examples_per_s for a classifier. The rate is measured over the
time spent in updates since the previous row (evaluation and checkpoints excluded).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnkit.errors import TrainingDiverged
from rnnkit.training.config import TrainerConfig
from rnnkit.training.loop_state import LoopState
from rnnkit.training.update import UpdateStats

ABBREVIATIONS = {"token": "tok", "example": "ex"}  # unit -> its short form in "12 ex/s"


def train_row(
    loop: LoopState, stats: UpdateStats, seconds: float, tokens: int, unit: str = "token"
) -> dict[str, Any]:
    """The metrics.jsonl row of the update just made (`seconds`, `tokens` since the last row).

    `unit` is the objective's: the counts go in "<unit>s" and "<unit>s_per_s".
    """
    return {
        "kind": "train",
        "step": loop.step,
        "epoch": loop.epoch,
        "loss": stats.loss,
        "lr": stats.lr,
        "grad_norm": stats.grad_norm,
        "grad_norm_clipped": stats.grad_norm_clipped,
        f"{unit}s": stats.tokens,
        f"{unit}s_per_s": tokens / max(seconds, 1e-9),
        "skipped": loop.skipped,
    }


def progress_info(row: dict[str, Any], unit: str = "token") -> str:
    """The text beside the progress bar (and of a log line without a terminal).

    >>> progress_info({"epoch": 1, "loss": 2.5, "lr": 0.001, "grad_norm": 0.5,
    ...                "tokens_per_s": 12345.6})
    'epoch 1  loss 2.5000  lr 0.001  ‖g‖ 0.5  12,346 tok/s'
    >>> progress_info({"epoch": 0, "loss": 0.69, "lr": 0.002, "grad_norm": 1.25,
    ...                "examples_per_s": 812.4}, "example")
    'epoch 0  loss 0.6900  lr 0.002  ‖g‖ 1.25  812 ex/s'
    """
    rate = row[f"{unit}s_per_s"]
    return (
        f"epoch {row['epoch']}  loss {row['loss']:.4f}  lr {row['lr']:.3g}  "
        f"‖g‖ {row['grad_norm']:.3g}  {rate:,.0f} {ABBREVIATIONS.get(unit, unit)}/s"
    )


def diverged(
    step: int, problem: str, loop: LoopState, config: TrainerConfig, last: Path | None
) -> TrainingDiverged:
    """The error of a run whose loss or gradient became nan/inf at update `step`."""
    given_up = (
        f" after skipping {loop.skipped} updates (max_skipped={config.max_skipped})"
        if config.on_nonfinite == "skip"
        else ""
    )
    checkpoint = last or "none (no checkpoint had been written)"
    limit = ""
    if "divergence limit" in problem:
        limit = (
            f" (--divergence-ratio {config.divergence_ratio:g} × the first update's loss "
            f"{loop.first_loss:.4g}; raise it, or pass --divergence-ratio none, if such a loss "
            "is expected)"
        )
    return TrainingDiverged(
        f"training diverged at step {step}{given_up}: {problem}{limit}. Last good checkpoint: "
        f"{checkpoint}, left as it was. Lower --lr, set --clip-norm, or pass --on-nonfinite skip."
    )


def nonfinite_parameters(model: Any) -> list[str]:
    """Names of the parameters holding a nan or ±inf."""
    return [name for name, param in model.named_parameters() if not bool(param.isfinite().all())]

"""Trainer: the training loop shared by every rnnkit model and task.

One call of `fit` repeats, until `max_steps` updates, `max_epochs` passes, early stopping or a
SIGINT/SIGTERM:

    update      full BPTT over A micro-batches, or one truncated-BPTT window  (update.py, tbptt.py)
    log         a row of metrics.jsonl (and of `history`) every `log_every` steps; the progress
                bar or a log line
    evaluate    every `eval_every` steps: mean validation loss and task metrics, early stopping;
                with optimizer "ntasgd", the trigger of the weight average (averaging.py), which
                evaluations and checkpoints then use (`average_from`: after a fixed update)
    checkpoint  every `checkpoint_every` steps, at the best evaluation, and at the end

The model is any `nn.Module`; the Objective (objective.py) says how a batch becomes a loss. A
seeded CPU run is bit-identical from start to end, and a run resumed from a checkpoint
continues exactly as the uninterrupted run would have (snapshot.py says what is saved, from
the pieces the trainer hands it). `fit` returns the logged rows as a `History` (history.py),
which a resumed run starts from the rows of metrics.jsonl up to its checkpoint.

References:
    Karpathy, minGPT `mingpt/trainer.py` (a small trainer with callbacks), https://github.com/karpathy/minGPT
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from rnnkit.config import config_to_dict
from rnnkit.console import make_progress
from rnnkit.errors import ConfigError, TrainingDiverged
from rnnkit.training import snapshot
from rnnkit.training.averaging import observe_for_averaging, scheduled_start
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.config import TrainerConfig
from rnnkit.training.data import BatchSource
from rnnkit.training.distributed import (
    DistributedContext,
    all_reduce_sum,
    barrier,
    current_context,
    no_sync,
    wrap_model,
)
from rnnkit.training.evaluation import evaluate_model, observe_metric, should_stop
from rnnkit.training.history import History
from rnnkit.training.loop_state import LoopState
from rnnkit.training.objective import Objective
from rnnkit.training.precision import resolve_precision
from rnnkit.training.reporting import diverged, progress_info, train_row
from rnnkit.training.runs import CONFIG_FILE, MetricsLog, read_history, write_run_config
from rnnkit.training.schedules import warmup_warning
from rnnkit.training.signals import StopSignals
from rnnkit.training.state_dicts import nonfinite_parameters
from rnnkit.training.tbptt import plan_windows, run_window
from rnnkit.training.tensor_trees import detach_state, to_device
from rnnkit.training.update import Updater, UpdateStats

logger = logging.getLogger(__name__)

Callback = Callable[["Trainer", dict[str, Any]], None]


class FitResult(NamedTuple):
    """How `Trainer.fit` ended."""

    step: int  # updates made in total
    reason: str  # "max_steps", "max_epochs", "early_stopping" or "signal"
    best_metric: float | None  # best value of `config.monitor`
    checkpoint: Path | None  # the last checkpoint written
    signal: int | None = None  # the signal that stopped the run
    history: History | None = None  # every logged row, a resumed run's earlier ones included


class Trainer:
    """Trains `model` on `objective` over `train_data` as `config` says.

    Args:
        model: any module; moved to the configured device (and wrapped in DDP when W > 1).
        objective: computes the loss of a batch (`rnnkit.training.Objective`).
        train_data: a resumable batch source: `rnnkit.training.BatchSource`, or any object
            with `next_batch()`, `epoch`, `state_dict()` and `load_state_dict(state)`.
        config: the trainer's options.
        eval_data: re-iterable batches for evaluation (a list, or a BatchSource).
        run_dir: where config.json, metrics.jsonl and checkpoints/ go; None writes nothing.
        run_config: task, task config and data, recorded in config.json and checkpoints.
        context: the process group context; by default read from torch.distributed.
        callbacks: called as `callback(trainer, row)` after every update.
        handle_signals: stop cleanly on SIGINT/SIGTERM (main thread only).
    """

    def __init__(
        self,
        model: nn.Module,
        objective: Objective,
        train_data: BatchSource,
        *,
        config: TrainerConfig,
        eval_data: Iterable[Any] | None = None,
        run_dir: str | Path | None = None,
        run_config: dict[str, Any] | None = None,
        context: DistributedContext | None = None,
        callbacks: Sequence[Callback] = (),
        handle_signals: bool = True,
    ) -> None:
        needs_eval = config.early_stopping_patience > 0 or config.schedule == "plateau"
        if (needs_eval or config.optimizer == "ntasgd") and eval_data is None:
            raise ConfigError(
                "early stopping, the plateau schedule and NT-ASGD need evaluation data"
            )
        self.config = config
        self.context = context or current_context(config.device)
        self.device = self.context.device
        self.model = model.to(self.device)
        self.train_model = wrap_model(self.model, self.context)
        self.objective, self.train_data, self.eval_data = objective, train_data, eval_data
        precision = resolve_precision(config.precision, self.device)
        self.updater = Updater(self.model, config, self.context, precision)
        self.loop = LoopState()
        self.carried: Any = None  # detached recurrent state passed to the next batch
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.run_config = {**(run_config or {}), "trainer": config_to_dict(config)}
        self.run_config["model"] = snapshot.model_summary(self.model)
        self.run_config["objective"] = {"unit": objective.unit, "loss": objective.loss_label}
        self.checkpoints = None if self.run_dir is None else CheckpointManager(
            self.run_dir / "checkpoints", keep_last=config.keep_last, keep_best=config.keep_best
        )  # fmt: skip
        self.metrics_log = MetricsLog(self.run_dir if self.context.is_main else None)
        self.history = History()  # the rows written to metrics.jsonl, on every process
        self.last_checkpoint: Path | None = None
        self.last_metrics: dict[str, float] = {}
        self.callbacks = list(callbacks)
        self.handle_signals = handle_signals
        self._batch: Any = None  # batch being cut into truncated-BPTT windows (on the device)
        self._windows: list = []
        self._interval = (0.0, 0)  # (seconds in updates, tokens) since the last log row
        self.resumed = False  # set by load_checkpoint; fit then calls begin_continuation

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        """The torch optimizer."""
        return self.updater.optimizer

    def fit(self) -> FitResult:
        """Train until a stop condition; evaluate and checkpoint at the end."""
        if self.run_dir is not None and self.context.is_main and not self._has_run_config():
            write_run_config(self.run_dir, self.run_config)
        if self.resumed:
            snapshot.begin_continuation(
                self.loop, self.checkpoints, self.metrics_log, is_main=self.context.is_main
            )
            self.resumed = False
        warning = warmup_warning(self.config)
        if warning and self.context.is_main and self.loop.step < self.config.max_steps:
            logger.warning(warning)
        self.model.train()
        with (
            StopSignals(self.handle_signals) as signals,
            make_progress(quiet=self.config.quiet or not self.context.is_main) as progress,
        ):
            bar = progress.add_task(
                "train", total=self.config.max_steps, completed=self.loop.step, info=""
            )
            reason, signum = self._run(signals, lambda row: self._show(progress, bar, row))
        evaluated = self.loop.last_eval_step == self.loop.step
        if reason != "signal" and self.eval_data is not None and not evaluated:
            self._evaluate_and_track()
        self.save_checkpoint()
        return FitResult(
            self.loop.step,
            reason,
            self.loop.best_metric,
            self.last_checkpoint,
            signum,
            self.history,
        )

    def _has_run_config(self) -> bool:
        return self.run_dir is not None and (self.run_dir / CONFIG_FILE).exists()

    def _run(self, signals: StopSignals, show: Callable[[dict], None]) -> tuple[str, int | None]:
        while True:
            reason, signum = self._stop_reason(signals)
            if reason is not None:
                return reason, signum
            started = time.perf_counter()
            stats = self._tbptt_update() if self.config.tbptt_k1 else self._full_update()
            seconds, tokens = self._interval
            self._interval = (seconds + time.perf_counter() - started, tokens + stats.tokens)
            if stats.problem is not None:
                self._on_problem(stats)
            elif self._after_update(stats, show):
                return "early_stopping", None

    def _after_update(self, stats: UpdateStats, show: Callable[[dict], None]) -> bool:
        """Count, log, call back, evaluate and checkpoint; True when early stopping says stop."""
        config, loop = self.config, self.loop
        loop.step += 1
        loop.tokens += stats.tokens
        if loop.first_loss is None:
            loop.first_loss = stats.loss
        if scheduled_start(loop, config):  # average_from: w̄ over the updates after this one
            self.updater.start_averaging()
            self._log({"kind": "averaging", "step": loop.step})
        row = train_row(loop, stats, *self._interval, self.objective.unit)
        if loop.step % config.log_every == 0 or loop.step == config.max_steps:
            self._log(row)
            show(row)
            self._interval = (0.0, 0)
        for callback in self.callbacks:
            callback(self, row)
        stop = False
        if config.eval_every and loop.step % config.eval_every == 0 and self.eval_data is not None:
            stop = self._evaluate_and_track()
        if config.checkpoint_every and loop.step % config.checkpoint_every == 0:
            self.save_checkpoint()
        return stop

    def _stop_reason(self, signals: StopSignals) -> tuple[str | None, int | None]:
        if self.loop.step >= self.config.max_steps:
            return "max_steps", None
        received = float(signals.received or 0)
        if self.context.is_distributed:  # every process stops at the same step
            received = max(all_reduce_sum([received], self.context)[0], 0.0)
        if received:
            return "signal", signals.received or int(received)
        epochs = self.config.max_epochs
        if epochs is not None and self.train_data.epoch >= epochs and not self._windows:
            return "max_epochs", None
        return None, None

    def _full_update(self) -> UpdateStats:
        """One update of full BPTT over `accumulate_steps` micro-batches."""
        micro_batches = self.config.accumulate_steps
        self.updater.begin(micro_batches)
        for micro in range(micro_batches):
            self.loop.epoch = self.train_data.epoch
            batch = to_device(self.train_data.next_batch(), self.device)
            with no_sync(self.train_model, micro < micro_batches - 1):
                state = self.carried if self.objective.carry_state else None
                with self.updater.autocast():
                    result = self.objective.loss(self.train_model, batch, state)
                self.updater.backward(result.loss, result.num_tokens)
            self.carried = detach_state(result.state) if self.objective.carry_state else None
        stats = self.updater.finish(self.loop.step, self._loss_limit())
        if stats.problem is not None:
            self.carried = None  # the recurrent state restarts after a failed update
        return stats

    def _loss_limit(self) -> float | None:
        """L_max = divergence_ratio × L_1 (update.py); None before the first update or when off."""
        ratio, first = self.config.divergence_ratio, self.loop.first_loss
        return None if ratio is None or first is None else ratio * first

    def _next_tbptt_batch(self) -> None:
        self.loop.pending_position = self.train_data.state_dict()
        self.loop.epoch = self.train_data.epoch
        self._batch = to_device(self.train_data.next_batch(), self.device)
        if not self.objective.carry_state:
            self.carried = None
        num_steps = self.objective.time_length(self._batch)
        self._windows = plan_windows(num_steps, self.config.tbptt_k1 or 1, self.config.k2 or 1)

    def _tbptt_update(self) -> UpdateStats:
        """One update of truncated BPTT: the next k1-step window of the current batch."""
        if not self._windows:
            self._next_tbptt_batch()
            self.loop.pending_window = 0
        window = self._windows[self.loop.pending_window]
        self.updater.begin(1)
        with self.updater.autocast():
            result, next_state = run_window(
                self.objective, self.train_model, self._batch, self.carried, window
            )
        self.updater.backward(result.loss, result.num_tokens)
        stats = self.updater.finish(self.loop.step, self._loss_limit())
        self.carried = next_state if stats.problem is None else None
        self.loop.pending_window += 1
        if self.loop.pending_window == len(self._windows):
            self._batch, self._windows = None, []
            self.loop.pending_position, self.loop.pending_window = None, 0
        return stats

    def _on_problem(self, stats: UpdateStats) -> None:
        """Skip the update (on_nonfinite="skip", within max_skipped) or raise TrainingDiverged."""
        step, config = self.loop.step + 1, self.config
        self._log({"kind": "nonfinite", "step": step, "problem": stats.problem})
        if config.on_nonfinite == "skip" and self.loop.skipped < config.max_skipped:
            self.loop.skipped += 1
            logger.warning(
                "step %d: %s; update skipped (%d so far)", step, stats.problem, self.loop.skipped
            )
            return
        raise diverged(step, stats.problem or "", self.loop, config, self.last_checkpoint)

    def _log(self, row: dict[str, Any]) -> None:
        """A row of metrics.jsonl (process 0) and of `history` (every process)."""
        self.metrics_log.write(row)
        self.history.append(row)

    def _show(self, progress: Any, bar: Any, row: dict[str, Any]) -> None:
        if not self.context.is_main:
            return
        info = progress_info(row, self.objective.unit)
        progress.update(bar, completed=row["step"], info=info)
        if progress.disable and not self.config.quiet:
            logger.info("step %d/%d  %s", row["step"], self.config.max_steps, info)

    def evaluate(self) -> dict[str, float]:
        """The objective's metrics on `eval_data`, named `val_<metric>`; {} without eval data.

        Once NT-ASGD averages, the averaged weights w̄ are evaluated.
        """
        if self.eval_data is None:
            return {}
        average = self.updater.average
        return evaluate_model(
            self.model if average is None else average.module,
            self.objective,
            self.eval_data,
            context=self.context,
            autocast=self.updater.autocast(),
        )

    def _evaluate_and_track(self) -> bool:
        """Evaluate, log, keep the best checkpoint, feed the plateau schedule; True: stop early."""
        loop = self.loop
        metrics = self.evaluate()
        loop.last_eval_step, self.last_metrics = loop.step, metrics
        self._log({"kind": "eval", "step": loop.step, "epoch": loop.epoch, **metrics})
        if observe_for_averaging(loop, metrics, self.config):
            self.updater.start_averaging()
            self._log({"kind": "averaging", "step": loop.step})
        improved = observe_metric(loop, metrics, self.config)
        self.updater.schedule.observe(metrics[self.config.monitor])
        if improved and self.config.keep_best:  # after every state change of this evaluation
            self.save_checkpoint(is_best=True)
        if self.context.is_main and not self.config.quiet:
            shown = "  ".join(f"{key} {value:.4f}" for key, value in metrics.items())
            logger.info("step %d  %s", loop.step, shown)
        return should_stop(loop, self.config)

    def save_checkpoint(self, *, is_best: bool = False) -> Path | None:
        """Write the checkpoint of the current step (process 0); None without a run directory."""
        if self.checkpoints is None:
            return None
        path = self.checkpoints.root / f"step-{self.loop.step:08d}"
        broken = nonfinite_parameters(self.model)
        if broken:  # never write a checkpoint that cannot be trained or used
            last = self.last_checkpoint or "none (no checkpoint had been written)"
            raise TrainingDiverged(
                f"after step {self.loop.step} the parameters {', '.join(broken[:5])} hold nan or"
                f" inf, so {path} was not written. Last good checkpoint: {last}, left as it was."
                " Lower --lr or set --clip-norm."
            )
        if self.context.is_main:
            tensors, state = snapshot.capture(
                model=self.model,
                updater=self.updater,
                loop=self.loop,
                carried=self.carried,
                data_position=self.train_data.state_dict(),
                run_config=self.run_config,
                metrics=self.last_metrics,
            )
            path = self.checkpoints.save(self.loop.step, tensors, state, is_best=is_best)
            self.metrics_log.commit()  # rows held since a resume from an older checkpoint
        barrier(self.context)
        self.last_checkpoint = path
        return path

    def load_checkpoint(self, path: str | Path | None = None) -> Path:
        """Restore everything from a checkpoint (default: the run's latest) to continue exactly.

        The history starts again from the rows of metrics.jsonl up to the checkpoint's step;
        `fit` then calls `snapshot.begin_continuation`, which sets the later ones aside.
        """
        checkpoint = snapshot.find_checkpoint(
            None if path is None else Path(path), self.checkpoints
        )
        with snapshot.malformed_entries(checkpoint.path):
            restored = snapshot.restore(
                checkpoint,
                model=self.model,
                updater=self.updater,
                run_config=self.run_config,
                device=self.device,
            )
            self.loop, self.carried = restored.loop, restored.carried
            self._restore_data(restored.data_position)
            snapshot.set_all_rng_states(restored.rng)  # last: nothing may draw after this
        self.history = read_history(self.run_dir, self.loop.step)
        self.last_checkpoint = checkpoint.path
        self.resumed = True  # `begin_continuation` when it trains on; nothing is deleted here
        return checkpoint.path

    def _restore_data(self, position: dict[str, Any]) -> None:
        """Put the data source back; re-fetch a batch whose truncated-BPTT windows were under way.

        The batch is fetched again from the position it was taken at (`loop.pending_position`)
        and cut into the same windows; the window index and the carried state stay as restored.
        """
        self._batch, self._windows = None, []
        if self.loop.pending_position is not None:
            window, carried = self.loop.pending_window, self.carried
            self.train_data.load_state_dict(self.loop.pending_position)
            self._next_tbptt_batch()
            self.loop.pending_window, self.carried = window, carried
        self.train_data.load_state_dict(position)

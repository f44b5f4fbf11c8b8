"""One optimizer update: forward, backward, token weighting, clipping, the nan/inf check, the step.

An update of full BPTT sums A micro-batches (gradient accumulation); an update of truncated
BPTT is one window (`tbptt.run_window`). Both end in `finish`:

    L = Σ_m n_m L_m / Σ_m n_m                token-weighted mean over micro-batches and processes
    g ← ∂L/∂θ                                (backward of n_m·L_m, then × W/N after DDP's mean)
    report ‖g‖; clip (value, then norm); check ‖g‖ and L are finite, and L ≤ L_max
    η_t from the schedule; θ ← optimizer step (through the GradScaler for fp16)
    NT-ASGD once averaging has begun: w̄ ← w̄ + (θ − w̄) / (N + 1)   (averaging.py)

where n_m is the number of predictions of micro-batch m, N = Σ n_m over all processes and W the
number of processes (DDP averages gradients, so W/N turns the averaged sums into the mean).
L_max = divergence_ratio × L_1, the first update's loss: a learning rate far too large sends L
to huge but finite values (a tiny charlm, SGD at η = 1e30: L ≈ 2e27 at the second update,
`python -m bench.reliability.numerics --cases "charlm sgd lr 1e30"`), which the nan/inf check
alone lets through.

References:
    https://pytorch.org/docs/stable/notes/amp_examples.html#gradient-accumulation
"""

from __future__ import annotations

import contextlib
import math
from typing import NamedTuple

from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel

from rnnkit.training.averaging import start_average
from rnnkit.training.clipping import clip_grad_norm, clip_grad_value, global_grad_norm
from rnnkit.training.config import TrainerConfig
from rnnkit.training.distributed import DistributedContext, all_reduce_sum
from rnnkit.training.precision import Precision, autocast, make_scaler
from rnnkit.training.schedules import LRSchedule, build_optimizer


class UpdateStats(NamedTuple):
    """What one update did; `problem` is set (and nothing was changed) when it went nan/inf."""

    loss: float  # token-weighted mean loss L
    tokens: int  # N, predictions over all micro-batches and processes
    grad_norm: float  # ‖g‖ before clipping
    grad_norm_clipped: float  # ‖g‖ after clipping
    lr: float  # η_t used
    problem: str | None = None  # "loss is nan", "gradient norm is inf", …


class Updater:
    """Owns the optimizer, schedule and GradScaler, and turns summed losses into updates."""

    def __init__(
        self,
        model: nn.Module,
        config: TrainerConfig,
        context: DistributedContext,
        precision: Precision,
    ) -> None:
        self.model = model  # the unwrapped module (its parameters)
        self.config = config
        self.context = context
        self.precision = precision
        self.optimizer = build_optimizer(model.parameters(), config)  # NT-ASGD steps with SGD
        self.average: AveragedModel | None = None  # NT-ASGD's w̄ once averaging has begun
        self.schedule = LRSchedule(config)
        self.scaler = make_scaler(precision, context.device)
        self.weight_by_tokens = False  # set by `begin`
        self._loss_sum = 0.0
        self._tokens = 0
        self._nonfinite = False

    def start_averaging(self) -> AveragedModel:
        """Begin NT-ASGD's average of the iterates from the next update on (`averaging.py`)."""
        self.average = start_average(self.model)
        return self.average

    def autocast(self) -> contextlib.AbstractContextManager:
        """The autocast context of the run's precision."""
        return autocast(self.precision, self.context.device)

    def begin(self, micro_batches: int) -> None:
        """Start an update of `micro_batches` forward/backward passes."""
        self.optimizer.zero_grad(set_to_none=True)
        self.weight_by_tokens = micro_batches > 1 or self.context.is_distributed
        self._loss_sum, self._tokens, self._nonfinite = 0.0, 0, False

    def backward(self, loss: Tensor, num_tokens: int) -> float:
        """Backpropagate a micro-batch's mean loss L_m (n_m·L_m when weighting); returns L_m."""
        value = float(loss.detach())
        self._nonfinite |= not math.isfinite(value)
        if self.weight_by_tokens:
            loss = loss * num_tokens  # n_m · L_m
        if self.scaler is not None:
            loss = self.scaler.scale(loss)  # s · loss
        loss.backward()
        self._loss_sum += value * num_tokens
        self._tokens += num_tokens
        return value

    def finish(self, step: int, loss_limit: float | None = None) -> UpdateStats:
        """Average, clip, check and apply the gradients of update `step` (0-based).

        Nothing is applied when L or ‖g‖ is nan/inf or L > `loss_limit` (L_max); `problem`
        then says why.
        """
        loss_sum, tokens, nonfinite = all_reduce_sum(
            [self._loss_sum, float(self._tokens), float(self._nonfinite)], self.context
        )
        tokens_int = int(tokens)
        loss = loss_sum / max(tokens_int, 1)  # L
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)  # g ← g / s
        if self.weight_by_tokens and tokens_int > 0:
            factor = self.context.world_size / tokens_int  # W / N
            for param in self.model.parameters():
                if param.grad is not None:
                    param.grad.mul_(factor)
        norm_before, norm_after = self._clip()
        lr = self.schedule.apply(self.optimizer, step)  # η_t
        problem = _problem(loss, bool(nonfinite), norm_before, self.scaler is None, loss_limit)
        if problem is not None:
            self.optimizer.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.update()
            return UpdateStats(loss, tokens_int, norm_before, norm_after, lr, problem)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)  # skipped by the scaler if g overflowed
            self.scaler.update()
        else:
            self.optimizer.step()
        if self.average is not None:
            self.average.update_parameters(self.model)  # w̄ over θ_{T+1} … θ_k
        return UpdateStats(loss, tokens_int, norm_before, norm_after, lr)

    def _clip(self) -> tuple[float, float]:
        """Value clipping, then global-norm clipping; ‖g‖ before and after both."""
        params = list(self.model.parameters())
        norm_before = global_grad_norm(params)
        if self.config.clip_value is not None:
            clip_grad_value(params, self.config.clip_value)
        if self.config.clip_norm is not None:
            clip_grad_norm(params, self.config.clip_norm)
        if self.config.clip_value is None and self.config.clip_norm is None:
            return norm_before, norm_before
        return norm_before, global_grad_norm(params)


def _problem(
    loss: float, nonfinite: bool, grad_norm: float, check_norm: bool, loss_limit: float | None
) -> str | None:
    """Why an update must not be applied, or None (the GradScaler handles fp16's inf ‖g‖)."""
    if nonfinite or not math.isfinite(loss):
        return f"loss is {loss}"
    if check_norm and not math.isfinite(grad_norm):
        return f"gradient norm is {grad_norm}"
    if loss_limit is not None and loss > loss_limit:
        return f"loss {loss:.4g} is over the divergence limit {loss_limit:.4g}"
    return None

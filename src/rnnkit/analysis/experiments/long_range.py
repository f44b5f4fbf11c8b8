"""Training on the long-range problems: a recurrent layer read out at its last step.

The model is one rnnkit.RNN / LSTM / GRU layer, then a linear readout of h_T: one output (the
sum) for the adding problem, four logits for the temporal-order problem
(`rnnkit.datasets.long_range`). Fresh batches are drawn at every step; a fixed test set,
drawn from its own seed, decides success:

    adding           test MSE < threshold (default 0.01; predicting the mean scores 1/6)
    temporal order   test accuracy ≥ threshold (default 0.99, the "< 1 % error" of
                     Pascanu et al. 2013; chance is 0.25)

The variants of the `tasks` experiment: "rnn" (plain Elman, tanh), "rnn_clip" (global gradient
norm clipped to a threshold, Pascanu et al. 2013 algorithm 1), "rnn_clip_omega" (clipping plus
the regulariser λΩ, `rnnkit.analysis.PascanuObjective`), "lstm", "gru".

References:
    https://arxiv.org/abs/1211.5063 (Pascanu, Mikolov & Bengio 2013)
    https://arxiv.org/abs/1804.11188 (Tallec & Ollivier 2018, chrono initialisation)
    https://doi.org/10.1162/neco.1997.9.8.1735 (Hochreiter & Schmidhuber 1997)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.analysis.experiments.gradient_config import VARIANTS
from rnnkit.analysis.regulariser import PascanuObjective
from rnnkit.datasets.long_range import CLASSES, LongRangeBatch, input_size, make_batch
from rnnkit.errors import ConfigError
from rnnkit.layers import GRU, LSTM, RNN
from rnnkit.training import Objective, StepResult
from rnnkit.training.clipping import clip_grad_norm

LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


class LastStepModel(nn.Module):
    """x (B, T, F) → one rnnkit layer → readout of h_T: (B, 1) sum or (B, 4) class logits.

    An LSTM gets the chrono initialisation of Tallec & Ollivier (2018) for dependencies up to
    `length` steps: b_f = log u, u ~ U[1, T − 1], b_i = −b_f, the other biases 0 (torch.nn's
    initial weights unchanged). With torch's default biases (2,000-3,000 updates) and with a
    forget-gate bias of 1 (8,000), the LSTM stayed on the adding problem's mean-predictor
    plateau at T = 50 and 100 (torch.nn.LSTM alike); with chrono biases it solved T = 100 in
    about 1,000 updates (docs/GRADIENTS.md).
    """

    def __init__(self, kind: str, problem: str, hidden_size: int, length: int) -> None:
        super().__init__()
        outputs = 1 if problem == "adding" else len(CLASSES)
        self.recurrent = LAYERS[kind](input_size(problem), hidden_size, batch_first=True)
        self.readout = nn.Linear(hidden_size, outputs)
        if kind == "lstm":
            H = hidden_size
            forget = torch.empty(H).uniform_(1.0, max(length - 1, 2)).log()  # b_f = log u
            with torch.no_grad():  # torch's gate order (i, f, g, o)
                self.recurrent.bias_ih_l0.zero_()
                self.recurrent.bias_hh_l0.zero_()
                self.recurrent.bias_ih_l0[H : 2 * H] = forget
                self.recurrent.bias_ih_l0[:H] = -forget  # b_i = −b_f

    def forward(self, inputs: Tensor) -> Tensor:
        """The readout of the last hidden state."""
        outputs, _ = self.recurrent(inputs)  # (B, T, H)
        return self.readout(outputs[:, -1])


def problem_loss(problem: str, prediction: Tensor, targets: Tensor) -> Tensor:
    """Mean squared error of the sum (adding) or cross-entropy of the order (temporal order)."""
    if problem == "adding":
        return F.mse_loss(prediction.squeeze(-1), targets)
    return F.cross_entropy(prediction, targets)


class LastStepObjective(Objective):
    """The loss of one batch of a long-range problem, for the trainer or the loop below."""

    unit = "sequence"  # one target per sequence, read at its last step

    def __init__(self, problem: str) -> None:
        self.problem = problem
        if problem == "adding":  # F.mse_loss of the sum
            self.loss_name, self.loss_unit = "squared error", "target units²"

    def loss(self, model: nn.Module, batch: Any, state: Any, *, loss_from: int = 0) -> StepResult:
        """Loss of the readout at the last step; batch = (inputs, targets), no state."""
        inputs, targets = batch
        prediction = model(inputs)
        return StepResult(problem_loss(self.problem, prediction, targets), len(targets))


@dataclass(frozen=True, kw_only=True)
class TrainSettings:
    """How one model is trained on one problem."""

    problem: str
    length: int  # T
    variant: str  # a key of VARIANTS
    hidden_size: int = 50  # H
    batch_size: int = 50  # B
    max_steps: int = 4000  # updates at most
    learning_rate: float = 3e-3  # Adam
    max_grad_norm: float = 1.0  # clipping threshold of the *_clip variants
    omega_weight: float = 2.0  # λ of the *_omega variant
    eval_every: int = 100  # updates between test evaluations
    eval_size: int = 1000  # test sequences
    adding_threshold: float = 0.01  # success: test MSE below this
    accuracy_threshold: float = 0.99  # success: test accuracy at least this
    seed: int = 0

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ConfigError(f"variant must be one of {sorted(VARIANTS)}; got {self.variant!r}.")


@dataclass(frozen=True, kw_only=True)
class TrainOutcome:
    """How a run ended: solved or not, after how many updates, with which test metric."""

    problem: str
    length: int
    variant: str
    seed: int
    solved: bool
    steps: int  # updates made
    metric: float  # last test MSE (adding) or accuracy (temporal order); NaN if diverged
    diverged: bool
    seconds: float


def evaluate_metric(problem: str, model: nn.Module, test: LongRangeBatch) -> float:
    """Test MSE (adding) or accuracy (temporal order), in chunks of 500, without gradients."""
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(chunk) for chunk in test.inputs.split(500)])
    model.train()
    if problem == "adding":
        return float(F.mse_loss(predictions.squeeze(-1), test.targets))
    return float((predictions.argmax(-1) == test.targets).float().mean())


def is_solved(settings: TrainSettings, metric: float) -> bool:
    """Whether a test metric meets the success criterion of the problem."""
    if settings.problem == "adding":
        return metric < settings.adding_threshold
    return metric >= settings.accuracy_threshold


def train_model(
    settings: TrainSettings,
    *,
    on_step: Callable[[int, nn.Module], None] | None = None,
    stop_when_solved: bool = True,
) -> tuple[nn.Module, TrainOutcome]:
    """Train one variant on one problem with Adam; `on_step(step, model)` before each update."""
    start = time.perf_counter()
    layer, clip, omega = VARIANTS[settings.variant]
    torch.manual_seed(settings.seed)  # the model's initial weights
    model = LastStepModel(layer, settings.problem, settings.hidden_size, settings.length)
    objective: Objective = LastStepObjective(settings.problem)
    if omega:
        objective = PascanuObjective(objective, settings.omega_weight)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    batches = torch.Generator().manual_seed(settings.seed + 1)
    test = make_batch(
        settings.problem, settings.eval_size, settings.length,
        torch.Generator().manual_seed(10_000 + settings.seed),
    )  # fmt: skip
    metric, solved, diverged, step = math.nan, False, False, 0
    while step < settings.max_steps and not (solved and stop_when_solved):
        if on_step is not None:
            on_step(step, model)
        batch = make_batch(settings.problem, settings.batch_size, settings.length, batches)
        loss = objective.loss(model, batch, None).loss
        if not torch.isfinite(loss):
            diverged, metric = True, math.nan
            break
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            clip_grad_norm(model.parameters(), settings.max_grad_norm)
        optimizer.step()
        step += 1
        if step % settings.eval_every == 0 or step == settings.max_steps:
            metric = evaluate_metric(settings.problem, model, test)
            solved = is_solved(settings, metric)
    outcome = TrainOutcome(
        problem=settings.problem, length=settings.length, variant=settings.variant,
        seed=settings.seed, solved=solved, steps=step, metric=metric, diverged=diverged,
        seconds=time.perf_counter() - start,
    )  # fmt: skip
    return model, outcome


def train_quietly(settings: TrainSettings) -> TrainOutcome:
    """`train_model` for a worker process: one thread, the outcome only."""
    torch.set_num_threads(1)
    return train_model(settings)[1]


__all__ = [
    "VARIANTS",
    "LastStepModel",
    "LastStepObjective",
    "TrainOutcome",
    "TrainSettings",
    "evaluate_metric",
    "is_solved",
    "problem_loss",
    "train_model",
    "train_quietly",
]

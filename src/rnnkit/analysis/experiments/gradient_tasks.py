"""The `tasks` and `heatmap` experiments: long-range problems solved or not, and why.

`tasks` trains RNN, RNN + clipping, RNN + clipping + Ω, LSTM and GRU on the adding and
temporal-order problems at several lengths over several seeds
(`rnnkit.analysis.experiments.long_range`) and reports the success rate: the share of seeds
whose model met the success criterion within the update budget. The literature's picture
(Hochreiter & Schmidhuber 1997; Pascanu et al. 2013, figure 7): the plain RNN fails as T grows,
clipping + Ω extends its reach, LSTM/GRU solve the lengths. report.md states what was measured
here, agreeing or not.

`heatmap` trains an RNN and an LSTM on one problem and, every few updates, measures
log₁₀ ‖∂L/∂h_t‖ on a fixed batch (`rnnkit.analysis.step_gradient_norms`): a map over
(time step × training step) that shows how far back the error signal reaches.

References:
    https://arxiv.org/abs/1211.5063 (Pascanu, Mikolov & Bengio 2013, section 4)
    https://doi.org/10.1162/neco.1997.9.8.1735 (Hochreiter & Schmidhuber 1997)
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rnnkit.analysis import step_gradient_norms
from rnnkit.analysis.experiments.gradient_config import HeatmapConfig, TasksConfig
from rnnkit.analysis.experiments.long_range import (
    TrainOutcome,
    TrainSettings,
    problem_loss,
    train_model,
    train_quietly,
)
from rnnkit.config import save_config
from rnnkit.datasets.long_range import make_batch

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class TasksResult:
    """Every run's outcome and the success rate per (problem, T, variant)."""

    outcomes: list[TrainOutcome]
    success: dict[tuple[str, int, str], float]
    files: list[Path] = field(default_factory=list)


def _load_finished(results: Path, planned: list[TrainSettings]) -> dict[int, TrainOutcome]:
    """Outcomes in results.jsonl for exactly these settings: index in `planned` → outcome."""
    if not results.exists():
        return {}
    wanted = {json.dumps(dataclasses.asdict(s), sort_keys=True): i for i, s in enumerate(planned)}
    finished: dict[int, TrainOutcome] = {}
    for line in results.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
            index = wanted.get(json.dumps(row["settings"], sort_keys=True))
            if index is not None:
                finished[index] = TrainOutcome(**row["outcome"])
        except (json.JSONDecodeError, KeyError, TypeError):
            logger.warning("skipping an unreadable line of %s (a run killed mid-write)", results)
    return finished


def _run_all(settings: list[TrainSettings], workers: int, results: Path) -> list[TrainOutcome]:
    """Train every setting not yet in `results`, appending each outcome as it finishes.

    Worker processes (spawned, one thread each) when workers > 1, longest sequences first. A
    killed experiment loses only its unfinished runs: rerun it with the same `--out`.
    """
    outcomes: dict[int, TrainOutcome] = _load_finished(results, settings)
    todo = sorted(set(range(len(settings))) - set(outcomes), key=lambda i: -settings[i].length)
    if outcomes:
        logger.info("%d of %d runs already in %s", len(outcomes), len(settings), results)
    with results.open("a", encoding="utf-8") as file:

        def record(index: int, outcome: TrainOutcome) -> None:
            outcomes[index] = outcome
            row = {
                "settings": dataclasses.asdict(settings[index]),
                "outcome": dataclasses.asdict(outcome),
            }
            file.write(json.dumps(row) + "\n")
            file.flush()
            logger.info("%s", outcome)

        if workers == 1:
            for index in todo:
                record(index, train_model(settings[index])[1])
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = {pool.submit(train_quietly, settings[i]): i for i in todo}
                for future in as_completed(futures):
                    record(futures[future], future.result())
    return [outcomes[i] for i in range(len(settings))]


def success_rates(outcomes: list[TrainOutcome]) -> dict[tuple[str, int, str], float]:
    """(problem, T, variant) → share of seeds solved."""
    groups: dict[tuple[str, int, str], list[bool]] = {}
    for outcome in outcomes:
        key = (outcome.problem, outcome.length, outcome.variant)
        groups.setdefault(key, []).append(outcome.solved)
    return {key: sum(solved) / len(solved) for key, solved in groups.items()}


def run_tasks(config: TasksConfig, out_dir: str | Path) -> TasksResult:
    """Train every run, write results.jsonl, tasks.png, report.md and config.json.

    results.jsonl gets one line per run as it finishes (its settings and outcome); runs already
    there with the same settings are not trained again, so an interrupted experiment resumes.
    """
    from rnnkit.analysis.plots import plot_panels  # matplotlib loads only here

    sized = config.sized()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    outcomes = _run_all(sized.settings(), sized.workers, results)
    success = success_rates(outcomes)
    plot = plot_panels(
        out / "tasks.png",
        list(sized.lengths),
        {
            problem.replace("_", " "): {
                variant: [success[(problem, T, variant)] for T in sized.lengths]
                for variant in sized.variants
            }
            for problem in sized.problems
        },
        title=f"Success rate over {sized.seeds} seed(s), ≤ {sized.max_steps} updates"
        " (curves shifted apart slightly)",
        xlabel="sequence length T",
        ylabel="success rate",
        ylim=(-0.08, 1.08),
        spread=0.015,  # equal rates of several variants stay visible
    )
    report = out / "report.md"
    report.write_text(tasks_report(sized, outcomes, success), encoding="utf-8")
    save_config(config, out / "config.json")
    return TasksResult(
        outcomes=outcomes, success=success, files=[plot, report, results, out / "config.json"]
    )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _runs(
    outcomes: list[TrainOutcome], problem: str, length: int, variant: str
) -> list[TrainOutcome]:
    return [o for o in outcomes if (o.problem, o.length, o.variant) == (problem, length, variant)]


def _progress_cell(runs: list[TrainOutcome]) -> str:
    """ "mean updates to success · mean last metric (k diverged)" for one table cell."""
    steps = _mean([o.steps for o in runs if o.solved])
    metric = _mean([o.metric for o in runs if not math.isnan(o.metric)])
    diverged = sum(o.diverged for o in runs)
    text = ("–" if math.isnan(steps) else f"{steps:.0f}") + f" · {metric:.3g}"
    return text + (f" ({diverged} diverged)" if diverged else "")


def tasks_report(
    config: TasksConfig, outcomes: list[TrainOutcome], success: dict[tuple[str, int, str], float]
) -> str:
    """report.md: setup, success-rate table, mean updates to success, and what it shows."""
    header = "| problem | T | " + " | ".join(config.variants) + " |"
    rule = "|---|---|" + "---|" * len(config.variants)
    lines = [
        "# tasks: long-range problems, success rate",
        "",
        f"Adam (lr {config.learning_rate:g}), B = {config.batch_size}, H = {config.hidden_size}, "
        f"at most {config.max_steps} updates, test on {config.eval_size} sequences every "
        f"{config.eval_every} updates; clipping at global norm {config.max_grad_norm:g}; "
        f"Ω weight λ = {config.omega_weight:g}. Success: adding test MSE < "
        f"{config.adding_threshold:g} (the mean predictor scores 0.167), temporal order test "
        f"accuracy ≥ {config.accuracy_threshold:g} (chance 0.25). {config.seeds} seed(s) each.",
        "",
        "## Success rate (solved / seeds)",
        "",
        header,
        rule,
    ]
    for problem in config.problems:
        for T in config.lengths:
            runs = [_runs(outcomes, problem, T, variant) for variant in config.variants]
            cells = [f"{sum(o.solved for o in each)}/{len(each)}" for each in runs]
            lines.append(f"| {problem} | {T} | " + " | ".join(cells) + " |")
    title = "## Mean updates to success (solved runs) · mean last test metric"
    lines += ["", title, "", header, rule]
    for problem in config.problems:
        for T in config.lengths:
            cells = [_progress_cell(_runs(outcomes, problem, T, v)) for v in config.variants]
            lines.append(f"| {problem} | {T} | " + " | ".join(cells) + " |")
    seconds = sum(o.seconds for o in outcomes)
    lines += ["", f"Training time: {seconds:.0f} s of one thread over {len(outcomes)} runs.", ""]
    return "\n".join(lines)


@dataclass(frozen=True, kw_only=True)
class HeatmapResult:
    """Per variant a (measurements, T) array of log₁₀ ‖∂L/∂h_t‖ and the training steps."""

    maps: dict[str, np.ndarray]
    training_steps: list[int]
    outcomes: dict[str, TrainOutcome]
    files: list[Path] = field(default_factory=list)


def _gradient_map(
    config: HeatmapConfig, variant: str
) -> tuple[np.ndarray, list[int], TrainOutcome]:
    """Train `variant`, measuring log₁₀ ‖∂L/∂h_t‖ on a fixed probe batch every `every` updates."""
    probe = make_batch(
        config.problem, config.batch_size, config.length,
        torch.Generator().manual_seed(20_000 + config.seed),
    )  # fmt: skip
    rows: list[np.ndarray] = []
    steps: list[int] = []

    def measure(step: int, model: nn.Module) -> None:
        if step % config.every:
            return

        def loss_fn(outputs: torch.Tensor) -> torch.Tensor:  # (B, T, H) → L of the readout
            return problem_loss(config.problem, model.readout(outputs[:, -1]), probe.targets)

        norms = step_gradient_norms(model.recurrent, probe.inputs, loss_fn)[0]  # (T,)
        rows.append(norms.double().log10().numpy())  # −inf where the norm underflowed to 0
        steps.append(step)

    settings = TrainSettings(
        problem=config.problem, length=config.length, variant=variant,
        hidden_size=config.hidden_size, batch_size=config.batch_size, max_steps=config.steps,
        learning_rate=config.learning_rate, eval_every=config.every, seed=config.seed,
    )  # fmt: skip
    model, outcome = train_model(settings, on_step=measure, stop_when_solved=False)
    measure(outcome.steps, model)  # after the last update
    return np.stack(rows), steps, outcome


def run_heatmap(config: HeatmapConfig, out_dir: str | Path) -> HeatmapResult:
    """Train each variant, plot heatmap.png and write report.md and config.json."""
    from rnnkit.analysis.plots import plot_heatmaps  # matplotlib loads only here

    sized = config.sized()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    maps, outcomes, steps = {}, {}, []
    for variant in sized.variants:
        maps[variant], steps, outcomes[variant] = _gradient_map(sized, variant)
    plot = plot_heatmaps(
        out / "heatmap.png",
        {variant.upper(): values for variant, values in maps.items()},
        row_values=steps,
        title=f"log₁₀ ‖∂L/∂h_t‖ while training, {sized.problem}, T = {sized.length}",
        xlabel="time step t (loss at t = T)",
        ylabel="training step",
        colorbar="log₁₀ ‖∂L/∂h_t‖",
    )
    report = out / "report.md"
    report.write_text(_heatmap_report(sized, maps, steps, outcomes), encoding="utf-8")
    save_config(config, out / "config.json")
    return HeatmapResult(
        maps=maps, training_steps=steps, outcomes=outcomes,
        files=[plot, report, out / "config.json"],
    )  # fmt: skip


def _decades(value: float) -> str:
    return f"{value:+.1f}" if math.isfinite(value) else "−∞"


def _heatmap_report(
    config: HeatmapConfig,
    maps: dict[str, np.ndarray],
    steps: list[int],
    outcomes: dict[str, TrainOutcome],
) -> str:
    """report.md: per variant, log₁₀ ‖∂L/∂h_1‖ − log₁₀ ‖∂L/∂h_T‖ at the first and last measure."""
    lines = [
        f"# heatmap: log₁₀ ‖∂L/∂h_t‖ over training ({config.problem}, T = {config.length})",
        "",
        f"Adam (lr {config.learning_rate:g}), B = {config.batch_size}, H = {config.hidden_size}; "
        f"measured on a fixed batch every {config.every} updates, {len(steps)} measurements.",
        "",
        f"| variant | decades from h_T to h_1, step 0 | at step {steps[-1]} | last test metric |",
        "|---|---|---|---|",
    ]
    for variant, values in maps.items():
        first, last = values[0, 0] - values[0, -1], values[-1, 0] - values[-1, -1]
        cells = [_decades(first), _decades(last), f"{outcomes[variant].metric:.4g}"]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "A value of −k means ‖∂L/∂h_1‖ is 10^k times smaller than ‖∂L/∂h_T‖: the error signal",
        "from the loss at step T has vanished by k decades on its way back to the first step.",
        "−∞: ‖∂L/∂h_1‖ underflowed to exactly 0 in float32 (below about 10⁻⁴⁵); such cells are",
        "blank in heatmap.png.",
        "",
    ]
    return "\n".join(lines)


__all__ = [
    "HeatmapConfig",
    "HeatmapResult",
    "TasksConfig",
    "TasksResult",
    "run_heatmap",
    "run_tasks",
    "success_rates",
    "tasks_report",
]

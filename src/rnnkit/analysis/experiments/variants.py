"""The LSTM variant study of Greff et al. 2017 at CPU size: which parts of the LSTM matter.

Each variant changes one thing in the baseline V, the LSTM with peepholes (`LSTMCell` options,
equations in `rnnkit.cells.lstm`):

    V     peephole LSTM              NIAF  c̃_t linear (no input activation)
    NIG   i_t = 1 (no input gate)    NOAF  h_t = o_t ⊙ c_t (no output activation)
    NFG   f_t = 1 (no forget gate)   NP    no peepholes (torch.nn.LSTM's cell)
    NOG   o_t = 1 (no output gate)   CIFG  i_t = 1 − f_t (coupled input and forget gates)
    FGR   full gate recurrence: the gates read i_{t-1}, f_{t-1}, o_{t-1} (9 H × H matrices)
    ReLU  the gates use ReLU instead of σ (the lecture's question: why σ?)
    GRU   the gated recurrent unit (Cho et al. 2014) of the same hidden size

Each is trained with the same update budget, optimiser and seeds on two tasks:

    charlm      next-character prediction on the embedded Tiny Shakespeare; metric: validation
                bits per character, bpc = (mean cross-entropy in nats) / ln 2 (lower is better)
    long_range  a long-range problem of the gradient experiments (`rnnkit.datasets.long_range`,
                the temporal-order problem by default); metric: test accuracy (higher is better;
                test MSE, lower is better, for the adding problem)

and `run_variant_study` writes variants.json (every run and the summary), variants.md (mean ±
std per variant and task, the difference to V and Welch's t statistic) and variants.png (each
seed a point over a box per variant). Greff et al. found, over 5,400 runs on speech, handwriting
and music: no variant clearly better than V; CIFG and NP not significantly worse; NFG and NOAF
significantly worse on every dataset; FGR no gain (worse on music).

References:
    https://arxiv.org/abs/1503.04069 (Greff, Srivastava, Koutník, Steunebrink & Schmidhuber
    2017, "LSTM: a search space odyssey", IEEE TNNLS 28(10))
    https://arxiv.org/abs/1406.1078 (Cho et al. 2014, GRU)
    https://doi.org/10.1162/neco.1997.9.8.1735 (Hochreiter & Schmidhuber 1997)
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import rnnkit
from rnnkit.analysis.experiments.long_range import evaluate_metric, problem_loss
from rnnkit.analysis.experiments.variants_config import (
    BASELINE,
    LSTM_VARIANTS,
    TASKS,
    VARIANTS,
    VariantStudyConfig,
)
from rnnkit.cells import GRUCell, LSTMCell, RecurrentCell
from rnnkit.config import save_config
from rnnkit.datasets.long_range import CLASSES, input_size, make_batch
from rnnkit.errors import ConfigError, DataError
from rnnkit.layers import Recurrent
from rnnkit.models.many_to_many import LanguageModel, LanguageModelConfig
from rnnkit.training.clipping import clip_grad_norm

logger = logging.getLogger(__name__)


def make_cell(variant: str, input_size: int, hidden_size: int) -> RecurrentCell:
    """The cell of one variant: an `LSTMCell` with its Greff options, or a `GRUCell`."""
    if variant == "GRU":
        return GRUCell(input_size, hidden_size)
    if variant not in LSTM_VARIANTS:
        raise ConfigError(f"variant must be one of {VARIANTS}; got {variant!r}.")
    return LSTMCell(input_size, hidden_size, **LSTM_VARIANTS[variant])


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """One trained variant on one task: its final metric after the whole budget."""

    task: str
    variant: str
    seed: int
    metric: float  # validation bpc (charlm), test accuracy or MSE (long_range); NaN if diverged
    metric_name: str
    parameters: int  # of the recurrent cell
    steps: int  # updates made
    diverged: bool
    seconds: float


class CharData(NamedTuple):
    """Tiny Shakespeare as ids: the training and validation parts (N,) int64 and the alphabet."""

    train: Tensor
    valid: Tensor
    alphabet: str


def tiny_shakespeare_path() -> Path:
    """The Tiny Shakespeare text embedded in the package (found by name, not by import)."""
    package = Path(rnnkit.__file__).resolve().parent
    found = sorted(package.glob("tasks/**/tiny_shakespeare.txt"))
    if not found:
        raise DataError(
            f"tiny_shakespeare.txt is not under {package / 'tasks'}; the char-LM task of the "
            f"variant study reads the copy embedded in the package (reinstall rnnkit)."
        )
    return found[0]


def load_characters(characters: int) -> CharData:
    """The first `characters` of the text, split 90 % / 10 %; the alphabet is the whole text's."""
    text = tiny_shakespeare_path().read_text(encoding="utf-8")
    alphabet = "".join(sorted(set(text)))
    index = {char: i for i, char in enumerate(alphabet)}
    ids = torch.tensor([index[char] for char in text[:characters]], dtype=torch.long)
    split = int(0.9 * len(ids))
    return CharData(ids[:split], ids[split:], alphabet)


class LastStepCellModel(nn.Module):
    """x (B, T, F) → `Recurrent(cell)` → linear readout of h_T (a long-range problem's answer)."""

    def __init__(self, cell: RecurrentCell, outputs: int) -> None:
        super().__init__()
        self.recurrent = Recurrent(cell, batch_first=True)
        self.readout = nn.Linear(cell.state_size, outputs)

    def forward(self, inputs: Tensor) -> Tensor:
        """The readout of the last hidden state, (B, outputs)."""
        outputs, _ = self.recurrent(inputs)  # (B, T, H)
        return self.readout(outputs[:, -1])


def char_language_model(variant: str, config: VariantStudyConfig, vocab_size: int) -> nn.Module:
    """`rnnkit.models.LanguageModel` (E, one layer, softmax over the alphabet) whose recurrent
    layer is the variant's cell stepped by `Recurrent` (LanguageModelConfig has no Greff
    options, so its own LSTM layer is replaced)."""
    model_config = LanguageModelConfig(
        vocab_size=vocab_size, embed_dim=config.charlm_embed,
        hidden_size=config.charlm_hidden, num_layers=1,
    )  # fmt: skip
    model = LanguageModel(model_config)
    cell = make_cell(variant, config.charlm_embed, config.charlm_hidden)
    model.recurrent = Recurrent(cell, batch_first=True)
    return model


def _windows(ids: Tensor, starts: Tensor, length: int) -> tuple[Tensor, Tensor]:
    """Inputs (B, T) and next-character targets (B, T) of the windows starting at `starts`."""
    positions = starts[:, None] + torch.arange(length + 1)  # (B, T + 1)
    chunk = ids[positions]
    return chunk[:, :-1], chunk[:, 1:]


def validation_bpc(model: nn.Module, data: CharData, config: VariantStudyConfig) -> float:
    """Mean cross-entropy over fixed validation windows (each from a zero state), in bits."""
    T = config.charlm_length
    count = min(config.charlm_eval_windows, (len(data.valid) - 1) // T)
    starts = torch.arange(count) * T  # non-overlapping windows from the start of validation
    inputs, targets = _windows(data.valid, starts, T)
    model.eval()
    with torch.no_grad():
        logits, _ = model(inputs)  # (B, T, V)
        nats = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    model.train()
    return float(nats) / math.log(2.0)  # bpc = nats / ln 2


def _cell_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.recurrent.parameters())


def _train(
    model: nn.Module, config: VariantStudyConfig, steps: int, loss_of_batch: Any
) -> tuple[int, bool]:
    """Adam with clipped gradients for `steps` updates; (updates made, diverged)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    for step in range(steps):
        loss = loss_of_batch()
        if not torch.isfinite(loss):
            return step, True
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip_grad_norm(model.parameters(), config.max_grad_norm)
        optimizer.step()
    return steps, False


def run_charlm(config: VariantStudyConfig, variant: str, seed: int) -> RunResult:
    """Train one variant as a character language model; its validation bpc at the end."""
    start = time.perf_counter()
    data = load_characters(config.charlm_chars)
    torch.manual_seed(seed)  # initial weights
    model = char_language_model(variant, config, len(data.alphabet))
    batches = torch.Generator().manual_seed(seed + 1)
    T, B = config.charlm_length, config.charlm_batch

    def loss_of_batch() -> Tensor:
        starts = torch.randint(0, len(data.train) - T - 1, (B,), generator=batches)
        inputs, targets = _windows(data.train, starts, T)
        logits, _ = model(inputs)  # (B, T, V)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    steps, diverged = _train(model, config, config.charlm_steps, loss_of_batch)
    bpc = math.nan if diverged else validation_bpc(model, data, config)
    if not math.isfinite(bpc):
        diverged, bpc = True, math.nan
    return RunResult(
        task="charlm", variant=variant, seed=seed, metric=bpc, metric_name="validation bpc",
        parameters=_cell_parameters(model), steps=steps, diverged=diverged,
        seconds=time.perf_counter() - start,
    )  # fmt: skip


def run_long_range(config: VariantStudyConfig, variant: str, seed: int) -> RunResult:
    """Train one variant on the long-range problem; its test accuracy (or MSE) at the end."""
    start = time.perf_counter()
    problem = config.problem
    torch.manual_seed(seed)
    outputs = 1 if problem == "adding" else len(CLASSES)
    model = LastStepCellModel(make_cell(variant, input_size(problem), config.task_hidden), outputs)
    batches = torch.Generator().manual_seed(seed + 1)
    test = make_batch(problem, config.eval_size, config.length,
                      torch.Generator().manual_seed(10_000 + seed))  # fmt: skip

    def loss_of_batch() -> Tensor:
        inputs, targets = make_batch(problem, config.task_batch, config.length, batches)
        return problem_loss(problem, model(inputs), targets)

    steps, diverged = _train(model, config, config.task_steps, loss_of_batch)
    metric = math.nan if diverged else evaluate_metric(problem, model, test)
    if not math.isfinite(metric):
        diverged, metric = True, math.nan
    name = "test MSE" if problem == "adding" else "test accuracy"
    return RunResult(
        task="long_range", variant=variant, seed=seed, metric=metric, metric_name=name,
        parameters=_cell_parameters(model), steps=steps, diverged=diverged,
        seconds=time.perf_counter() - start,
    )  # fmt: skip


RUNNERS = {"charlm": run_charlm, "long_range": run_long_range}


def run_one(config: VariantStudyConfig, task: str, variant: str, seed: int) -> RunResult:
    """One run; in a worker process on one torch thread."""
    result = RUNNERS[task](config, variant, seed)
    logger.info("%s", result)
    return result


def _run_in_worker(arguments: tuple[VariantStudyConfig, str, str, int]) -> RunResult:
    torch.set_num_threads(1)
    return run_one(*arguments)


@dataclass(frozen=True, kw_only=True)
class Summary:
    """Mean ± sample std of one (task, variant) over its finished runs, and against V."""

    task: str
    variant: str
    values: list[float]  # finished (not diverged) runs
    mean: float
    std: float  # sample standard deviation (n − 1); 0 for one run
    diverged: int
    parameters: int
    difference: float  # mean − V's mean (NaN for V)
    welch_t: float  # (mean − mean_V) / √(s²/n + s_V²/n_V); NaN where undefined


def summarise(results: list[RunResult], variants: tuple[str, ...]) -> list[Summary]:
    """One Summary per (task, variant) present in `results`, tasks in TASKS order."""
    groups: dict[tuple[str, str], list[RunResult]] = {}
    for result in results:
        groups.setdefault((result.task, result.variant), []).append(result)

    def stats(values: list[float]) -> tuple[float, float]:
        if not values:
            return math.nan, math.nan
        mean = sum(values) / len(values)
        if len(values) == 1:
            return mean, 0.0
        return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))

    summaries = []
    for task in TASKS:
        base = [r.metric for r in groups.get((task, BASELINE), []) if not r.diverged]
        base_mean, base_std = stats(base)
        for variant in variants:
            runs = groups.get((task, variant))
            if not runs:
                continue
            values = [r.metric for r in runs if not r.diverged]
            mean, std = stats(values)
            difference, welch = math.nan, math.nan
            if variant != BASELINE and base and values:
                difference = mean - base_mean
                error = math.sqrt(std**2 / len(values) + base_std**2 / len(base))
                welch = difference / error if error > 0 else math.nan
            summary = Summary(
                task=task, variant=variant, values=values, mean=mean, std=std,
                diverged=sum(r.diverged for r in runs), parameters=runs[0].parameters,
                difference=difference, welch_t=welch,
            )  # fmt: skip
            summaries.append(summary)
    return summaries


@dataclass(frozen=True, kw_only=True)
class VariantStudyResult:
    """Every run, the summaries, and the files written."""

    results: list[RunResult]
    summaries: list[Summary]
    files: list[Path] = field(default_factory=list)


def run_variant_study(config: VariantStudyConfig, out_dir: str | Path) -> VariantStudyResult:
    """Train every (task, variant, seed), then write variants.json, variants.md, variants.png
    and config.json to `out_dir`.

    Example (the CLI's `rnnkit analyze variants --quick`):
        >>> run_variant_study(VariantStudyConfig(quick=True), "runs/variants")  # doctest: +SKIP
    """
    sized = config.sized()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = [
        (sized, task, variant, sized.seed + k)
        for task in sized.tasks
        for variant in sized.variants
        for k in range(sized.seeds)
    ]
    start = time.perf_counter()
    if sized.workers == 1:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small models: one thread is faster, and fair to shared cores
        try:
            results = [run_one(*arguments) for arguments in plan]
        finally:
            torch.set_num_threads(threads)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=sized.workers, mp_context=context) as pool:
            results = list(pool.map(_run_in_worker, plan))
    wall = time.perf_counter() - start
    summaries = summarise(results, sized.variants)
    data = {
        "config": dataclasses.asdict(sized),
        "wall_seconds": wall,
        "runs": [dataclasses.asdict(r) for r in results],
        "summary": [dataclasses.asdict(s) for s in summaries],
    }
    json_path = out / "variants.json"
    json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    table = out / "variants.md"
    table.write_text(variants_report(sized, summaries, results, wall), encoding="utf-8")
    plot = plot_variants(out / "variants.png", sized, summaries)
    save_config(config, out / "config.json")
    return VariantStudyResult(
        results=results, summaries=summaries, files=[json_path, table, plot, out / "config.json"]
    )


def _cell(summary: Summary | None, digits: int) -> str:
    if summary is None:
        return "–"
    if not summary.values:
        return f"all {summary.diverged} diverged"
    text = f"{summary.mean:.{digits}f} ± {summary.std:.{digits}f}"
    return text + (f" ({summary.diverged} diverged)" if summary.diverged else "")


def _versus(summary: Summary | None, digits: int) -> str:
    if summary is None or math.isnan(summary.difference):
        return "–"
    t = "" if math.isnan(summary.welch_t) else f" (t = {summary.welch_t:+.1f})"
    return f"{summary.difference:+.{digits}f}{t}"


def variants_report(
    config: VariantStudyConfig, summaries: list[Summary], results: list[RunResult], wall: float
) -> str:
    """variants.md: the set-up and one row per variant, mean ± std over seeds per task."""
    by_key = {(s.task, s.variant): s for s in summaries}
    metric = "test MSE ↓" if config.problem == "adding" else "test accuracy ↑"
    lines = [
        "# LSTM variants (Greff et al. 2017) at CPU size",
        "",
        f"{config.seeds} seed(s) per variant and task, every run Adam (lr "
        f"{config.learning_rate:g}) with the global gradient norm clipped to "
        f"{config.max_grad_norm:g}, PyTorch's default initialisation U(±1/√H).",
    ]
    if "charlm" in config.tasks:
        lines.append(
            f"char-LM: Tiny Shakespeare's first {config.charlm_chars:,} characters (90 % train, "
            f"10 % validation), E = {config.charlm_embed}, H = {config.charlm_hidden}, "
            f"{config.charlm_steps} updates of B = {config.charlm_batch} windows of T = "
            f"{config.charlm_length}; validation bits per character over "
            f"{config.charlm_eval_windows} windows (lower is better)."
        )
    if "long_range" in config.tasks:
        lines.append(
            f"long range: the {config.problem.replace('_', '-')} problem at T = {config.length}, "
            f"H = {config.task_hidden}, {config.task_steps} updates of B = {config.task_batch}; "
            f"{metric.split()[0]} {metric.split()[1]} on {config.eval_size} test sequences."
        )
    lines += [
        "",
        "Mean ± sample std over seeds; Δ V is the difference of means to the baseline V, t "
        "Welch's statistic (|t| above about 3 with so few seeds suggests a real difference).",
        "",
        f"| variant | cell parameters (char-LM) | char-LM bpc ↓ | Δ V | long range {metric} "
        "| Δ V |",
        "|---|---|---|---|---|---|",
    ]
    for variant in config.variants:
        lm, lr = by_key.get(("charlm", variant)), by_key.get(("long_range", variant))
        parameters = "–" if lm is None else f"{lm.parameters:,}"
        cells = [parameters, _cell(lm, 3), _versus(lm, 3), _cell(lr, 3), _versus(lr, 3)]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    seconds = sum(r.seconds for r in results)
    lines += [
        "",
        f"{len(results)} runs, {seconds:.0f} s of training in all, {wall:.0f} s wall clock.",
        "",
    ]
    return "\n".join(lines)


def plot_variants(path: Path, config: VariantStudyConfig, summaries: list[Summary]) -> Path:
    """variants.png: per task a box of the seeds' values per variant, each seed a point."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # matplotlib loads only here
    from matplotlib.figure import Figure

    tasks = [task for task in TASKS if task in config.tasks]
    figure = Figure(figsize=(6.4 * len(tasks), 4.2), dpi=100, layout="constrained")
    labels = {
        "charlm": "char-LM: validation bits per character (lower is better)",
        "long_range": f"{config.problem.replace('_', ' ')}, T = {config.length}: "
        + ("test MSE (lower is better)" if config.problem == "adding" else "test accuracy"),
    }
    for index, task in enumerate(tasks, start=1):
        axes = figure.add_subplot(1, len(tasks), index)
        rows = [s for s in summaries if s.task == task]
        names = [s.variant for s in rows]
        positions = list(range(1, len(rows) + 1))
        drawn = [(p, s.values) for p, s in zip(positions, rows, strict=True) if s.values]
        if drawn:
            axes.boxplot([v for _, v in drawn], positions=[p for p, _ in drawn], widths=0.6)
        for position, summary in zip(positions, rows, strict=True):
            points = [position] * len(summary.values)
            axes.scatter(points, summary.values, s=14, color="black", alpha=0.6, zorder=3)
            if summary.diverged:
                axes.annotate(f"{summary.diverged} diverged", (position, 0.02), ha="center",
                              xycoords=("data", "axes fraction"), fontsize=7)  # fmt: skip
        axes.set_xticks(positions, names, rotation=45)
        axes.set_title(labels[task], fontsize=10)
        axes.grid(alpha=0.3, axis="y")
    figure.suptitle(f"LSTM variants (Greff et al. 2017), {config.seeds} seed(s) each")
    FigureCanvasAgg(figure).print_png(str(path))
    return path


__all__ = [
    "LSTM_VARIANTS",
    "TASKS",
    "VARIANTS",
    "LastStepCellModel",
    "RunResult",
    "Summary",
    "VariantStudyConfig",
    "VariantStudyResult",
    "char_language_model",
    "make_cell",
    "run_variant_study",
    "summarise",
    "variants_report",
]

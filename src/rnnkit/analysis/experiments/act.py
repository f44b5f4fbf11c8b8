"""Adaptive Computation Time (Graves 2016) on parity, addition and a char-LM, against no ACT.

Parity (section 3.1 of the paper; `rnnkit.datasets.act_tasks`): a tanh Elman cell sees one
vector once; with ACT it ponders N(t) steps on it. Addition (section 3.3): an LSTM reads 1 to 5
numbers and emits the digits of the running sum after each. Each task trains the plain cell
(no ACT, N(t) = 1) and ACT with each τ for the same number of updates of the same batch size and
learning rate, from the same seed, and evaluates on one held-out batch drawn from its own seed:
parity accuracy, addition sequence error rate (a sequence is wrong if any digit of any of its
sums is wrong) and digit accuracy, and the mean N(t). The paper trains far longer (parity: 64
bits, 128 units, on the order of 10⁶ updates); `bits` and `steps` scale the run to a CPU.

Char-LM: an ACT LSTM (one-hot characters in) on the embedded Tiny Shakespeare, next to a plain
LSTM of the same size for the same updates, reports validation bits per character and the mean
N(t) after a space (word starts) and elsewhere, and saves `ponder_charlm.png`: N(t) and ρ_t for
each character of a validation excerpt (the paper's Fig. 11 shows more pondering at spaces).

`run_act` writes report.md (the tables), act.json (every row), the PNGs and config.json;
`rnnkit analyze act` and bench/act.py call it. Seconds are wall time on the machine it ran on.

References:
    https://arxiv.org/abs/1603.08983 (Graves 2016, "Adaptive Computation Time for Recurrent
    Neural Networks")
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.analysis.experiments.act_config import ACTStudyConfig, CharConfig, SyntheticConfig
from rnnkit.analysis.experiments.variants import tiny_shakespeare_path
from rnnkit.cells import ElmanCell, LSTMCell
from rnnkit.cells.act import ACTCell, ponder_penalty
from rnnkit.config import save_config
from rnnkit.datasets.act_tasks import (
    END_OF_NUMBER,
    NO_TARGET,
    addition_batch,
    parity_batch,
    sum_digits,
)
from rnnkit.layers.act import ACTRecurrent
from rnnkit.seeding import seed_everything

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- parity and addition


class ParityNet(nn.Module):
    """Elman cell (tanh) and a sigmoid output; with ACT the cell ponders on the vector."""

    def __init__(self, config: SyntheticConfig) -> None:
        super().__init__()
        F_in, H = config.bits, config.hidden_size
        self.act = None
        if config.tau is None:
            self.cell = ElmanCell(F_in, H)
        else:
            self.act = ACTCell(ElmanCell(F_in + 1, H), max_ponder=config.max_ponder)
        self.head = nn.Linear(H, 1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """x (B, F) -> logits (B,), ρ (B,), N (B,)."""
        if self.act is None:
            hidden = self.cell(x).hidden
            ones = torch.ones(x.shape[0], dtype=torch.long)
            return self.head(hidden).squeeze(-1), ones.float(), ones
        out = self.act(x)
        return self.head(out.state.hidden).squeeze(-1), out.ponder_cost, out.steps


class AdditionNet(nn.Module):
    """LSTM over the numbers and one 11-way softmax per digit of the sum."""

    def __init__(self, config: SyntheticConfig) -> None:
        super().__init__()
        F_in, H = 10 * config.max_digits, config.hidden_size
        self.digits = sum_digits(config.max_digits)
        self.act = None
        if config.tau is None:
            self.cell = LSTMCell(F_in, H)
        else:
            cell = ACTCell(LSTMCell(F_in + 1, H), max_ponder=config.max_ponder)
            self.act = ACTRecurrent(cell, batch_first=True)
        self.head = nn.Linear(H, self.digits * (END_OF_NUMBER + 1))

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """x (B, T, F) -> logits (B, T, S, 11), ρ (B, T), N (B, T) (0 on padding)."""
        B, T, _ = x.shape
        if self.act is None:
            state, hidden = None, []
            for t in range(T):
                state = self.cell(x[:, t], state)
                hidden.append(state.hidden)
            outputs = torch.stack(hidden, dim=1)  # (B, T, H)
            real = torch.arange(T) < lengths.unsqueeze(-1)  # (B, T)
            cost, steps = real.float(), real.long()
        else:
            result = self.act(x, lengths=lengths)
            outputs, cost, steps = result.outputs, result.ponder_cost, result.steps
        logits = self.head(outputs).view(B, T, self.digits, END_OF_NUMBER + 1)
        return logits, cost, steps


def addition_scores(logits: Tensor, targets: Tensor) -> tuple[float, float]:
    """(sequence error rate, digit accuracy) over the sequences and steps that have targets
    (a sequence of one number has none and is left out)."""
    has = targets != NO_TARGET  # (B, T, S)
    right = ((logits.argmax(-1) == targets) | ~has).flatten(1).all(dim=1)  # (B,)
    scored = has.flatten(1).any(dim=1)  # sequences of 2 or more numbers
    sequence_error = 1.0 - right[scored].float().mean().item()
    digit_accuracy = ((logits.argmax(-1) == targets) & has).sum().item() / has.sum().item()
    return sequence_error, digit_accuracy


def train_synthetic(task: str, config: SyntheticConfig) -> dict[str, float]:
    """Train one parity or addition model and evaluate it on a held-out batch."""
    seed_everything(config.seed)
    data = torch.Generator().manual_seed(config.seed)
    held_out = torch.Generator().manual_seed(config.seed + 10_000)
    model = ParityNet(config) if task == "parity" else AdditionNet(config)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    tau = config.tau or 0.0
    start = time.perf_counter()
    for _ in range(config.steps):
        if task == "parity":
            batch = parity_batch(config.batch_size, data, size=config.bits)
            logits, cost, _ = model(batch.inputs)
            loss = F.binary_cross_entropy_with_logits(logits, batch.targets)
        else:
            batch = addition_batch(config.batch_size, data, max_digits=config.max_digits)
            logits, cost, _ = model(batch.inputs, batch.lengths)
            loss = F.cross_entropy(
                logits.flatten(0, 2), batch.targets.flatten(), ignore_index=NO_TARGET
            )
        loss = loss + ponder_penalty(cost, tau, batch_first=True)  # L + τ P(x)
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        if task == "parity":
            batch = parity_batch(config.eval_size, held_out, size=config.bits)
            logits, _, steps = model(batch.inputs)
            score = {"accuracy": ((logits > 0).float() == batch.targets).float().mean().item()}
            ponder = steps.float().mean().item()
        else:
            batch = addition_batch(config.eval_size, held_out, max_digits=config.max_digits)
            logits, _, steps = model(batch.inputs, batch.lengths)
            error, digits = addition_scores(logits, batch.targets)
            score = {"sequence_error": error, "digit_accuracy": digits}
            ponder = steps.sum().item() / batch.lengths.sum().item()  # mean N(t) on real steps
    return {**score, "ponder": ponder, "seconds": seconds}


# ---------------------------------------------------------------- char-LM


class CharNet(nn.Module):
    """One-hot characters -> (ACT) LSTM -> next-character logits."""

    def __init__(self, vocab_size: int, config: CharConfig) -> None:
        super().__init__()
        V, H = vocab_size, config.hidden_size
        self.vocab_size = V
        self.act = None
        if config.tau is None:
            self.cell = LSTMCell(V, H)
        else:
            cell = ACTCell(LSTMCell(V + 1, H), max_ponder=config.max_ponder)
            self.act = ACTRecurrent(cell, batch_first=True)
        self.head = nn.Linear(H, V)

    def forward(self, ids: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """ids (B, T) -> logits (B, T, V), ρ (B, T), N (B, T)."""
        x = F.one_hot(ids, self.vocab_size).float()  # (B, T, V)
        if self.act is None:
            state, hidden = None, []
            for t in range(x.shape[1]):
                state = self.cell(x[:, t], state)
                hidden.append(state.hidden)
            ones = torch.ones(ids.shape, dtype=torch.long)
            return self.head(torch.stack(hidden, dim=1)), ones.float(), ones
        result = self.act(x)
        return self.head(result.outputs), result.ponder_cost, result.steps


def bits_per_char(model: CharNet, ids: Tensor, chunk: int) -> tuple[float, Tensor, Tensor]:
    """Validation bits/char over consecutive chunks (each from a zero state), with N(t) of each
    input character and the input ids, flattened in the same order."""
    usable = (len(ids) - 1) // chunk * chunk
    inputs = ids[:usable].view(-1, chunk)  # (B, T)
    targets = ids[1 : usable + 1].view(-1, chunk)
    with torch.no_grad():
        logits, _, steps = model(inputs)
        nll = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
    return nll.item() / math.log(2), steps.flatten(), inputs.flatten()


def train_charlm(config: CharConfig, text: str) -> tuple[CharNet, dict[str, float], list[str]]:
    """Train on the first 90 % of the text; report bits/char and N(t) on the last 10 %."""
    seed_everything(config.seed)
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text])
    split = int(0.9 * len(ids))
    train, valid = ids[:split], ids[split : split + config.eval_chars]
    data = torch.Generator().manual_seed(config.seed)
    model = CharNet(len(chars), config)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    tau = config.tau or 0.0
    T = config.chunk
    start = time.perf_counter()
    for _ in range(config.steps):
        offsets = torch.randint(0, len(train) - T - 1, (config.batch_size,), generator=data)
        window = torch.stack([train[o : o + T + 1] for o in offsets.tolist()])  # (B, T + 1)
        logits, cost, _ = model(window[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1), window[:, 1:].flatten())
        loss = loss + ponder_penalty(cost, tau, batch_first=True) / T  # τ P(x) per character
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
    seconds = time.perf_counter() - start
    model.eval()
    bpc, steps, inputs = bits_per_char(model, valid, T)
    space = inputs == index[" "]
    after_space = torch.cat([torch.tensor([False]), space[:-1]])  # the first letter of a word
    metrics = {
        "bpc": bpc,
        "ponder": steps.float().mean().item(),
        "ponder_space": steps[space].float().mean().item(),
        "ponder_word_start": steps[after_space].float().mean().item(),
        "ponder_other": steps[~space & ~after_space].float().mean().item(),
        "seconds": seconds,
    }
    return model, metrics, chars


def plot_ponder(model: CharNet, chars: list[str], excerpt: str, path: Path) -> Path:
    """Bars of N(t) and a line of ρ_t for each input character of `excerpt`, in rows of 60."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([[index[c] for c in excerpt]])
    with torch.no_grad():
        _, cost, steps = model(ids)
    width = 60
    rows = math.ceil(len(excerpt) / width)
    figure = Figure(figsize=(14, 2.2 * rows), dpi=100, layout="constrained")
    top = max(2.0, float(cost.max()) + 0.5)
    for row in range(rows):
        axes = figure.add_subplot(rows, 1, row + 1)
        part = slice(row * width, (row + 1) * width)
        text = excerpt[part]
        x = range(len(text))
        axes.bar(x, steps[0, part].tolist(), color="#9ecae1", label="N(t)")
        axes.plot(x, cost[0, part].tolist(), color="#d62728", marker=".", label="ρ_t = N + R")
        axes.set_xticks(list(x), ["␣" if c == " " else "↵" if c == "\n" else c for c in text])
        axes.set_xlim(-0.5, width - 0.5)
        axes.set_ylim(0, top)
        axes.set_ylabel("ponder")
        if row == 0:
            axes.set_title("ACT LSTM on Tiny Shakespeare: ponder steps per input character")
            axes.legend(loc="upper right")
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure).print_png(str(path))
    return path


# ---------------------------------------------------------------- the study


@dataclass(frozen=True, kw_only=True)
class ACTStudyResult:
    """The rows of each part (dicts as in act.json) and the files written."""

    rows: dict[str, list[dict[str, Any]]]
    files: list[Path] = field(default_factory=list)


def _shown(metrics: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.3f}" for name, value in metrics.items())


def synthetic_rows(task: str, base: SyntheticConfig, taus: tuple[float, ...]) -> list[dict]:
    """The plain cell (tau None), then ACT at each τ, each trained and evaluated."""
    rows = []
    for tau in (None, *taus):
        result = train_synthetic(task, replace(base, tau=tau))
        rows.append({"model": "no ACT" if tau is None else "ACT", "tau": tau, **result})
        logger.info("%s %s τ=%s: %s", task, rows[-1]["model"], tau, _shown(result))
    return rows


def charlm_rows(config: CharConfig, out: Path) -> tuple[list[dict], Path]:
    """The plain LSTM and the ACT LSTM at config.tau; the ponder plot of the ACT LSTM on a
    held-out excerpt is saved as out/ponder_charlm.png."""
    text = tiny_shakespeare_path().read_text(encoding="utf-8")
    rows = []
    for tau in (None, config.tau):
        model, metrics, chars = train_charlm(replace(config, tau=tau), text)
        rows.append({"model": "LSTM" if tau is None else "ACT LSTM", "tau": tau, **metrics})
        logger.info("charlm %s τ=%s: %s", rows[-1]["model"], tau, _shown(metrics))
    start = text.index("\n", int(0.9 * len(text)) + 1000) + 1  # a line start in held-out text
    path = plot_ponder(model, chars, text[start : start + 240], out / "ponder_charlm.png")
    return rows, path


def _tau(row: dict) -> str:
    return "–" if row["tau"] is None else f"{row['tau']:g}"


def act_report(config: ACTStudyConfig, rows: dict[str, list[dict]]) -> str:
    """The markdown tables of the parts that ran, each under a line giving its set-up."""
    parity, addition, chars = config.presets()
    lines = [f"# ACT study (Graves 2016): parts {', '.join(rows)}, seed {config.seed}"]
    if "parity" in rows:
        lines += [
            "",
            f"parity: {parity.bits} bits, Elman tanh H={parity.hidden_size}, {parity.steps} "
            f"updates of B={parity.batch_size}, M={parity.max_ponder}, eval {parity.eval_size}",
            "",
            "| model | τ | accuracy | mean N(t) | seconds |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {r['model']} | {_tau(r)} | {r['accuracy']:.3f} | {r['ponder']:.2f} "
            f"| {r['seconds']:.0f} |"
            for r in rows["parity"]
        ]
    if "addition" in rows:
        lines += [
            "",
            f"addition: D_max={addition.max_digits}, 1-5 numbers, LSTM H={addition.hidden_size}, "
            f"{addition.steps} updates of B={addition.batch_size}, M={addition.max_ponder}, "
            f"eval {addition.eval_size}",
            "",
            "| model | τ | sequence error | digit accuracy | mean N(t) | seconds |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {r['model']} | {_tau(r)} | {r['sequence_error']:.3f} | "
            f"{r['digit_accuracy']:.3f} | {r['ponder']:.2f} | {r['seconds']:.0f} |"
            for r in rows["addition"]
        ]
    if "charlm" in rows:
        lines += [
            "",
            f"char-LM: Tiny Shakespeare (last 10 % held out, {chars.eval_chars} of them scored), "
            f"one-hot in, LSTM H={chars.hidden_size}, {chars.steps} updates of "
            f"B={chars.batch_size} × {chars.chunk} chars, M={chars.max_ponder}",
            "",
            "| model | τ | val bits/char | mean N(t) | after a space | at a space | elsewhere "
            "| seconds |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {r['model']} | {_tau(r)} | {r['bpc']:.3f} | {r['ponder']:.2f} | "
            f"{r['ponder_word_start']:.2f} | {r['ponder_space']:.2f} | {r['ponder_other']:.2f} "
            f"| {r['seconds']:.0f} |"
            for r in rows["charlm"]
        ]
    return "\n".join(lines) + "\n"


def run_act(config: ACTStudyConfig, out_dir: str | Path) -> ACTStudyResult:
    """Run the parts of the study; write report.md, act.json, ponder_charlm.png (with the
    char-LM) and config.json to `out_dir`.

    Example (the CLI's `rnnkit analyze act --quick --out runs/act`):
        >>> run_act(ACTStudyConfig(quick=True), "runs/act")  # doctest: +SKIP
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    parity, addition, chars = config.presets()
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    rows: dict[str, list[dict]] = {}
    files: list[Path] = []
    try:
        if "parity" in config.parts:
            rows["parity"] = synthetic_rows("parity", parity, config.taus)
        if "addition" in config.parts:
            rows["addition"] = synthetic_rows("addition", addition, config.taus)
        if "charlm" in config.parts:
            rows["charlm"], plot = charlm_rows(chars, out)
            files.append(plot)
    finally:
        torch.set_num_threads(threads)
    report = out / "report.md"
    report.write_text(act_report(config, rows), encoding="utf-8")
    data = {
        "config": dataclasses.asdict(config),
        "runs": {"parity": dataclasses.asdict(parity), "addition": dataclasses.asdict(addition),
                 "charlm": dataclasses.asdict(chars)},
        "torch": torch.__version__,
        "rows": rows,
    }  # fmt: skip
    results = out / "act.json"
    results.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    save_config(config, out / "config.json")
    return ACTStudyResult(rows=rows, files=[report, results, *files, out / "config.json"])


__all__ = [
    "ACTStudyResult",
    "AdditionNet",
    "CharNet",
    "ParityNet",
    "act_report",
    "addition_scores",
    "plot_ponder",
    "run_act",
    "train_charlm",
    "train_synthetic",
]

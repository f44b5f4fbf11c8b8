"""Adaptive Computation Time (Graves 2016) on parity, addition and a char-LM, against no ACT.

Usage:
    python bench/act.py [--quick] [--threads N] [--out DIR] [--parts parity,addition,charlm]

Parity (section 3.1 of the paper; `rnnkit.datasets.act_tasks`): a tanh Elman cell sees one
vector once; with ACT it ponders N(t) steps on it. Addition (section 3.3): an LSTM reads 1 to 5
numbers and emits the digits of the running sum after each. Each task trains the plain cell
(no ACT, N(t) = 1) and ACT with each τ for the same number of updates of the same batch size and
learning rate, from the same seed, and evaluates on one held-out batch drawn from its own seed:
parity accuracy, addition sequence error rate (a sequence is wrong if any digit of any of its
sums is wrong) and digit accuracy, and the mean N(t). The paper trains far longer (parity: 64
bits, 128 units, on the order of 10⁶ updates); `--bits` and `--steps` scale the run to this CPU.

Char-LM: an ACT LSTM (one-hot characters in) on the embedded Tiny Shakespeare, next to a plain
LSTM of the same size for the same updates, reports validation bits per character and the mean
N(t) after a space (word starts) and elsewhere, and saves `ponder_charlm.png`: N(t) and ρ_t for
each character of a validation excerpt (the paper's Fig. 11 shows more pondering at spaces).

Printed figures are measured in this run; seconds are wall time on the machine it ran on.

References:
    https://arxiv.org/abs/1603.08983 (Graves 2016, "Adaptive Computation Time for Recurrent
    Neural Networks")
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.cells import ElmanCell, LSTMCell
from rnnkit.cells.act import ACTCell, ponder_penalty
from rnnkit.datasets.act_tasks import (
    END_OF_NUMBER,
    NO_TARGET,
    addition_batch,
    parity_batch,
    sum_digits,
)
from rnnkit.layers.act import ACTRecurrent
from rnnkit.seeding import seed_everything

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, kw_only=True)
class SyntheticConfig:
    """One parity or addition run; tau None trains the cell without ACT."""

    tau: float | None = None  # τ, weight of the ponder cost
    hidden_size: int = 64  # H
    steps: int = 2000  # parameter updates
    batch_size: int = 128  # B
    lr: float = 3e-3  # Adam's learning rate
    max_ponder: int = 20  # M
    bits: int = 16  # parity vector size (the paper: 64)
    max_digits: int = 5  # addition: D_max (the paper: 5)
    eval_size: int = 1000  # held-out examples
    seed: int = 1337


@dataclass(frozen=True, kw_only=True)
class CharConfig:
    """The char-LM comparison; tau None trains the plain LSTM."""

    tau: float | None = 0.01  # τ
    hidden_size: int = 128  # H
    steps: int = 600  # updates
    batch_size: int = 32  # B
    chunk: int = 64  # characters per training sequence
    lr: float = 3e-3
    max_ponder: int = 20  # M
    seed: int = 1337


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


def synthetic_table(task: str, base: SyntheticConfig, taus: list[float]) -> None:
    """Print the rows of one task: the plain cell, then ACT at each τ."""
    if task == "parity":
        print(
            f"\nparity: {base.bits} bits, Elman tanh H={base.hidden_size}, {base.steps} "
            f"updates of B={base.batch_size}, M={base.max_ponder}, eval {base.eval_size}"
        )
        print("| model | τ | accuracy | mean N(t) | seconds |\n|---|---:|---:|---:|---:|")
    else:
        print(
            f"\naddition: D_max={base.max_digits}, 1-5 numbers, LSTM H={base.hidden_size}, "
            f"{base.steps} updates of B={base.batch_size}, M={base.max_ponder}, "
            f"eval {base.eval_size}"
        )
        print("| model | τ | sequence error | digit accuracy | mean N(t) | seconds |")
        print("|---|---:|---:|---:|---:|---:|")
    for tau in [None, *taus]:
        result = train_synthetic(task, replace(base, tau=tau))
        name, shown = ("no ACT", "–") if tau is None else ("ACT", f"{tau:g}")
        if task == "parity":
            scores = f"{result['accuracy']:.3f}"
        else:
            scores = f"{result['sequence_error']:.3f} | {result['digit_accuracy']:.3f}"
        print(
            f"| {name} | {shown} | {scores} | {result['ponder']:.2f} | {result['seconds']:.0f} |",
            flush=True,
        )


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


def shakespeare() -> str:
    """The embedded Tiny Shakespeare (found by glob: the tasks package may move it)."""
    found = sorted((ROOT / "src" / "rnnkit" / "tasks").rglob("tiny_shakespeare.txt"))
    if not found:
        sys.exit("bench/act.py: tiny_shakespeare.txt not found under src/rnnkit/tasks")
    return found[0].read_text(encoding="utf-8")


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
    train, valid = ids[:split], ids[split : split + 8 * 1024]
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


def charlm_table(config: CharConfig, out: Path) -> None:
    text = shakespeare()
    print(
        f"\nchar-LM: Tiny Shakespeare ({len(text)} chars, last 10 % held out, 8192 of them "
        f"scored), one-hot in, LSTM H={config.hidden_size}, {config.steps} updates of "
        f"B={config.batch_size} × {config.chunk} chars, M={config.max_ponder}"
    )
    print(
        "| model | τ | val bits/char | mean N(t) | after a space | at a space | elsewhere "
        "| seconds |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    for tau in [None, config.tau]:
        model, m, chars = train_charlm(replace(config, tau=tau), text)
        name, shown = ("LSTM", "–") if tau is None else ("ACT LSTM", f"{tau:g}")
        print(
            f"| {name} | {shown} | {m['bpc']:.3f} | {m['ponder']:.2f} | "
            f"{m['ponder_word_start']:.2f} | {m['ponder_space']:.2f} | {m['ponder_other']:.2f} "
            f"| {m['seconds']:.0f} |",
            flush=True,
        )
    start = text.index("\n", int(0.9 * len(text)) + 1000) + 1  # a line start in held-out text
    excerpt = text[start : start + 240]
    path = plot_ponder(model, chars, excerpt, out / "ponder_charlm.png")
    print(f"\nsaved {path}")


def run(
    parts: list[str],
    *,
    quick: bool = False,
    taus: tuple[float, ...] = (0.001, 0.01),
    steps: int | None = None,
    bits: int | None = None,
    out: Path = ROOT / "runs" / "act",
) -> None:
    """Print the tables of `parts` ("parity", "addition", "charlm"); the char-LM saves
    out/ponder_charlm.png. `steps` and `bits` override the presets of `quick` or the default."""
    if quick:  # a few minutes on one CPU thread
        parity = SyntheticConfig(bits=6, steps=2000)
        addition = SyntheticConfig(max_digits=2, steps=1000, batch_size=32, max_ponder=10)
    else:
        parity = SyntheticConfig(bits=8, steps=8000)
        addition = SyntheticConfig(hidden_size=128, max_digits=3, steps=4000, batch_size=32)
    chars = CharConfig(steps=150 if quick else 1500)
    if steps is not None:
        parity, addition = replace(parity, steps=steps), replace(addition, steps=steps)
        chars = replace(chars, steps=steps)
    if bits is not None:
        parity = replace(parity, bits=bits)
    if "parity" in parts:
        synthetic_table("parity", parity, list(taus))
    if "addition" in parts:
        synthetic_table("addition", addition, list(taus))
    if "charlm" in parts:
        charlm_table(chars, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few minutes on a CPU")
    parser.add_argument("--parts", default="parity,addition,charlm")
    parser.add_argument("--taus", default="0.001,0.01", help="τ values of the ACT rows")
    parser.add_argument("--steps", type=int, default=None, help="updates of each run")
    parser.add_argument("--bits", type=int, default=None, help="parity vector size")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "act")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(
        f"bench/act.py {' '.join(argv if argv is not None else sys.argv[1:])}; torch "
        f"{torch.__version__}, {args.threads} thread(s)"
    )
    taus = tuple(float(tau) for tau in args.taus.split(","))
    run(args.parts.split(","), quick=args.quick, taus=taus, steps=args.steps, bits=args.bits,
        out=args.out)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

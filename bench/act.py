"""Adaptive Computation Time (Graves 2016) on parity, addition and a char-LM, against no ACT.

Usage:
    python -m bench.act [--quick] [--threads N] [--out DIR] [--parts parity,addition,charlm]

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

The training, evaluation and plot live in `rnnkit.analysis.experiments.act` (`run_act`, also
`rnnkit analyze act`); this script prints its tables. Printed figures are measured in this run;
seconds are wall time on the machine it ran on. --out also receives report.md, act.json and
config.json.

References:
    https://arxiv.org/abs/1603.08983 (Graves 2016, "Adaptive Computation Time for Recurrent
    Neural Networks")
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch

from rnnkit.analysis.experiments.act import run_act
from rnnkit.analysis.experiments.act_config import ACTStudyConfig

ROOT = Path(__file__).resolve().parents[1]


def run(
    parts: list[str],
    *,
    quick: bool = False,
    taus: tuple[float, ...] = (0.001, 0.01),
    steps: int | None = None,
    bits: int | None = None,
    out: Path = ROOT / "runs" / "act",
    threads: int = 1,
) -> None:
    """Print the tables of `parts` ("parity", "addition", "charlm"); the char-LM saves
    out/ponder_charlm.png. `steps` and `bits` override the presets of `quick` or the default."""
    config = ACTStudyConfig(parts=tuple(parts), quick=quick, taus=taus, steps=steps, bits=bits,
                            threads=threads)  # fmt: skip
    result = run_act(config, out)
    print(result.files[0].read_text(encoding="utf-8"), end="")  # report.md: the tables
    for path in result.files[1:]:
        print(f"saved {path}")


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
    logging.basicConfig(level=logging.INFO, format="  %(message)s")  # a line per trained row
    print(
        f"python -m bench.act {' '.join(argv if argv is not None else sys.argv[1:])}; torch "
        f"{torch.__version__}, {args.threads} thread(s)"
    )
    taus = tuple(float(tau) for tau in args.taus.split(","))
    run(args.parts.split(","), quick=args.quick, taus=taus, steps=args.steps, bits=args.bits,
        out=args.out, threads=args.threads)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

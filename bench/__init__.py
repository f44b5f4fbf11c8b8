"""rnnkit's benchmarks: scripts that print measured figures, each run as a module from the
repository root (`python -m bench.cells --quick`); bench/README.md holds what they measured.

One module a benchmark, each opening with its usage line: `cells` and `compile` (the layers
against torch.nn's, eager and under torch.compile), `regularisers`, `multiplicative`, `act`,
`tree` (the cells and layers), `charlm`, `wordlm`, `word2vec`, `classify`, `ner`, `forecast`,
`music`, `dna_speech`, `caption`, `seq2seq`, `condgen` (the tasks on real data), `serve` (the
web API under load) and `startup` (the command line's start-up time). `reliability` holds the
campaigns of docs/RELIABILITY.md. Scripts import one another as package modules
(`from bench import wordlm`), and tests/reliability imports the campaigns the same way, with
the repository root on pytest's `pythonpath` (pyproject.toml). `child_environment` is the
environment for a script that starts another as a child process (`python -m bench.serve`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository root, the folder that holds bench/


def child_environment(environment: Mapping[str, str] | None = None) -> dict[str, str]:
    """`environment` (os.environ by default) with ROOT first on PYTHONPATH, so a child process
    `python -m bench.…` (a server, a measurement in a fresh process) finds this package from
    any working directory."""
    base = dict(os.environ if environment is None else environment)
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), base.get("PYTHONPATH")]))
    return base

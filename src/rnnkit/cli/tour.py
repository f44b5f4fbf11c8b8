"""`rnnkit tour [--quick] [--out DIR] [--sections NAME ...]`: the guided tour of the lectures.

    $ rnnkit tour --quick --out tour       # 2 min wall, 86 s CPU on 2 cores at load 1–3
    tour section representations: 1.9 s (1.2 s CPU)
    …
    section           wall s   CPU s  share of CPU
    representations      1.9     1.2            2%
    …
    total              111.3    57.6          100%
    wrote tour/index.html; serve it beside the demo page with: rnnkit serve --tour tour

The sections (`rnnkit.tour.outline`) run in lecture order on real data with small budgets
(`rnnkit.tour.run.run_tour`); those whose ../shared/data folder or extra is absent are shown
as skipped. Building this parser imports no torch.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnkit.console import console
from rnnkit.tour.outline import SECTION_NAMES

DEFAULT_OUT = Path("tour")


def add_tour(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit tour`: run the lecture sections and write one HTML page with figures and numbers."""
    parser = verbs.add_parser(
        "tour",
        help="the guided tour: the lectures in order on real data, one HTML page",
        description="Walk the lectures in their order on real data with small budgets: "
        "representations, the worked examples (linear RNN, LSTM memory cell, one-hot, bag of "
        "words), BPTT and vanishing gradients, then one application per input/output pattern. "
        "Writes OUT/index.html with the figures and numbers, each number with the command that "
        "reproduces it; `rnnkit serve --tour OUT` links it from the demo page. Sections whose "
        "../shared/data folder or extra is absent are shown as skipped.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="small budgets: a few minutes on 2 cores (default: off)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help="folder of the page: new, empty or an earlier tour's "
                        f"(default: {DEFAULT_OUT})")  # fmt: skip
    parser.add_argument("--sections", nargs="+", choices=SECTION_NAMES, default=None,
                        metavar="NAME", help="run only these, in lecture order: "
                        f"{', '.join(SECTION_NAMES)} (default: all)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="torch threads; the tour's models are small, so one thread "
                        "spends the least CPU time (default: 1)")  # fmt: skip

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.tour.page import Section, time_rows
        from rnnkit.tour.run import run_tour

        def show(section: Section) -> None:
            status = (
                f"skipped: {section.skipped}"
                if section.skipped
                else f"{section.seconds:.1f} s ({section.cpu_seconds:.1f} s CPU)"
            )
            console.print(f"tour section {section.name}: {status}", markup=False, highlight=False)

        result = run_tour(args.out, quick=args.quick, sections=args.sections,
                          threads=args.threads, progress=show)  # fmt: skip
        rows = [["section", "wall s", "CPU s", "share of CPU"], *time_rows(result.sections)]
        for name, wall, cpu, share in rows:  # where the time went
            console.print(f"{name:<16} {wall:>7} {cpu:>7} {share:>13}", markup=False,
                          highlight=False)  # fmt: skip
        console.print(f"wrote {result.page} in {result.seconds:.0f} s; serve it beside the demo "
                      f"page with: rnnkit serve --tour {args.out}", markup=False,
                      highlight=False, soft_wrap=True)  # fmt: skip
        return 0

    parser.set_defaults(handler=handle)

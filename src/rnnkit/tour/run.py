"""`run_tour(out_dir, quick=…)`: run the tour's sections in lecture order and write the page.

    result = run_tour("tour", quick=True)       # index.html, tour.json, figures/, runs/
    result.page                                 # tour/index.html
    result.cpu_seconds                          # user + system time of the sections

Each section's wall and CPU time (`time.process_time`: user + system of every thread of the
process) are measured and shown at the end of the page. The sections' models are small, so
torch runs on one thread by default (`threads`): a second OpenMP thread barely shortens such
small matrix products but spins while it waits, and on shared cores it waits a lot: 20
updates and the evaluation of the quick translate section took 8.5 s CPU (20 s wall) on one
thread and 36 s CPU (88 s wall) on two, at load average 7–9 on 2 cores (the same results;
`--threads 2` gives the second thread back).

A section that cannot run here (its shared data or an extra is absent) is shown as skipped
with the reason; any other error stops the tour, as a failing command should. The output
folder must be new, empty, or a tour's own folder from an earlier run (its figures/ and runs/
are then replaced); a folder of other files is refused, never written into.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnkit.datasets.shared import locate_shared
from rnnkit.errors import ConfigError
from rnnkit.tour.apps import APPS, application
from rnnkit.tour.outline import SECTION_NAMES, SECTION_TITLES
from rnnkit.tour.page import MANIFEST_NAME, PAGE_NAME, Section, write_page
from rnnkit.tour.sections import LECTURE_SECTIONS, SectionSkipped, TourContext, TourSize

logger = logging.getLogger(__name__)
OWN_ENTRIES = {PAGE_NAME, MANIFEST_NAME, "figures", "runs"}  # what a tour writes in its folder


@dataclass(frozen=True)
class TourResult:
    """The page written, the sections in order (skipped ones included), wall and CPU time."""

    page: Path
    sections: list[Section]
    seconds: float
    cpu_seconds: float = 0.0


def _prepare(out_dir: Path) -> None:
    """Make `out_dir`, or clear a previous tour's figures and runs from it."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir} is a file; name a folder for the tour")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        entries = {entry.name for entry in out_dir.iterdir()}
        if MANIFEST_NAME not in entries or not entries <= OWN_ENTRIES:
            raise ConfigError(
                f"--out {out_dir} holds other files ({', '.join(sorted(entries - OWN_ENTRIES))}"
                "); name a new or empty folder, or an earlier tour's"
            )
        for name in ("figures", "runs"):
            shutil.rmtree(out_dir / name, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)


def _section(name: str, context: TourContext) -> Section:
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        if name in LECTURE_SECTIONS:
            section = LECTURE_SECTIONS[name](context)
        else:
            section = application(name, context)
    except SectionSkipped as skipped:
        section = Section("", skipped=str(skipped))
    section.name, section.title = name, SECTION_TITLES[name]
    section.seconds = time.perf_counter() - start
    section.cpu_seconds = time.process_time() - cpu_start
    return section


def run_tour(
    out_dir: str | Path,
    *,
    quick: bool = False,
    tiny: bool = False,
    sections: Sequence[str] | None = None,
    threads: int = 1,
    locate: Callable[[str], Path | None] = locate_shared,
    progress: Callable[[Section], None] | None = None,
) -> TourResult:
    """Run `sections` (default: all, in lecture order) and write index.html into `out_dir`.

    Args:
        out_dir: the page's folder (new, empty, or an earlier tour's).
        quick: small budgets (a few minutes on 2 idle cores).
        tiny: smaller still, for tests: every step runs in seconds, nothing is learnt.
        sections: names among `SECTION_NAMES`; they always run in lecture order.
        threads: torch's intra-op threads while the sections run (restored after).
        locate: finds a folder of ../shared/data (None: absent, its sections are skipped).
        progress: called with each finished section.
    """
    chosen = list(SECTION_NAMES if sections is None else sections)
    unknown = [name for name in chosen if name not in SECTION_TITLES]
    if unknown or not chosen:
        raise ConfigError(
            f"unknown tour sections {unknown}; choose among {', '.join(SECTION_NAMES)}"
            if unknown else "name at least one tour section"
        )  # fmt: skip
    if threads < 1:
        raise ConfigError(f"--threads must be at least 1, got {threads}")
    assert set(SECTION_NAMES) == {*LECTURE_SECTIONS, *APPS}, "outline and sections disagree"
    out = Path(out_dir)
    _prepare(out)
    size: TourSize = "tiny" if tiny else "quick" if quick else "full"
    context = TourContext(out_dir=out.resolve(), size=size, locate=locate)
    start = time.perf_counter()
    done = []
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for name in (name for name in SECTION_NAMES if name in chosen):
            section = _section(name, context)
            logger.info("tour section %s: %.1f s, %.1f s CPU", name, section.seconds,
                        section.cpu_seconds)  # fmt: skip
            done.append(section)
            if progress is not None:
                progress(section)
    finally:
        torch.set_num_threads(previous_threads)
    seconds = time.perf_counter() - start
    command = "rnnkit tour" + (" --quick" if quick or tiny else "")
    if sections is not None:
        command += " --sections " + " ".join(name for name in SECTION_NAMES if name in chosen)
    if threads != 1:
        command += f" --threads {threads}"
    page = write_page(out, done, command=f"{command} --out {out_dir}", seconds=seconds,
                      quick=context.quick)  # fmt: skip
    return TourResult(page, done, seconds, sum(section.cpu_seconds for section in done))

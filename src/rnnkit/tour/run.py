"""`run_tour(out_dir, quick=…)`: run the tour's sections in lecture order and write the page.

    result = run_tour("tour", quick=True)       # index.html, tour.json, figures/, runs/
    result.page                                 # tour/index.html

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
    """The page written, the sections in order (skipped ones included) and the wall time."""

    page: Path
    sections: list[Section]
    seconds: float


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
    start = time.perf_counter()
    try:
        if name in LECTURE_SECTIONS:
            section = LECTURE_SECTIONS[name](context)
        else:
            section = application(name, context)
    except SectionSkipped as skipped:
        section = Section("", skipped=str(skipped))
    section.name, section.title = name, SECTION_TITLES[name]
    section.seconds = time.perf_counter() - start
    return section


def run_tour(
    out_dir: str | Path,
    *,
    quick: bool = False,
    tiny: bool = False,
    sections: Sequence[str] | None = None,
    locate: Callable[[str], Path | None] = locate_shared,
    progress: Callable[[Section], None] | None = None,
) -> TourResult:
    """Run `sections` (default: all, in lecture order) and write index.html into `out_dir`.

    Args:
        out_dir: the page's folder (new, empty, or an earlier tour's).
        quick: small budgets (a few minutes on 2 idle cores).
        tiny: smaller still, for tests: every step runs in seconds, nothing is learnt.
        sections: names among `SECTION_NAMES`; they always run in lecture order.
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
    assert set(SECTION_NAMES) == {*LECTURE_SECTIONS, *APPS}, "outline and sections disagree"
    out = Path(out_dir)
    _prepare(out)
    size: TourSize = "tiny" if tiny else "quick" if quick else "full"
    context = TourContext(out_dir=out.resolve(), size=size, locate=locate)
    start = time.perf_counter()
    done = []
    for name in (name for name in SECTION_NAMES if name in chosen):
        section = _section(name, context)
        logger.info("tour section %s: %.1f s", name, section.seconds)
        done.append(section)
        if progress is not None:
            progress(section)
    seconds = time.perf_counter() - start
    command = "rnnkit tour" + (" --quick" if quick or tiny else "")
    if sections is not None:
        command += " --sections " + " ".join(name for name in SECTION_NAMES if name in chosen)
    page = write_page(out, done, command=f"{command} --out {out_dir}", seconds=seconds)
    return TourResult(page, done, seconds)

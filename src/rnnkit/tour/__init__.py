"""The guided tour: `rnnkit tour` walks the lectures in their order on real data, small budgets.

    tour/outline.py    the sections in lecture order, their titles (torch-free: for --help)
    tour/sections.py   one function per section, each returning a `Section` of HTML and numbers
    tour/apps.py       the application sections: one task per input/output pattern
    tour/page.py       the one self-contained HTML page (contents, figures, numbers, commands)
    tour/run.py        `run_tour(out_dir, quick=…)`: runs the sections and writes the page

Only `outline` is imported here, so that `rnnkit tour --help` loads no torch; `run_tour` is
`rnnkit.tour.run.run_tour`.
"""

from rnnkit.tour.outline import SECTION_NAMES, SECTION_TITLES

__all__ = ["SECTION_NAMES", "SECTION_TITLES"]

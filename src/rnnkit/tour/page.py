"""The tour's one HTML page: a table of contents in lecture order, then each section's text,
tables, figures (PNG files in `figures/` beside the page) and numbers, each number with the
command that reproduces it.

Everything that comes from data or a model (words, generated text, file names) passes through
`html.escape` here (`esc`, `table`, `paragraph`, `preformatted`): a section's `html` is built
from these helpers only, so no raw `<` from data reaches the page. The page needs no network:
its style is inline and its figures are files next to it.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rnnkit import __version__

PAGE_NAME = "index.html"
MANIFEST_NAME = "tour.json"  # marks a folder as a tour's (so a rerun may replace its files)
STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1d1d1f; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: right; vertical-align: top; }
th { background: #f3f3f3; } td.text, th.text { text-align: left; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 13px; color: #555; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; }
code { background: #f3f3f3; padding: 0 0.2rem; }
.skipped { color: #8a5a00; background: #fff6e0; padding: 0.4rem 0.6rem; }
.meta { color: #555; font-size: 13px; }
"""


@dataclass(frozen=True)
class Number:
    """One measured figure of a section and the command that reproduces it."""

    label: str
    value: str
    command: str


@dataclass(frozen=True)
class Figure:
    """A PNG beside the page: `path` relative to the page's folder."""

    path: str
    caption: str


@dataclass
class Section:
    """What one section of the tour shows: escaped `html`, its figures and its numbers.

    `skipped` holds why a section did not run (data or an extra absent); `seconds` its wall
    time and `cpu_seconds` the CPU time of the process meanwhile (user + system, every thread).
    """

    title: str
    html: str = ""
    figures: list[Figure] = field(default_factory=list)
    numbers: list[Number] = field(default_factory=list)
    name: str = ""
    skipped: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0


def esc(value: object) -> str:
    """`value` as text with &, <, > and quotes escaped for HTML."""
    return html.escape(str(value), quote=True)


def paragraph(text: str) -> str:
    """One escaped paragraph."""
    return f"<p>{esc(text)}</p>\n"


def preformatted(text: str) -> str:
    """Escaped preformatted text (generated text, a command)."""
    return f"<pre>{esc(text)}</pre>\n"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, caption: str = "") -> str:
    """An HTML table of escaped cells; a cell holding a str that is not a number is left-aligned.

    >>> table(["word", "n"], [["<unk>", 3]])
    '<table>\\n<tr><th class="text">word</th><th>n</th></tr>\\n<tr><td class="text">&lt;unk&gt;</td><td>3</td></tr>\\n</table>\\n'
    """  # noqa: E501
    lines = ["<table>"]
    if caption:
        lines.append(f"<caption>{esc(caption)}</caption>")
    lines.append("<tr>" + "".join(f"<th{_align(h, header=True)}>{esc(h)}</th>" for h in headers)
                 + "</tr>")  # fmt: skip
    for row in rows:
        lines.append("<tr>" + "".join(f"<td{_align(c)}>{esc(c)}</td>" for c in row) + "</tr>")
    return "\n".join(lines) + "\n</table>\n"


def _align(cell: object, *, header: bool = False) -> str:
    if header:
        return ' class="text"' if cell in ("word", "token", "speaker", "text", "section") else ""
    if isinstance(cell, str):
        try:
            float(cell.replace(",", "").replace("%", "").replace("×", "e").split()[0])
        except (ValueError, IndexError):
            return ' class="text"'
    return ""


def _section_html(index: int, section: Section) -> str:
    anchor = esc(section.name or f"section-{index}")
    parts = [f'<section id="{anchor}">', f"<h2>{index}. {esc(section.title)}</h2>"]
    if section.skipped is not None:
        parts.append(f'<p class="skipped">skipped: {esc(section.skipped)}</p>')
        return "\n".join([*parts, "</section>"])
    parts.append(section.html)
    for figure in section.figures:
        parts.append(
            f'<figure><img src="{esc(figure.path)}" alt="{esc(figure.caption)}">'
            f"<figcaption>{esc(figure.caption)}</figcaption></figure>"
        )
    if section.numbers:
        parts.append("<h3>Numbers</h3>")
        rows = [[number.label, number.value, number.command] for number in section.numbers]
        parts.append(_numbers_table(rows))
    parts.append(
        f'<p class="meta">{section.seconds:.1f} s wall, {section.cpu_seconds:.1f} s CPU</p>'
    )
    return "\n".join([*parts, "</section>"])


def _numbers_table(rows: list[list[str]]) -> str:
    lines = ['<table class="numbers">',
             '<tr><th class="text">figure</th><th>value</th><th class="text">reproduce with</th>'
             "</tr>"]  # fmt: skip
    for label, value, command in rows:
        lines.append(f'<tr><td class="text">{esc(label)}</td><td>{esc(value)}</td>'
                     f'<td class="text"><code>{esc(command)}</code></td></tr>')  # fmt: skip
    return "\n".join(lines) + "\n</table>"


def time_rows(sections: Sequence[Section]) -> list[list[str]]:
    """Where the time went: [name, wall s, CPU s, share of the CPU] per section, then the total.

    CPU time is user + system time of the whole process (every thread), the figure to judge a
    run by on shared cores; wall time also counts the waits for a core.

    >>> time_rows([Section("", name="a", seconds=2.0, cpu_seconds=1.5),
    ...            Section("", name="b", seconds=1.0, cpu_seconds=0.5)])[-1]
    ['total', '3.0', '2.0', '100%']
    """
    cpu = sum(s.cpu_seconds for s in sections)
    rows = [
        [s.name, f"{s.seconds:.1f}", f"{s.cpu_seconds:.1f}",
         "skipped" if s.skipped is not None else f"{s.cpu_seconds / cpu:.0%}" if cpu else "-"]
        for s in sections
    ]  # fmt: skip
    total = sum(s.seconds for s in sections)
    return [*rows, ["total", f"{total:.1f}", f"{cpu:.1f}", "100%" if cpu else "-"]]


def _budget_note(quick: bool) -> str:
    if quick:
        return (
            "These are --quick numbers: small budgets (few updates, small models, the start of "
            "the longer texts), so the models are far from trained; <code>rnnkit tour</code> "
            "without --quick keeps the larger budgets."
        )
    return "The budgets are small, so the models are far from trained."


def render_page(
    sections: Sequence[Section], *, command: str, seconds: float, quick: bool = False
) -> str:
    """The whole page: title, how it was made, the contents in lecture order, the sections,
    then where the time went (`time_rows`)."""
    contents = "\n".join(
        f'<li><a href="#{esc(s.name or f"section-{i}")}">{esc(s.title)}</a>'
        + (" (skipped)" if s.skipped is not None else "")
        + "</li>"
        for i, s in enumerate(sections, start=1)
    )
    body = "\n".join(_section_html(i, s) for i, s in enumerate(sections, start=1))
    cpu = sum(s.cpu_seconds for s in sections)
    timing = table(["section", "wall s", "CPU s", "share of CPU"], time_rows(sections))
    made = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>rnnkit tour</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        "<h1>rnnkit: a guided tour of the lectures</h1>\n"
        f'<p class="meta">Made by <code>{esc(command)}</code> with rnnkit {esc(__version__)} '
        f"on {esc(made)} in {seconds:.0f} s ({cpu:.0f} s CPU). Every number below was "
        f"measured in that run. {_budget_note(quick)}</p>\n"
        f"<nav><h2>Contents</h2>\n<ol>\n{contents}\n</ol></nav>\n{body}\n"
        f'<section id="time"><h2>Where the time went</h2>\n{timing}</section>\n'
        "</body>\n</html>\n"
    )


def write_page(
    out_dir: Path, sections: Sequence[Section], *, command: str, seconds: float, quick: bool = False
) -> Path:
    """Write index.html and tour.json (sections, their numbers, status and times) into `out_dir`."""
    page = out_dir / PAGE_NAME
    page.write_text(render_page(sections, command=command, seconds=seconds, quick=quick),
                    encoding="utf-8")  # fmt: skip
    manifest = {
        "command": command,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(sum(s.cpu_seconds for s in sections), 1),
        "sections": [
            {
                "name": s.name,
                "title": s.title,
                "skipped": s.skipped,
                "seconds": round(s.seconds, 1),
                "cpu_seconds": round(s.cpu_seconds, 1),
                "figures": [f.path for f in s.figures],
                "numbers": [vars(n) for n in s.numbers],
            }
            for s in sections
        ],
    }
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return page

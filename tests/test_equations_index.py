"""Every entry of docs/EQUATIONS.md names a file and a top-level name that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = re.compile(r"`(src/[^`:]+\.py)::(\w+)`")


def test_every_equation_entry_exists() -> None:
    entries = ENTRY.findall((ROOT / "docs" / "EQUATIONS.md").read_text(encoding="utf-8"))
    assert len(entries) >= 15
    missing = []
    for file, name in entries:
        path = ROOT / file
        if not path.is_file():
            missing.append(file)
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
        }
        if (
            name not in defined
            or ast.get_docstring(next(n for n in tree.body if getattr(n, "name", None) == name))
            is None
        ):
            missing.append(f"{file}::{name}")
    assert not missing, missing

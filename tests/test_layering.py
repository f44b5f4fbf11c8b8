"""Imports inside rnnkit only go down the data path (STYLE.md §2)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "rnnkit"
STAGES = [
    "text", "represent", "cells", "layers", "models", "losses", "training",
    "datasets", "analysis", "tasks", "tour", "web", "cli",
]  # fmt: skip
ROOT_MODULES = {"errors", "config", "seeding", "console", "lazy", "__init__", "__main__"}


def _stage(module: str) -> str | None:
    head = module.split(".")[0]
    return head if head in STAGES else None


def _imported_stages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.startswith("rnnkit."):
                stage = _stage(name.removeprefix("rnnkit."))
                if stage:
                    found.add(stage)
    return found


def test_imports_only_go_down_the_data_path() -> None:
    violations = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        own = _stage(relative.with_suffix("").as_posix().replace("/", "."))
        if own is None:
            assert relative.stem in ROOT_MODULES, f"{relative} is outside every stage"
            continue
        for stage in _imported_stages(path):
            if STAGES.index(stage) > STAGES.index(own):
                violations.append(f"{relative} imports rnnkit.{stage}")
    assert not violations, violations

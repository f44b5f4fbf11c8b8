"""The modules of rnnkit.training import one another without a cycle, type-only imports included.

The trainer hands the snapshot (snapshot.py) the pieces a checkpoint is made of; the snapshot
never imports the trainer back, so checkpoint format, checkpoint directory and the trainer's
saved state read bottom-up: checkpoint.py → checkpoint_manager.py → snapshot.py → trainer.py.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import rnnkit.training

PACKAGE = Path(rnnkit.training.__file__).parent
PREFIX = "rnnkit.training."


def _imports(path: Path) -> set[str]:
    """Sibling modules `path` imports anywhere, under `if TYPE_CHECKING:` and in functions too."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "rnnkit.training":
            found.update(alias.name for alias in node.names)  # `from rnnkit.training import x`
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PREFIX):
            found.add(node.module.removeprefix(PREFIX).split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(
                alias.name.removeprefix(PREFIX).split(".")[0]
                for alias in node.names
                if alias.name.startswith(PREFIX)
            )
    return found


def _graph() -> dict[str, set[str]]:
    modules = {path.stem: path for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    return {name: _imports(path) & set(modules) for name, path in modules.items()}


def test_the_training_modules_import_each_other_without_a_cycle() -> None:
    graph = _graph()
    assert {"snapshot", "trainer", "checkpoint", "checkpoint_manager", "history"} <= set(graph)
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as err:
        raise AssertionError(f"import cycle among rnnkit.training modules: {err.args[1]}") from err
    assert "trainer" not in graph["snapshot"]
    assert "snapshot" in graph["trainer"]


def test_the_snapshot_reads_no_private_member_of_another_object() -> None:
    tree = ast.parse((PACKAGE / "snapshot.py").read_text(encoding="utf-8"))
    private = [
        f"{ast.unparse(node.value)}.{node.attr} (line {node.lineno})"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    ]
    assert private == []

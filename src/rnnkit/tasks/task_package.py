"""The public names of a task package (`rnnkit.tasks.<task>`), read from its modules on use.

A task package holds `config.py` (torch-free: its `TASK_INFO` registers the task), `train.py`
(build, report and usually the loader) and the task's helpers. Its `__init__` stays light: a
name such as `rnnkit.tasks.charlm.load_language_model` is looked up in the package's modules in
the order given (config first, so the config classes need no torch) when it is first read
(PEP 562, https://peps.python.org/pep-0562/). Patch a module itself, not the package: the
package only forwards reads.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

_MISSING = object()


def task_package_exports(
    namespace: dict[str, Any], modules: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for the task package whose globals are `namespace`.

    Args:
        namespace: the package's `globals()` (it must define `__name__`).
        modules: the package's modules whose names it offers, searched in this order.
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:  # noqa: N807  (PEP 562's name)
        if name.startswith("__"):  # dunders (__wrapped__, __path__, …) never import a module
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if name in modules:
            return importlib.import_module(f"{package}.{name}")
        for module in modules:
            value = getattr(importlib.import_module(f"{package}.{module}"), name, _MISSING)
            if value is not _MISSING:
                return value
        raise AttributeError(f"module {package!r} has no attribute {name!r} (in none of {modules})")

    def __dir__() -> list[str]:  # noqa: N807
        return sorted({*namespace, *modules})

    return __getattr__, __dir__


__all__ = ["task_package_exports"]

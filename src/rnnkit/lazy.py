"""Lazy re-exports for a package's `__init__` (PEP 562), so that `import rnnkit` stays light.

References:
    https://peps.python.org/pep-0562/ (module __getattr__ and __dir__)

A package lists the names it re-exports and the module defining each; the module is imported
when a name is first read, so `import rnnkit` and `rnnkit --help` do not import torch
(`python -m bench.startup` measures it).

    >>> import types
    >>> package = types.ModuleType("demo")
    >>> package.__all__ = ["sqrt"]
    >>> package.__getattr__, package.__dir__ = lazy_exports(vars(package), {"sqrt": "math"})
    >>> package.sqrt(4.0), "sqrt" in vars(package)
    (2.0, True)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    namespace: dict[str, Any], exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for the package whose globals are `namespace`.

    Args:
        namespace: the package's `globals()`; it must define `__name__` and `__all__`.
        exports: re-exported name -> the module that defines it.
    """

    def __getattr__(name: str) -> Any:  # noqa: N807  (PEP 562's name)
        if name not in exports:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        namespace[name] = value  # the next access skips __getattr__
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted({*namespace, *namespace["__all__"]})

    return __getattr__, __dir__


__all__ = ["lazy_exports"]

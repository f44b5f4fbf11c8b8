"""Load a script of `bench/reliability/` as a module, for the short CI versions of its campaigns."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parents[2] / "bench" / "reliability"


def load_script(name: str) -> ModuleType:
    """bench/reliability/NAME.py as the module `bench_NAME` (registered, as dataclasses need)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", SCRIPTS / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {SCRIPTS / name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module

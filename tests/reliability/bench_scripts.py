"""Load a file that is not in a package (a `bench/reliability/` script, `tests/web/conftest.py`)
as a module, once, for the short CI versions of the campaigns."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "bench" / "reliability"
WEB_FIXTURES = ROOT / "tests" / "web" / "conftest.py"


def load_module(path: Path, name: str) -> ModuleType:
    """The module at `path` under `name`, loaded on the first call and shared afterwards."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up by name
        spec.loader.exec_module(module)
    return sys.modules[name]


def load_script(name: str) -> ModuleType:
    """bench/reliability/NAME.py as the module `bench_NAME`."""
    return load_module(SCRIPTS / f"{name}.py", f"bench_{name}")

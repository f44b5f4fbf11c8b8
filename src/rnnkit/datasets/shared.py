"""Where the shared data sets live: `shared/data` here, beside this folder or beside the checkout.

`../shared/data` (see its README for the source, licence and format of each set) sits beside
the project in development and CI; a task falls back to it when no `--data` is given.
"""

from __future__ import annotations

from pathlib import Path

from rnnkit.errors import DataError


def shared_data_roots() -> list[Path]:
    """The folders searched, in order: ./shared/data, ../shared/data, <checkout>/../shared/data."""
    checkout = Path(__file__).resolve().parents[3]  # src/rnnkit/datasets/shared.py -> checkout
    return [Path("shared/data"), Path("../shared/data"), checkout.parent / "shared" / "data"]


def locate_shared(folder: str) -> Path | None:
    """shared/data/`folder` in the first root that holds it, or None."""
    for root in shared_data_roots():
        if (root / folder).exists():
            return root / folder
    return None


def find_shared(folder: str, *, flag: str = "--data PATH") -> Path:
    """shared/data/`folder`; DataError naming the roots searched and the flag to pass instead.

    Example:
        >>> find_shared("no_such_set", flag="--data DIR")
        Traceback (most recent call last):
        ...
        rnnkit.errors.DataError: no_such_set not found under ['shared/data', ...]; pass --data DIR
    """
    found = locate_shared(folder)
    if found is None:
        roots = [str(root) for root in shared_data_roots()]
        raise DataError(f"{folder} not found under {roots}; pass {flag}")
    return found


__all__ = ["find_shared", "locate_shared", "shared_data_roots"]

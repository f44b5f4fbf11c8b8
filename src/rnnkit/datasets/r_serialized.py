"""A small reader for R's saved workspaces (`.rda` / `.RData`, made by `save()`).

Only what a data set in an R package needs: data frames of numbers, strings and factors.
The file is gzip, bzip2 or xz compressed; inside is R's serialization, format 2 or 3, in XDR
(big-endian) encoding (R Internals §1.8 "Serialization Formats"):

    "RDX2\\n" | "RDX3\\n"   then  "X\\n"  then  version, writer R version, min reader version
    (format 3: native-encoding length and name)   then one pairlist  name₁ = value₁, …

Each item starts with an int `flags`: type = flags & 0xFF, has-attributes = bit 9,
has-tag = bit 10 (only pairlist cells carry a tag). A vector is its length then its
elements, then its attributes (a pairlist) if it has any; a pairlist cell is attributes?, tag?,
CAR, CDR. Symbols go in a reference table that later REFSXP items (type 255,
index = flags >> 8) point into.

R values become Python ones: NULL → None, logical/integer/double vectors → numpy arrays (NA is
kept as R's NA_integer_ = -2³¹ for integers, NaN for doubles), character vectors → lists of str
(NA → None), generic vectors (lists, data frames) → `RList` with their attributes.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.errors import DataError

# SEXP types (R Internals §1.1.1) and the special items of the serialization
NILSXP, SYMSXP, LISTSXP, CHARSXP, LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP = (
    0, 1, 2, 9, 10, 13, 14, 16, 19
)  # fmt: skip
REFSXP, NILVALUE_SXP, GLOBALENV_SXP, EMPTYENV_SXP, BASEENV_SXP = 255, 254, 253, 242, 241
NA_INTEGER = -(2**31)
MAX_DEPTH = 200  # nesting deeper than any data set needs: a bad file, not a stack overflow


@dataclass
class RList:
    """A generic R vector (list, data frame): its elements and its attributes by name."""

    values: list[Any]
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """The `names` attribute (a data frame's column names), or [] if absent."""
        return list(self.attributes.get("names") or [])


@dataclass
class RVector:
    """An atomic R vector that carries attributes (e.g. a factor: codes, levels, class)."""

    data: Any
    attributes: dict[str, Any] = field(default_factory=dict)


class _Reader:
    """Reads XDR serialized items from a byte string (R Internals §1.8)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.refs: list[Any] = []

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise DataError(f"R data ends early: wanted {n} bytes at offset {self.pos}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def int(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def length(self) -> int:
        n = self.int()
        if n == -1:  # long vector: two ints, upper and lower 32 bits
            n = (self.int() << 32) + self.int()
        if n < 0 or n > len(self.data):
            raise DataError(f"R data has a bad vector length {n}")
        return n

    def item(self, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise DataError("R data nests too deeply")
        flags = self.int()
        kind = flags & 0xFF
        has_attr = bool(flags & (1 << 9))
        if kind == NILVALUE_SXP:
            return None
        if kind in (GLOBALENV_SXP, EMPTYENV_SXP, BASEENV_SXP):
            return None  # environments carry no data a data set needs
        if kind == REFSXP:
            index = flags >> 8 or self.int()
            if not 1 <= index <= len(self.refs):
                raise DataError(f"R data refers to unknown item {index}")
            return self.refs[index - 1]
        if kind == SYMSXP:
            name = self.item(depth + 1)  # a CHARSXP
            self.refs.append(name)
            return name
        if kind == LISTSXP:
            return self.pairlist(flags, depth)
        if kind == CHARSXP:
            n = self.int()
            return None if n == -1 else self.take(n).decode("utf-8", errors="replace")
        if kind in (LGLSXP, INTSXP):
            n = self.length()
            value: Any = np.frombuffer(self.take(4 * n), dtype=">i4").astype(np.int64)
        elif kind == REALSXP:
            n = self.length()
            value = np.frombuffer(self.take(8 * n), dtype=">f8").astype(np.float64)
        elif kind == STRSXP:
            value = [self.item(depth + 1) for _ in range(self.length())]
        elif kind == VECSXP:
            value = RList([self.item(depth + 1) for _ in range(self.length())])
        else:
            raise DataError(f"R data holds an item of type {kind}, which this reader does not read")
        if not has_attr:
            return value
        attributes = self.item(depth + 1) or {}
        if isinstance(value, RList):
            value.attributes = attributes
            return value
        return RVector(value, attributes)

    def pairlist(self, flags: int, depth: int) -> dict[str, Any]:
        """A pairlist (attributes, the saved objects) as {tag: value}, iteratively over CDRs."""
        out: dict[str, Any] = {}
        while True:
            if flags & (1 << 9):
                self.item(depth + 1)  # a pairlist cell's own attributes: unused
            tag = self.item(depth + 1) if flags & (1 << 10) else None
            out[str(tag) if tag is not None else f"[[{len(out) + 1}]]"] = self.item(depth + 1)
            flags = self.int()  # the CDR: another cell, or NILVALUE
            if flags & 0xFF == NILVALUE_SXP:
                return out
            if flags & 0xFF != LISTSXP:
                raise DataError("R data has a pairlist whose tail is not a pairlist")


def decompress(raw: bytes) -> bytes:
    """The serialized bytes of an .rda file: gzip, bzip2, xz or not compressed."""
    try:
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        if raw[:3] == b"BZh":
            return bz2.decompress(raw)
        if raw[:6] == b"\xfd7zXZ\x00":
            return lzma.decompress(raw)
    except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
        raise DataError(f"R data file is corrupt: {exc}") from exc
    return raw


def parse_rda(raw: bytes) -> dict[str, Any]:
    """{object name: value} of a saved R workspace given as the file's bytes."""
    data = decompress(raw)
    magic = data[:5]
    if magic not in (b"RDX2\n", b"RDX3\n"):
        raise DataError(f"not an R workspace (.rda) file: starts with {magic!r}")
    reader = _Reader(data)
    reader.pos = 5
    if reader.take(2) != b"X\n":
        raise DataError("R workspace is not in XDR format (only XDR is read)")
    version = reader.int()
    reader.int(), reader.int()  # the writer's R version, the oldest R that can read it
    if version == 3:
        reader.take(reader.int())  # the native encoding's name
    elif version != 2:
        raise DataError(f"R serialization format {version} is not read (only 2 and 3)")
    flags = reader.int()
    if flags & 0xFF != LISTSXP:
        raise DataError("R workspace does not hold a pairlist of objects")
    return reader.pairlist(flags, 0)


def read_rda(path: str | Path) -> dict[str, Any]:
    """{object name: value} of the .rda file at `path`."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read R data file {path}: {exc}") from exc
    return parse_rda(raw)


def factor_labels(column: Any) -> list[str]:
    """The labels of an R factor (integer codes 1…K plus a `levels` attribute); NA → ''."""
    if not isinstance(column, RVector) or "levels" not in column.attributes:
        raise DataError("expected an R factor (integer codes with levels)")
    levels = list(column.attributes["levels"])
    codes = np.asarray(column.data)
    if codes.size and (codes[codes != NA_INTEGER].min(initial=1) < 1 or codes.max() > len(levels)):
        raise DataError("R factor has codes outside its levels")
    return ["" if code == NA_INTEGER else str(levels[code - 1]) for code in codes.tolist()]

"""Bounded reads of a user's text files: regular files only, streamed, stopped at a limit.

Every reader of a corpus or a data file goes through `read_text` (or `regular_file` where it
streams itself), so that `--data /dev/zero`, a FIFO or a file of many gigabytes never grows
memory without bound: a path that is not a regular file is refused before it is opened (opening
a FIFO would block), and the text is decoded in blocks of `BLOCK_BYTES` until `max_chars`
characters are held, or refused past `MAX_TEXT_CHARS`. A gzip file is unpacked as it is read, so
a small archive cannot unpack into more than the same limit.

    held ≤ min(max_chars, MAX_TEXT_CHARS) characters + one block
"""

from __future__ import annotations

import codecs
import gzip
import os
import stat
import zlib
from pathlib import Path
from typing import BinaryIO

from rnnkit.errors import DataError

MAX_TEXT_CHARS = 2**28  # 268,435,456 characters: the most one text file may hold in memory
CSV_FIELD_LIMIT = MAX_TEXT_CHARS  # csv.field_size_limit: one field may be as long as a file
BLOCK_BYTES = 1 << 20  # bytes read and decoded at a time
_KINDS = {stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device",
          stat.S_ISFIFO: "a FIFO (named pipe)", stat.S_ISSOCK: "a socket",
          stat.S_ISDIR: "a folder"}  # fmt: skip


def regular_file(path: str | Path, what: str = "data file") -> Path:
    """`path` if it names a regular file (after symlinks), else a DataError saying what it is.

    >>> regular_file("/dev/zero")
    Traceback (most recent call last):
    rnnkit.errors.DataError: data file /dev/zero is a character device, not a regular file; pass a file (or a copy of the stream's data)
    """  # noqa: E501
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError as err:
        raise DataError(f"{what} not found: {path}") from err
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS.items() if test(mode)), "not a file")
        raise DataError(
            f"{what} {path} is {kind}, not a regular file; pass a file (or a copy of the "
            "stream's data)"
        )
    return path


def read_text(
    path: str | Path,
    *,
    max_chars: int | None = None,
    what: str = "data file",
    encoding: str = "utf-8",
    gzip_ok: bool = False,
    limit: int = MAX_TEXT_CHARS,
    fix: str = "",
) -> str:
    """The text of a regular file, read in blocks: its first `max_chars` characters, or all of it.

    CRLF line ends read as LF (as text mode does). `encoding="utf-8-sig"` drops a leading byte
    order mark (Excel's "CSV UTF-8", Notepad). With `gzip_ok`, a file starting with the gzip
    magic number is unpacked as it is read. A file holding more than `limit` characters (when
    `max_chars` does not stop the read first) is a DataError naming the limit and `fix`.

    Raises:
        DataError: not a regular file, not UTF-8, a damaged gzip stream, or over `limit`.
    """
    path = regular_file(path, what)
    want = limit if max_chars is None else min(max_chars, limit)
    with path.open("rb") as handle:
        stream: BinaryIO = handle
        if gzip_ok and handle.read(2) == b"\x1f\x8b":
            stream = gzip.GzipFile(fileobj=handle)  # type: ignore[assignment]
        handle.seek(0)
        try:
            parts, held = _decode_blocks(stream, path, want, encoding)
        except (OSError, EOFError, zlib.error) as err:
            if stream is handle:
                raise
            raise DataError(f"{path} starts like gzip but does not unpack: {err}") from err
    if held > want and max_chars is None:
        raise DataError(
            f"{path} holds over {limit:,} characters, the most rnnkit reads from one file"
            + (f"; {fix}" if fix else "")
        )
    return "".join(parts)[:want]


def _decode_blocks(stream: BinaryIO, path: Path, want: int, encoding: str) -> tuple[list[str], int]:
    """Decoded blocks until more than `want` characters are held or the stream ends."""
    decoder = codecs.getincrementaldecoder(encoding)()
    parts: list[str] = []
    held = offset = 0
    pending_cr = ""
    while held <= want:
        block = stream.read(BLOCK_BYTES)
        buffered = len(decoder.getstate()[0])
        try:
            text = decoder.decode(block, final=not block)
        except UnicodeDecodeError as err:
            bad = err.object[err.start : err.start + 1]
            at = offset - buffered + err.start
            raise DataError(f"{path} is not UTF-8 text (byte {at}: {bad!r})") from err
        offset += len(block)
        text = pending_cr + text
        pending_cr = ""
        if block and text.endswith("\r"):  # a CRLF may be cut between two blocks
            text, pending_cr = text[:-1], "\r"
        text = text.replace("\r\n", "\n")
        parts.append(text)
        held += len(text)
        if not block:
            break
    return parts, held

"""Word-vector files: the word2vec text and binary formats, and safetensors + a JSON vocabulary.

    text      "V E\\n", then one line per word: "word v_1 … v_E\\n" (decimal numbers)
    binary    "V E\\n", then per word: "word " + E little-endian float32 (4·E bytes) + "\\n"
    rnnkit    FILE.safetensors holding `vectors` (V, E) float32, and vocab.json beside it:
              {"format": "rnnkit.word_vectors", "version": 1, "words": [...], "counts": [...]}

The C tool writes the "\\n" after each binary vector; gensim 4 writes none and, like the C
reader, skips a newline before a word, so both variants are read. Words are written most
frequent first, the order `restrict_vocab` relies on. Writes go to a temporary file that
replaces the target at the end, so a killed save leaves the old file intact; only a regular file
is replaced (a device or FIFO is written directly, see `_atomic_open`). A binary word is at most
MAX_WORD_BYTES long, for writer and reader alike. A corrupt,
truncated or foreign file raises DataError naming the file and the line or byte offset.

References:
    T. Mikolov, word2vec (2013), https://code.google.com/archive/p/word2vec/ (word2vec.c and
    distance.c define both formats).
    gensim `KeyedVectors.save_word2vec_format` / `load_word2vec_format`.
    safetensors, https://huggingface.co/docs/safetensors
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from rnnkit.errors import ConfigError, DataError, ShapeError, VocabError
from rnnkit.represent.word2vec.vectors import WordVectors

VectorFormat = Literal["text", "binary", "safetensors"]
VOCAB_FORMAT = "rnnkit.word_vectors"
VOCAB_VERSION = 1
TENSOR_NAME = "vectors"
MAX_WORD_BYTES = 1000  # longest word of the binary format, in UTF-8 bytes (reader and writer)


def detect_format(path: str | Path) -> VectorFormat:
    """ "safetensors" for *.safetensors, "binary" for *.bin, "text" otherwise (.txt, .vec …)."""
    suffix = Path(path).suffix.lower()
    return "safetensors" if suffix == ".safetensors" else "binary" if suffix == ".bin" else "text"


@contextlib.contextmanager
def _atomic_open(path: Path) -> Iterator[IO[bytes]]:
    """A binary handle on a temp file beside `path`; it replaces `path` when the block ends.

    Only a regular file is ever replaced: a character device or a FIFO (/dev/null,
    /dev/stdout, a named pipe) is written directly, a symlink's target is replaced (not the
    link), and any other kind (a directory, a block device, a socket) is a DataError.
    """
    path = Path(os.path.realpath(path))  # a symlink: replace the file it names, keep the link
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        with open(path, "wb") as stream:
            yield stream
        return
    if not stat.S_ISREG(mode):
        raise DataError(
            f"{path} is not a regular file (a directory, block device or socket); rnnkit writes "
            "vectors to a file, a character device or a FIFO only: give a file name"
        )
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as temp_file:
            yield temp_file
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _check_words_writable(vectors: WordVectors, *, binary: bool = False) -> None:
    """DataError if a word would break the word2vec formats (empty or holding whitespace), or
    the binary format's reader (over MAX_WORD_BYTES)."""
    for word in vectors.words:
        if not word or word.split() != [word]:
            raise DataError(
                f"the word {word!r} is empty or holds whitespace; the word2vec formats separate"
                " words by spaces, so save it as safetensors instead"
            )
        if binary and len(word.encode("utf-8", "surrogatepass")) > MAX_WORD_BYTES:
            raise DataError(
                f"the word {word[:40]!r}… is {len(word.encode('utf-8', 'surrogatepass')):,} "
                f"bytes long; the binary format holds words of at most {MAX_WORD_BYTES:,} bytes"
                " (the reader's bound), so export it as text or safetensors instead"
            )


def save_word2vec_text(vectors: WordVectors, path: str | Path) -> Path:
    """Write the text format; "%.9g" keeps every float32 exact."""
    path = Path(path)
    _check_words_writable(vectors)
    rows = vectors.vectors.numpy()
    row_format = " ".join(["%.9g"] * vectors.embed_dim)
    with _atomic_open(path) as out:
        out.write(f"{len(vectors)} {vectors.embed_dim}\n".encode())
        for word, row in zip(vectors.words, rows, strict=True):
            out.write(f"{word} {row_format % tuple(row)}\n".encode())
    return path


def save_word2vec_binary(vectors: WordVectors, path: str | Path) -> Path:
    """Write the binary format of the C tool (a newline after each vector)."""
    path = Path(path)
    _check_words_writable(vectors, binary=True)
    rows = vectors.vectors.numpy().astype("<f4")
    with _atomic_open(path) as out:
        out.write(f"{len(vectors)} {vectors.embed_dim}\n".encode())
        for word, row in zip(vectors.words, rows, strict=True):
            out.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
    return path


def _read_header(line: bytes, where: str) -> tuple[int, int]:
    """(V, E) of a "V E" header line; DataError otherwise."""
    parts = line.split()
    if (
        len(parts) != 2
        or not all(part.isdigit() and len(part) <= 18 for part in parts)  # int() refuses 4300+
        or int(parts[0]) < 1
        or int(parts[1]) < 1
    ):
        raise DataError(
            f"{where}: expected the word2vec header 'V E' (two positive integers), got"
            f" {line[:60]!r}; is this a word2vec file?"
        )
    return int(parts[0]), int(parts[1])


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as err:
        raise DataError(f"word vector file not found: {path}") from err


def _finish(path: Path, words: list[str], rows: list[np.ndarray] | np.ndarray) -> WordVectors:
    """WordVectors of parsed rows; DataError for NaN/inf values or repeated words."""
    matrix = torch.from_numpy(np.asarray(rows, dtype=np.float32).reshape(len(words), -1))
    if not bool(torch.isfinite(matrix).all()):
        row = int((~torch.isfinite(matrix)).any(1).nonzero()[0])
        raise DataError(f"{path}: the vector of {words[row]!r} holds NaN or infinity")
    try:
        return WordVectors(words, matrix)
    except VocabError as err:
        raise DataError(f"{path}: {err}") from err


def load_word2vec_text(path: str | Path) -> WordVectors:
    """Read the text format (header "V E" required, as gensim and the C tool write it)."""
    path = Path(path)
    lines = _read_bytes(path).split(b"\n")
    count, embed_dim = _read_header(lines[0], f"{path}:1")
    words, rows = [], []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            word, *fields = line.decode("utf-8").rstrip().split(" ")
        except UnicodeDecodeError as err:
            raise DataError(f"{where}: not UTF-8 text ({err}); a binary file?") from err
        if len(fields) != embed_dim:
            raise DataError(
                f"{where}: expected a word and {embed_dim} numbers, got {len(fields)} numbers"
            )
        try:
            rows.append(np.array(fields, dtype=np.float32))
        except ValueError as err:
            raise DataError(f"{where}: {err} (expected `word v_1 … v_E`)") from err
        words.append(word)
    if len(words) != count:
        raise DataError(f"{path}: header announces {count} vectors, file has {len(words)}")
    return _finish(path, words, rows)


def load_word2vec_binary(path: str | Path) -> WordVectors:
    """Read the binary format, with or without a newline after each vector."""
    path = Path(path)
    data = _read_bytes(path)
    end = data.find(b"\n")
    count, embed_dim = _read_header(data[: end if end >= 0 else 80], f"{path}, byte 0")
    size, offset = 4 * embed_dim, end + 1
    if count * (size + 1) > len(data) - offset:  # each vector: ≥ 1 byte of word, 4·E of floats
        raise DataError(
            f"{path}: the header announces {count} vectors of {embed_dim} float32, at least"
            f" {count * (size + 1)} bytes, but {len(data) - offset} follow; truncated, or not a"
            " binary word2vec file"
        )
    words, rows = [], np.empty((count, embed_dim), dtype=np.float32)
    for row in range(count):
        offset += data[offset : offset + 1] == b"\n"  # the C tool's newline after a vector
        space = data.find(b" ", offset, offset + MAX_WORD_BYTES + 1)
        if space < 0 or len(data) - space - 1 < size:
            raise DataError(
                f"{path}, byte {offset}: truncated or corrupt at word {row + 1} of {count}"
                f" (expected 'word ' + {size} bytes of float32)"
            )
        try:
            words.append(data[offset:space].decode("utf-8"))
        except UnicodeDecodeError as err:
            raise DataError(f"{path}, byte {offset}: word {row + 1} is not UTF-8: {err}") from err
        rows[row] = np.frombuffer(data, dtype="<f4", count=embed_dim, offset=space + 1)
        offset = space + 1 + size
    if data[offset:].strip():
        raise DataError(
            f"{path}, byte {offset}: {len(data) - offset} bytes after the {count} vectors the"
            " header announces; the count is wrong or this is a text file"
        )
    return _finish(path, words, rows)


def save_safetensors(
    vectors: WordVectors, path: str | Path, *, vocab_path: str | Path | None = None
) -> Path:
    """Write `vectors` (V, E) to `path` and the words and counts to `vocab_path`.

    `vocab_path` defaults to vocab.json in the same folder.
    """
    path = Path(path)
    vocab_path = path.with_name("vocab.json") if vocab_path is None else Path(vocab_path)
    vocab = {
        "format": VOCAB_FORMAT,
        "version": VOCAB_VERSION,
        "words": vectors.words,
        "counts": vectors.counts,
    }
    with _atomic_open(path) as out:
        out.write(save({TENSOR_NAME: vectors.vectors}, metadata={"format": VOCAB_FORMAT}))
    with _atomic_open(vocab_path) as out:
        out.write((json.dumps(vocab, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


def _read_vocab(path: Path) -> tuple[list[str], list[int] | None]:
    """(words, counts) of a vocab.json; DataError naming the file and the key."""
    try:
        data = json.loads(_read_bytes(path).decode("utf-8"))
    except (ValueError, RecursionError) as err:  # also not UTF-8, too deep, a huge int
        raise DataError(
            f"{path} is not valid JSON (corrupt or truncated?): {str(err)[:200]}"
        ) from err
    if not isinstance(data, dict) or data.get("format") != VOCAB_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise DataError(f"{path}: expected key 'format' = {VOCAB_FORMAT!r}, got {found!r}")
    if not isinstance(data.get("version"), int) or data["version"] > VOCAB_VERSION:
        raise DataError(f"{path}: unsupported version {data.get('version')!r}")
    words, counts = data.get("words"), data.get("counts")
    if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
        raise DataError(f"{path}: key 'words' must be a list of strings")
    if counts is not None and (
        not isinstance(counts, list) or not all(isinstance(c, int) and c >= 0 for c in counts)
    ):
        raise DataError(f"{path}: key 'counts' must be null or a list of non-negative integers")
    return words, counts


def load_safetensors(path: str | Path, *, vocab_path: str | Path | None = None) -> WordVectors:
    """Read what `save_safetensors` wrote."""
    path = Path(path)
    vocab_path = path.with_name("vocab.json") if vocab_path is None else Path(vocab_path)
    if not path.is_file():
        raise DataError(f"word vector file not found: {path}")
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as err:
        raise DataError(f"{path} is not a readable safetensors file (corrupt?): {err}") from err
    if set(tensors) != {TENSOR_NAME}:
        raise DataError(
            f"{path}: expected one tensor named {TENSOR_NAME!r}, got {sorted(tensors)};"
            " not an rnnkit word-vector file"
        )
    words, counts = _read_vocab(vocab_path)
    matrix = tensors[TENSOR_NAME]
    try:
        return WordVectors(words, matrix.float(), counts)
    except (ShapeError, VocabError) as err:
        raise DataError(f"{path} and {vocab_path} do not match: {err}") from err


def save_vectors(
    vectors: WordVectors, path: str | Path, *, format: VectorFormat | None = None
) -> Path:
    """Write in `format`, chosen from the suffix when None (see `detect_format`)."""
    savers = {
        "text": save_word2vec_text,
        "binary": save_word2vec_binary,
        "safetensors": save_safetensors,
    }
    chosen = format or detect_format(path)
    if chosen not in savers:
        raise ConfigError(f"format must be one of {sorted(savers)}, got {chosen!r}")
    return savers[chosen](vectors, path)


def load_vectors(path: str | Path, *, format: VectorFormat | None = None) -> WordVectors:
    """Read a file in `format`, chosen from the suffix when None (see `detect_format`)."""
    loaders = {
        "text": load_word2vec_text,
        "binary": load_word2vec_binary,
        "safetensors": load_safetensors,
    }
    chosen = format or detect_format(path)
    if chosen not in loaders:
        raise ConfigError(f"format must be one of {sorted(loaders)}, got {chosen!r}")
    return loaders[chosen](path)


__all__ = [
    "VectorFormat",
    "detect_format",
    "load_safetensors",
    "load_vectors",
    "load_word2vec_binary",
    "load_word2vec_text",
    "save_safetensors",
    "save_vectors",
    "save_word2vec_binary",
    "save_word2vec_text",
]

"""The JSON file format of a Vocab: format name and version, field checks, atomic writes.

A file holds {"format": "rnnkit.vocab", "version": 1, "specials": [...], "tokens": [all
tokens in id order, specials first], "tokenizer": {Tokenizer fields} or null}. A file that is
missing, not JSON, foreign, from a newer version or inconsistent raises VocabError naming it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError, VocabError
from rnnkit.text.tokenize import Tokenizer

FORMAT_NAME = "rnnkit.vocab"
FORMAT_VERSION = 1


def vocab_to_dict(
    specials: list[str], tokens: list[str], tokenizer: Tokenizer | None
) -> dict[str, Any]:
    """The JSON-ready dict of a vocabulary (`tokens` in id order, specials first)."""
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "specials": specials,
        "tokens": tokens,
        "tokenizer": None if tokenizer is None else tokenizer.to_dict(),
    }


def vocab_from_dict(data: object) -> tuple[list[str], list[str], Tokenizer | None]:
    """(specials, ordinary tokens in id order, tokenizer) of a dict, after checking every field."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise VocabError(
            f"not an rnnkit vocabulary: expected key 'format' = {FORMAT_NAME!r}, got {found!r}"
        )
    if not isinstance(data.get("version"), int) or data["version"] > FORMAT_VERSION:
        raise VocabError(
            f"unsupported vocab version {data.get('version')!r}; this rnnkit reads"
            f" versions ≤ {FORMAT_VERSION}"
        )
    tokens, specials = data.get("tokens"), data.get("specials")
    for name, value in (("tokens", tokens), ("specials", specials)):
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise VocabError(f"key {name!r} must be a list of strings")
    duplicates = sorted(token for token, count in Counter(tokens).items() if count > 1)
    if duplicates:
        raise VocabError(f"key 'tokens' repeats {duplicates[:5]}")
    if tokens[: len(specials)] != specials:
        raise VocabError(f"key 'tokens' must start with the specials {specials}")
    spec = data.get("tokenizer")
    if spec is not None and not isinstance(spec, dict):
        raise VocabError(f"key 'tokenizer' must be an object or null, got {spec!r}")
    try:
        tokenizer = None if spec is None else Tokenizer.from_dict(spec)
    except ConfigError as err:
        raise VocabError(f"key 'tokenizer': {err}") from err
    return specials, tokens[len(specials) :], tokenizer


def write_json_atomic(path: str | Path, data: dict[str, Any]) -> None:
    """Write JSON to a temp file in the same folder, then os.replace it over `path`."""
    path = Path(path)
    try:
        encoded = (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: written as a \ud800 escape, read back as is
        encoded = (json.dumps(data, indent=1) + "\n").encode("ascii")
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as temp_file:
            temp_file.write(encoded)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def read_vocab_file(path: str | Path) -> tuple[list[str], list[str], Tokenizer | None]:
    """`vocab_from_dict` of a file; every VocabError names the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise VocabError(f"vocab file not found: {path}") from err
    except (ValueError, RecursionError) as err:  # also not UTF-8, too deep, a huge int
        raise VocabError(
            f"vocab file {path} is not valid JSON (corrupt or truncated?): {str(err)[:200]}"
        ) from err
    try:
        return vocab_from_dict(data)
    except VocabError as err:
        raise VocabError(f"vocab file {path}: {err}") from err

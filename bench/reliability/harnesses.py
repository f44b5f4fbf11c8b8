"""Fuzz harness bodies: bytes in, an rnnkit reader or loader called, its promises checked.

Each target is a function `body(data, scratch)` that writes `data` (or a part of it, after an
option byte) to a file under `scratch`, calls one public reader or loader, and checks what it
promises: a bad input raises the target's documented rnnkit error (`Target.expected`), a good
one loads and round-trips where the module says it does. Any other exception, a failed
`assert`, a hang or runaway memory is a defect. The bodies do not import atheris, so the tests
drive them without it; `fuzz.py` drives them with atheris.

References:
    https://github.com/google/atheris (coverage-guided Python fuzzing on libFuzzer)
    https://llvm.org/docs/LibFuzzer.html (the engine, its flags and its corpus directories)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from bench.reliability import fuzz_checkpoints as checkpoints  # tiny real checkpoints
from bench.reliability import fuzz_seeds as seeds  # a few valid inputs per target
from rnnkit.datasets.captions import read_coco_captions, read_flickr8k_tokens
from rnnkit.datasets.conll import read_conll, write_conll
from rnnkit.datasets.labelled_text import load_labelled_file
from rnnkit.datasets.timeseries import read_csv_series
from rnnkit.datasets.translation import read_tsv_pairs
from rnnkit.errors import CheckpointError, ConfigError, DataError, RnnkitError, VocabError
from rnnkit.represent.word2vec.formats import load_vectors, save_vectors
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import Vocab
from rnnkit.training.checkpoint import STATE_FILE, TENSOR_FILES, read_checkpoint
from rnnkit.training.state_dicts import (
    load_model_tensors,
    load_optimizer_tensors,
    tensors_to_structure,
)

Body = Callable[[bytes, Path], None]
_NORMAL_FORMS = (None, "NFC", "NFD", "NFKC", "NFKD")


@dataclass(frozen=True)
class Target:
    """A fuzz target: its body, the rnnkit errors that count as a refusal, its seed inputs."""

    body: Body
    expected: tuple[type[RnnkitError], ...]
    seeds: Callable[[], list[bytes]]


def _split(data: bytes) -> tuple[int, bytes]:
    """(option byte, the rest): the first byte picks options, the rest is the file."""
    return (data[0], data[1:]) if data else (0, b"")


def _write(scratch: Path, name: str, content: bytes) -> Path:
    path = scratch / name
    path.write_bytes(content)
    return path


# -- text --------------------------------------------------------------------------------------
def tokenize_body(data: bytes, scratch: Path) -> None:
    """Any text through each tokenizer kind; regex kind compiles the first line as the pattern."""
    flags, rest = _split(data)
    text = rest.decode("utf-8", "surrogateescape")  # any str, lone surrogates included
    kind = ("char", "word", "regex")[flags % 3]
    pattern = None
    if kind == "regex":
        pattern, _, text = text.partition("\n")
        text = text[:12]  # a fuzzed pattern may backtrack exponentially; keep its input short
    tokenizer = Tokenizer(
        kind=kind,
        lowercase=bool(flags & 4),
        keep_punctuation=bool(flags & 8),
        normalize=_NORMAL_FORMS[(flags >> 4) % 5],
        pattern=pattern,
    )
    tokens = tokenizer(text)
    assert Tokenizer.from_dict(json.loads(json.dumps(tokenizer.to_dict()))) == tokenizer
    if kind == "char" and tokenizer.normalize is None:
        folded = [c.lower() for c in text] if tokenizer.lowercase else list(text)
        assert tokens == folded, "char tokens must join back to the text"
    if kind == "word":
        assert all(token and not any(c.isspace() for c in token) for token in tokens)
    if tokens:
        vocab = Vocab.build_from_iterator([tokens], tokenizer=None)
        assert vocab.decode(vocab.encode(tokens, strict=True)) == tokens


def vocab_body(data: bytes, scratch: Path) -> None:
    """A vocab file: load it, then save and load again must give the same Vocab and tokenizer."""
    vocab = Vocab.load(_write(scratch, "vocab.json", data))
    copy = scratch / "vocab-copy.json"
    vocab.save(copy)
    again = Vocab.load(copy)
    assert again == vocab
    assert again.tokenizer == vocab.tokenizer
    tokens = vocab.tokens
    assert vocab.decode(vocab.encode(tokens, strict=True)) == tokens


# -- datasets ----------------------------------------------------------------------------------
def conll_body(data: bytes, scratch: Path) -> None:
    """A CoNLL file (delimiter auto, TAB or space); write_conll then read_conll gives it back."""
    flags, rest = _split(data)
    delimiter = (None, "\t", " ")[flags % 3]
    corpus = read_conll(_write(scratch, "data.conll", rest), delimiter=delimiter)
    copy = write_conll(scratch / "copy.conll", corpus)
    again = read_conll(copy, delimiter=None if delimiter is None else corpus.delimiter)
    assert [d.header for d in again.documents] == [d.header for d in corpus.documents]
    assert [s.rows for s in again.sentences] == [s.rows for s in corpus.sentences]


def tsv_body(data: bytes, scratch: Path) -> None:
    """A source<TAB>target file: every pair has two non-empty, stripped sides."""
    pairs = read_tsv_pairs(_write(scratch, "pairs.tsv", data))
    for side in (*pairs.sources, *pairs.targets):
        assert side
        assert side == side.strip()


def labelled_csv_body(data: bytes, scratch: Path) -> None:
    """A labelled .csv: at least two classes, one label id per text."""
    _check_labelled(load_labelled_file(_write(scratch, "data.csv", data)))


def labelled_jsonl_body(data: bytes, scratch: Path) -> None:
    """A labelled .jsonl: at least two classes, one label id per text."""
    _check_labelled(load_labelled_file(_write(scratch, "data.jsonl", data)))


def _check_labelled(found: object) -> None:
    texts, labels, classes = found.texts, found.labels, found.classes  # type: ignore[attr-defined]
    assert len(texts) == len(labels)
    assert len(classes) >= 2
    assert all(0 <= label < len(classes) for label in labels)


def coco_body(data: bytes, scratch: Path) -> None:
    """A COCO captions JSON file: every image kept has at least one non-empty caption."""
    found = read_coco_captions(_write(scratch, "captions.json", data))
    assert all(item.captions and all(item.captions) for item in found.items)


def flickr8k_body(data: bytes, scratch: Path) -> None:
    """A Flickr8k.token.txt file: image -> its non-empty captions."""
    found = read_flickr8k_tokens(_write(scratch, "Flickr8k.token.txt", data))
    assert found
    assert all(captions and all(captions) for captions in found.values())


def timeseries_body(data: bytes, scratch: Path) -> None:
    """A CSV series with columns t (and q) and v (and w); fill 'error' or 'interpolate'."""
    flags, rest = _split(data)
    fill = ("error", "interpolate")[flags % 2]
    times = ("t",) if flags & 2 else ("t", "q")
    values = ("v",) if flags & 4 else ("v", "w")
    series = read_csv_series(
        _write(scratch, "series.csv", rest), time_column=times, value_columns=values, fill=fill
    )
    assert series.values.shape == (len(series.timestamps), len(values))
    assert fill == "error" or not bool(torch.tensor(series.values).isnan().any())


# -- word vectors ------------------------------------------------------------------------------
def _vectors_round_trip(path: Path, format: str, scratch: Path) -> None:
    vectors = load_vectors(path, format=format)  # type: ignore[arg-type]
    if any(not word or word.split() != [word] for word in vectors.words):
        return  # the word2vec formats cannot write such a word (save_* refuses it)
    copy = save_vectors(vectors, scratch / f"copy-{path.name}", format=format)  # type: ignore[arg-type]
    again = load_vectors(copy, format=format)  # type: ignore[arg-type]
    assert again.words == vectors.words
    assert torch.equal(again.vectors, vectors.vectors)


def word2vec_text_body(data: bytes, scratch: Path) -> None:
    """A word2vec text file; what loads saves and loads back bit for bit."""
    _vectors_round_trip(_write(scratch, "vectors.txt", data), "text", scratch)


def word2vec_binary_body(data: bytes, scratch: Path) -> None:
    """A word2vec binary file; what loads saves and loads back bit for bit."""
    _vectors_round_trip(_write(scratch, "vectors.bin", data), "binary", scratch)


def word2vec_safetensors_body(data: bytes, scratch: Path) -> None:
    """vectors.safetensors and vocab.json, split at SEPARATOR in `data`."""
    tensor_bytes, _, vocab_bytes = data.partition(seeds.SEPARATOR)
    _write(scratch, "vocab.json", vocab_bytes)
    vectors = load_vectors(_write(scratch, "vectors.safetensors", tensor_bytes))
    assert len(vectors.words) == vectors.vectors.shape[0]


# -- checkpoints -------------------------------------------------------------------------------
def checkpoint_body(data: bytes, scratch: Path) -> None:
    """Mutate one file of a real checkpoint, then load it as a task or a resume would.

    Option byte: bits 0-1 the mutation (replace, truncate, flip, insert), bits 2-3 the file
    (state.json or a tensor file), bit 4 re-sign state.json; bytes 1-2 a position; the rest the
    payload. A replaced tensor file gets its sha256 and size rewritten in state.json, so foreign
    bytes reach the safetensors parser. Re-signing gives a changed state.json a matching
    state_sha256, as a hand edit or a faulty writer would, so it reaches the loaders behind
    the checksum. A tensor file changed any other way must fail its sha256 check.
    """
    flags, rest = _split(data)
    position, payload = int.from_bytes(rest[:2].ljust(2, b"\0")), rest[2:]
    mode, name = flags % 4, (STATE_FILE, *TENSOR_FILES)[(flags >> 2) % 4]
    path = checkpoints.fresh_copy(scratch / "ckpt")
    original = (path / name).read_bytes()
    changed = checkpoints.mutate(original, mode, position, payload)
    (path / name).write_bytes(changed)
    if mode == 0 and name != STATE_FILE:
        checkpoints.rehash(path, name, changed)
    if flags & 16:
        checkpoints.resign(path / STATE_FILE)
    loaded = read_checkpoint(path)  # CheckpointError: refused, as it should be
    assert name == STATE_FILE or mode == 0 or changed == original, f"{name} changed, not caught"
    model, optimizer = checkpoints.target_model()
    tensors, state = loaded.tensors, loaded.state
    load_model_tensors(model, tensors["model.safetensors"], source=path)
    load_optimizer_tensors(
        optimizer, tensors["optimizer.safetensors"], state.get("optimizer", {}), source=path
    )
    tensors_to_structure(tensors["loop.safetensors"], state.get("carry"), torch.device("cpu"))


def resume_body(data: bytes, scratch: Path) -> None:
    """The bytes after the option byte as state.json of a real trainer checkpoint, resumed.

    Option byte: bit 0 re-signs state.json (see `checkpoint_body`).
    """
    flags, rest = _split(data)
    path = checkpoints.fresh_copy(scratch / "resume", trainer=True)
    (path / STATE_FILE).write_bytes(rest)
    if flags & 1:
        checkpoints.resign(path / STATE_FILE)
    checkpoints.trainer().load_checkpoint(path)


TARGETS: dict[str, Target] = {
    "tokenize": Target(tokenize_body, (ConfigError, DataError), seeds.tokenize),
    "vocab": Target(vocab_body, (VocabError,), seeds.vocab),
    "conll": Target(conll_body, (DataError,), seeds.conll),
    "tsv": Target(tsv_body, (DataError,), seeds.tsv),
    "labelled_csv": Target(labelled_csv_body, (DataError,), seeds.labelled_csv),
    "labelled_jsonl": Target(labelled_jsonl_body, (DataError,), seeds.labelled_jsonl),
    "coco": Target(coco_body, (DataError,), seeds.coco),
    "flickr8k": Target(flickr8k_body, (DataError,), seeds.flickr8k),
    "timeseries": Target(timeseries_body, (DataError,), seeds.timeseries),
    "word2vec_text": Target(word2vec_text_body, (DataError,), seeds.word2vec_text),
    "word2vec_binary": Target(word2vec_binary_body, (DataError,), seeds.word2vec_binary),
    "word2vec_safetensors": Target(
        word2vec_safetensors_body, (DataError,), seeds.word2vec_safetensors
    ),
    "checkpoint": Target(checkpoint_body, (CheckpointError,), checkpoints.seeds),
    "resume": Target(resume_body, (CheckpointError,), checkpoints.resume_seeds),
}


def run_one(name: str, data: bytes, scratch: Path) -> bool:
    """Run target `name` on `data`: True if it loaded, False if refused with its expected error.

    Any other exception propagates: that is a crash.
    """
    target = TARGETS[name]
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        target.body(data, scratch)
    except target.expected:
        return False
    return True

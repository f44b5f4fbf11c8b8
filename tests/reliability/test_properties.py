"""Property-based tests (hypothesis): round trips where promised, and readers that fail cleanly.

A reader given arbitrary bytes, or text built from its format's own pieces, must either load
it or raise its documented rnnkit error; anything else fails the test. A checkpoint that is
truncated, bit-flipped or replaced by foreign bytes must raise CheckpointError.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit.datasets.captions import read_coco_captions, read_flickr8k_tokens
from rnnkit.datasets.conll import read_conll, tagged_corpus, write_conll
from rnnkit.datasets.labelled_text import load_labelled_file
from rnnkit.datasets.timeseries import read_csv_series
from rnnkit.datasets.translation import read_tsv_pairs
from rnnkit.errors import CheckpointError, DataError, VocabError
from rnnkit.represent.word2vec.formats import load_vectors, save_vectors
from rnnkit.represent.word2vec.vectors import WordVectors
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import Vocab
from rnnkit.training.checkpoint import STATE_FILE, TENSOR_FILES, read_checkpoint, write_checkpoint

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ODD = ["\ud800", "\udfff", "\x00", "\u2028", "\r", "\x85", "\u0301"]  # lone surrogates …
ANY_TEXT = st.text(st.characters(exclude_categories=()) | st.sampled_from(ODD), max_size=40)
WORD = st.text(st.characters(exclude_categories=["Z", "Cc", "Cs"]), min_size=1, max_size=8).filter(
    lambda w: w.split() == [w]  # a word2vec word: no whitespace of any kind
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    """One scratch folder for the module (hypothesis runs many examples per test)."""
    path = Path(tempfile.mkdtemp(prefix="rnnkit-props-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _written(folder: Path, name: str, content: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(
        content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    )
    return path


# -- round trips ---------------------------------------------------------------------------------
@FAST
@given(ANY_TEXT, st.booleans())
def test_char_tokenizer_joins_back_to_the_text(text: str, lowercase: bool) -> None:
    tokens = Tokenizer(kind="char", lowercase=lowercase)(text)
    assert "".join(tokens) == ("".join(c.lower() for c in text) if lowercase else text)
    assert len(tokens) == len(text)


@FAST
@given(ANY_TEXT, st.sampled_from([None, "NFC", "NFKC"]), st.booleans())
def test_word_tokens_are_spaceless_pieces_of_the_text_in_order(
    text: str, normalize: str | None, keep_punctuation: bool
) -> None:
    tokenizer = Tokenizer(kind="word", normalize=normalize, keep_punctuation=keep_punctuation)
    normalized = Tokenizer(kind="char", normalize=normalize)(text)
    position, joined = 0, "".join(normalized)
    for token in tokenizer(text):
        assert token
        assert not any(c.isspace() for c in token)
        position = joined.index(token, position) + len(token)


@FAST
@given(st.lists(ANY_TEXT, min_size=1, max_size=12))
def test_vocab_encode_decode_of_known_tokens(tokens: list[str]) -> None:
    vocab = Vocab.build_from_iterator([tokens], None)
    assert vocab.decode(vocab.encode(tokens, strict=True)) == tokens


TOKENS = st.lists(
    st.one_of(ANY_TEXT, st.sampled_from(["", " ", "\t", "\n", "\u200b", "<unk>", "null", "\\"])),
    max_size=12,
    unique=True,
)


@FAST
@given(TOKENS, st.lists(st.sampled_from(["<pad>", "", " ", "ß"]), unique=True, max_size=3))
def test_vocab_save_load_round_trips_any_token_strings(
    folder: Path, tokens: list[str], specials: list[str]
) -> None:
    vocab = Vocab(tokens, specials=specials, tokenizer=Tokenizer(kind="char"))
    path = folder / "vocab.json"
    vocab.save(path)
    loaded = Vocab.load(path)
    assert loaded == vocab
    assert loaded.tokens == vocab.tokens
    assert loaded.specials == vocab.specials
    assert loaded.tokenizer == Tokenizer(kind="char")


@FAST
@given(
    st.lists(
        st.lists(
            st.tuples(WORD, st.sampled_from(["O", "B-PER", "I-LOC", "S-X"])), min_size=1, max_size=4
        ),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from([" ", "\t"]),
)
def test_write_conll_then_read_conll_gives_the_corpus_back(
    folder: Path, sentences: list[list[tuple[str, str]]], delimiter: str
) -> None:
    pairs = [([w for w, _ in s], [t for _, t in s]) for s in sentences]
    corpus = tagged_corpus(pairs, delimiter=delimiter)
    again = read_conll(write_conll(folder / "c.conll", corpus))
    assert [(s.tokens, s.tags) for s in again.sentences] == pairs


@FAST
@given(
    st.lists(WORD, min_size=1, max_size=5, unique=True),
    st.integers(1, 3),
    st.sampled_from(["text", "binary"]),
    st.data(),
)
def test_word2vec_files_round_trip_every_float32_bit(
    folder: Path, words: list[str], embed_dim: int, format: str, data: st.DataObject
) -> None:
    floats = st.floats(width=32, allow_nan=False, allow_infinity=False)
    rows = data.draw(
        st.lists(
            st.lists(floats, min_size=embed_dim, max_size=embed_dim),
            min_size=len(words),
            max_size=len(words),
        )
    )
    vectors = WordVectors(words, torch.tensor(rows, dtype=torch.float32))
    path = save_vectors(vectors, folder / "v.vec", format=format)  # type: ignore[arg-type]
    again = load_vectors(path, format=format)  # type: ignore[arg-type]
    assert again.words == vectors.words
    assert torch.equal(again.vectors, vectors.vectors)


# -- readers on arbitrary input ------------------------------------------------------------------
def _lines(pieces: list[str]) -> st.SearchStrategy[str]:
    """Text of 0-6 lines, each a run of format pieces and arbitrary characters."""
    piece = st.sampled_from(pieces) | st.text(max_size=3)
    return st.lists(st.lists(piece, max_size=6).map("".join), max_size=6).map("\n".join)


def _content(pieces: list[str]) -> st.SearchStrategy[bytes | str]:
    return st.binary(max_size=200) | _lines(pieces)


READERS: dict[str, tuple[str, Callable[[Path], object], list[str]]] = {
    "conll": ("c.conll", read_conll, [" ", "\t", "O", "B-PER", "I-", "-DOCSTART-", "\r"]),
    "tsv": ("p.tsv", read_tsv_pairs, ["\t", " ", "\r", "\ufeff", "a"]),
    "labelled csv": ("d.csv", load_labelled_file, [",", '"', "text", "label", "\r", "a"]),
    "labelled jsonl": (
        "d.jsonl",
        load_labelled_file,
        ['{"text": ', '"label": ', "1", '"a"', "}", "[", ",", "9" * 20],
    ),
    "flickr8k": ("t.txt", read_flickr8k_tokens, ["a.jpg", "#", "0", "9" * 30, "\t", "\r"]),
    "timeseries": (
        "s.csv",
        lambda p: read_csv_series(p, time_column="t", value_columns="v", fill="interpolate"),
        ["t", "v", ",", "1.5", "nan", "", '"'],
    ),
    "word2vec text": (
        "v.txt",
        lambda p: load_vectors(p, format="text"),
        ["2 1\n", "0 3\n", "9" * 30, " ", "a", "1e40", "0.5"],
    ),
    "word2vec binary": (
        "v.bin",
        lambda p: load_vectors(p, format="binary"),
        ["1 1\n", "0 2\n", "9" * 25 + " 1\n", "a ", "\x00\x00\x80?", "\n"],
    ),
}


@FAST
@pytest.mark.parametrize("name", sorted(READERS))
@given(data=st.data())
def test_readers_load_or_raise_data_error_on_anything(
    folder: Path, name: str, data: st.DataObject
) -> None:
    file_name, reader, pieces = READERS[name]
    path = _written(folder, file_name, data.draw(_content(pieces)))
    with contextlib.suppress(DataError):
        reader(path)


@FAST
@given(
    st.one_of(JSON, st.fixed_dictionaries({"images": JSON, "annotations": JSON})),
    st.sampled_from(["", "[" * 3000, "1" * 5000]),
)
def test_coco_reader_loads_or_raises_data_error_on_any_json(
    folder: Path, value: object, prefix: str
) -> None:
    path = _written(folder, "captions.json", prefix + json.dumps(value))
    with contextlib.suppress(DataError):
        read_coco_captions(path)


@FAST
@given(
    st.one_of(
        JSON,
        st.fixed_dictionaries(
            {
                "format": st.just("rnnkit.vocab"),
                "version": JSON,
                "specials": JSON,
                "tokens": JSON,
                "tokenizer": JSON,
            }
        ),
    ),
    st.binary(max_size=4),
)
def test_vocab_load_loads_or_raises_vocab_error_on_any_json(
    folder: Path, value: object, tail: bytes
) -> None:
    path = _written(folder, "vocab.json", json.dumps(value).encode() + tail)
    with contextlib.suppress(VocabError):
        Vocab.load(path)


# -- checkpoints ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint(folder: Path) -> Path:
    """A tiny real checkpoint: a linear layer, its SGD momentum buffer, a carried state."""
    tensors = {
        "model.safetensors": {"weight": torch.arange(6.0).reshape(2, 3)},
        "optimizer.safetensors": {"state.0.momentum_buffer": torch.ones(2, 3)},
        "loop.safetensors": {"carry.0": torch.zeros(1, 2)},
    }
    state = {"step": 3, "carry": {"kind": "tensor", "name": "carry.0"}, "rng": [1, 2, 3]}
    return write_checkpoint(folder / "pristine" / "step-00000003", tensors, state)


@FAST
@given(
    st.sampled_from([STATE_FILE, *TENSOR_FILES]),
    st.sampled_from(["truncate", "flip", "foreign"]),
    st.integers(0, 2**16),
    st.integers(1, 255),
    st.binary(max_size=64),
)
def test_damaged_checkpoints_raise_checkpoint_error(
    folder: Path, checkpoint: Path, name: str, damage: str, at: int, mask: int, foreign: bytes
) -> None:
    path = folder / "damaged"
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(checkpoint, path)
    data = (path / name).read_bytes()
    at %= len(data)
    damaged = {
        "truncate": data[:at],
        "flip": data[:at] + bytes([data[at] ^ mask]) + data[at + 1 :],
        "foreign": foreign,
    }[damage]
    (path / name).write_bytes(damaged)
    if name == STATE_FILE and damage == "flip":  # may stay valid JSON and load
        with contextlib.suppress(CheckpointError):
            read_checkpoint(path)
        return
    with pytest.raises(CheckpointError):
        read_checkpoint(path)

"""Seed inputs of the fuzz targets: a few small valid files of each format, built by rnnkit.

A coverage-guided fuzzer mutates its seeds, so a valid file of each format lets it reach the
code behind the header checks within a few hundred iterations. Inputs that start with an
option byte (see each body in `harnesses.py`) get one seed per option value that matters.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch
from safetensors.torch import save

from rnnkit.represent.word2vec.formats import VOCAB_FORMAT, save_vectors
from rnnkit.represent.word2vec.vectors import WordVectors
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import Vocab

SEPARATOR = b"\0VOCAB\0"  # word2vec_safetensors: tensor file, SEPARATOR, vocab.json
_TEXTS = ["The cat sat.", "Naïve café, 3.14 Straße — don't!", "東京 e\u0301 \t x"]


def tokenize() -> list[bytes]:
    """Each kind and normal form over a few texts; regex seeds carry a pattern line."""
    found = []
    for flags in (0, 1, 4 | 1, 8 | 1, 16, 32 | 1, 48 | 4):
        found += [bytes([flags]) + text.encode() for text in _TEXTS]
    found += [bytes([2]) + b"[a-z]+\\d*\nab1 c22", bytes([6]) + b"\\w+|[^\\w\\s]\nHi, yo!"]
    return found


def vocab() -> list[bytes]:
    """Vocab files with each tokenizer kind, with none, and with custom specials."""
    kinds = [
        Tokenizer(kind="word", lowercase=True),
        Tokenizer(kind="char", normalize="NFC"),
        Tokenizer(kind="regex", pattern=r"\S+"),
        None,
    ]
    found = [
        json.dumps(Vocab.build_from_iterator(_TEXTS, kind or Tokenizer()).to_dict()).encode()
        for kind in kinds
    ]
    found.append(json.dumps(Vocab(["a", " ", ""], specials=["<s>"]).to_dict()).encode())
    return found


def conll() -> list[bytes]:
    """Space and TAB separated files, a -DOCSTART- header, BIOES tags; auto and fixed delimiter."""
    spaced = b"-DOCSTART- -X- O\n\nHarry NNP B-PER\nPotter NNP I-PER\n\nmet VBD O\n"
    tabbed = b"New York\tB-LOC\nis\tO\n \nParis\tS-LOC\n"
    return [b"\0" + spaced, b"\2" + spaced, b"\0" + tabbed, b"\1" + tabbed]


def tsv() -> list[bytes]:
    """Pairs with a BOM, CRLF, a blank line and unicode."""
    return [b"\xef\xbb\xbfa dog\tein Hund\r\n\ntwo cats .\tzwei Katzen .\n", b"x\ty"]


def labelled_csv() -> list[bytes]:
    """A header, quoted fields with commas and newlines, two classes."""
    return [b'text,label\n"good, fine",pos\nbad,neg\n"multi\nline",pos\n', b"label,text\n1,a\n0,b"]


def labelled_jsonl() -> list[bytes]:
    """Objects with text and label, a blank line, a numeric label."""
    return [
        b'{"text": "good", "label": "pos"}\n\n{"text": "bad", "label": "neg"}\n',
        b'{"text": "a", "label": 1}\n{"text": "b", "label": 0, "id": 7}\n',
    ]


def coco() -> list[bytes]:
    """A COCO captions object: two images, three captions, an ignored `info` key."""
    data = {
        "info": {"year": 2017},
        "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}],
        "annotations": [
            {"image_id": 1, "caption": "A dog."},
            {"image_id": 2, "caption": "x"},
            {"image_id": 1, "caption": " Two  dogs\n"},
        ],
    }
    return [json.dumps(data).encode()]


def flickr8k() -> list[bytes]:
    """`<image>#<k><TAB>caption` lines, a BOM, CRLF, the real file's `.jpg.1` typo."""
    return [b"\xef\xbb\xbfa.jpg#0\tA dog runs .\r\na.jpg#1\tA dog .\nb.jpg.1#0\tx\n"]


def timeseries() -> list[bytes]:
    """Series with one and two time and value columns, a gap, a blank line; each fill."""
    two = b"t,q,v,w\n1990,1,1.5,2\n1990,2,,3\n\n1990,3,2.5,4\n"
    one = b"t,v\nmon,1\ntue,2e3\nwed,-0.5\n"
    return [b"\1" + two, b"\0" + two.replace(b",,", b",2,"), b"\6" + one, b"\7" + one]


def _vectors() -> WordVectors:
    return WordVectors(
        ["the", "cat", "Straße"], torch.tensor([[0.5, -1.0], [3.25, 1e-3], [-0.0, 7.0]])
    )


def _saved(format: str, suffix: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return save_vectors(_vectors(), Path(folder) / f"v{suffix}", format=format).read_bytes()  # type: ignore[arg-type]


def word2vec_text() -> list[bytes]:
    """A text file as rnnkit writes it."""
    return [_saved("text", ".txt"), b"1 3\nx 1 2 3\n"]


def word2vec_binary() -> list[bytes]:
    """A binary file as the C tool writes it, and one without the newline after each vector."""
    written = _saved("binary", ".bin")
    gensim_style = b"2 1\na " + bytes(4) + b"b " + bytes(4)
    return [written, gensim_style]


def word2vec_safetensors() -> list[bytes]:
    """A vectors file and its vocab.json, joined by SEPARATOR."""
    vectors = _vectors()
    vocab = {"format": VOCAB_FORMAT, "version": 1, "words": list(vectors.words), "counts": None}
    tensor = save({"vectors": vectors.vectors}, metadata={"format": VOCAB_FORMAT})
    return [tensor + SEPARATOR + json.dumps(vocab).encode()]

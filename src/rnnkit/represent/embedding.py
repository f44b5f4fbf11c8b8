"""Embedding table: token ids (B, T) -> dense vectors (B, T, E), a row lookup equal to one-hot × W.

    e_t = W[id_t] = Wᵀ x_t

where W (V, E) is the table, id_t the token id at step t and x_t ∈ {0, 1}^V its one-hot vector
(`represent.onehot`). Picking row id_t is the same product without the V-fold multiply by zeros.
Vectors can be loaded from a pretrained word2vec or GloVe text file (`word v_1 … v_E` per line,
word2vec files start with a "count dim" header line), a word2vec binary file, an rnnkit
safetensors file (`represent.word2vec.formats`), a trained `WordVectors`, or by name from a
package that ships them ("glove-6b-50d": GloVe 6B 50-d, `represent.glove`, extra `glove`).

References:
    Y. Bengio, R. Ducharme, P. Vincent and C. Jauvin, "A Neural Probabilistic Language Model",
    JMLR 3, 2003.
    J. Pennington, R. Socher and C. Manning, "GloVe: Global Vectors for Word Representation",
    EMNLP 2014 (the text format).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Container, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError, DataError, ShapeError, VocabError
from rnnkit.text.vocab import Vocab

if TYPE_CHECKING:
    from rnnkit.represent.word2vec.vectors import WordVectors

logger = logging.getLogger(__name__)
PretrainedSource = Tensor | Mapping[str, Tensor | Sequence[float]] | str | Path


class Embedding(nn.Module):
    """A (V, E) table of trainable vectors, looked up by token id; `weight` as torch.nn.Embedding.

    W is drawn from N(0, 1) as in torch.nn.Embedding. Row `padding_idx` is zero and gets no
    gradient, so padded steps contribute nothing. `freeze=True` makes the whole table fixed.

    Shapes: token_ids (*,) int64, usually (B, T) -> (*, E), usually (B, T, E).

    >>> table = Embedding(5, 3)
    >>> ids = torch.tensor([[4, 0]])                                       # (B=1, T=2)
    >>> one_hot = F.one_hot(ids, 5).float()                                 # (1, 2, V=5)
    >>> torch.equal(table(ids), one_hot @ table.weight)                     # (1, 2, E=3)
    True
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        *,
        padding_idx: int | None = None,
        freeze: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("embed_dim", embed_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if padding_idx is not None and not 0 <= padding_idx < vocab_size:
            raise ConfigError(
                f"padding_idx must be in 0 … {vocab_size - 1} (vocab_size={vocab_size}),"
                f" got {padding_idx}"
            )
        self.vocab_size = vocab_size  # V
        self.embed_dim = embed_dim  # E
        self.padding_idx = padding_idx
        weight = torch.randn(vocab_size, embed_dim, generator=generator)  # W (V, E) ~ N(0, 1)
        if padding_idx is not None:
            weight[padding_idx] = 0.0
        self.weight = nn.Parameter(weight, requires_grad=not freeze)
        self.num_missing = 0  # ordinary tokens without a pretrained vector (from_pretrained)

    def forward(self, token_ids: Tensor) -> Tensor:
        """e = W[token_ids]; ShapeError for a non-integer tensor, VocabError for an id ∉ [0, V)."""
        if not isinstance(token_ids, Tensor):
            raise ShapeError(f"token_ids must be a torch tensor, got {type(token_ids).__name__}")
        if (
            token_ids.dtype.is_floating_point
            or token_ids.dtype.is_complex
            or token_ids.dtype == torch.bool
        ):
            raise ShapeError(
                f"token_ids must be an integer tensor (int64), got {token_ids.dtype};"
                " encode tokens with Vocab.encode"
            )
        if token_ids.numel():
            low, high = int(token_ids.min()), int(token_ids.max())
            if low < 0 or high >= self.vocab_size:
                raise VocabError(
                    f"token id {low if low < 0 else high} is out of range for an embedding table"
                    f" of {self.vocab_size} rows (valid ids 0 … {self.vocab_size - 1})"
                )
        return F.embedding(token_ids, self.weight, self.padding_idx)  # (*, E)

    def extra_repr(self) -> str:
        return f"{self.vocab_size}, {self.embed_dim}, padding_idx={self.padding_idx}"

    @classmethod
    def from_pretrained(
        cls,
        vectors: PretrainedSource | WordVectors,
        *,
        vocab: Vocab | None = None,
        freeze: bool = True,
        padding_idx: int | None = None,
        generator: torch.Generator | None = None,
    ) -> Embedding:
        """A table from a (V, E) tensor, or from word vectors aligned to `vocab`.

        Word vectors come as a dict token -> vector, a `WordVectors`, or a file path in any
        format `load_word_vectors` reads, or a packaged name ("glove-6b-50d"). A vocabulary
        token without a vector gets a random row drawn from N(0, s²), s the standard
        deviation of the loaded entries; `num_missing` counts such ordinary (non-special)
        tokens. Row `padding_idx` is set to zero. `freeze=False` makes the loaded table
        trainable (fine-tuning).

        Raises:
            ShapeError: a tensor that is not 2-D float, rows ≠ len(vocab), or vectors of
                different lengths in the dict.
            DataError: no vocabulary token has a vector (wrong file or case mismatch).

        >>> from rnnkit.represent.word2vec.vectors import WordVectors
        >>> wv = WordVectors(["cat", "dog"], torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> table = Embedding.from_pretrained(wv, vocab=Vocab(["dog", "cat"]), freeze=False)
        >>> table.weight[4:].tolist(), table.weight.requires_grad  # rows of dog, cat
        ([[3.0, 4.0], [1.0, 2.0]], True)
        """
        if isinstance(vectors, str | Path):
            vectors = load_word_vectors(vectors, words=vocab)
        elif not isinstance(vectors, Tensor | Mapping):  # WordVectors (imported lazily)
            vectors = _word_vectors_dict(vectors, vocab)
            if vocab is None:  # the rows in the WordVectors' own order
                vectors = torch.stack(list(vectors.values()))
        if isinstance(vectors, Tensor):
            if vectors.dim() != 2 or not vectors.dtype.is_floating_point:
                raise ShapeError(
                    f"pretrained vectors must be a 2-D float tensor (V, E), got shape"
                    f" {tuple(vectors.shape)} {vectors.dtype}"
                )
            if vocab is not None and vectors.shape[0] != len(vocab):
                raise ShapeError(
                    f"pretrained table has {vectors.shape[0]} rows but the vocab has"
                    f" {len(vocab)} tokens; they must match"
                )
            weight, num_missing = vectors.detach().clone().float(), 0
        else:
            if vocab is None:
                raise ConfigError("a dict of pretrained vectors needs vocab= to order the rows")
            weight, num_missing = _align_vectors(vectors, vocab, generator)
        table = cls(*weight.shape, padding_idx=padding_idx, freeze=freeze)
        with torch.no_grad():
            table.weight.copy_(weight)
            if padding_idx is not None:
                table.weight[padding_idx] = 0.0
        table.num_missing = num_missing
        return table


def _align_vectors(
    vectors: Mapping[str, Tensor | Sequence[float]], vocab: Vocab, generator: torch.Generator | None
) -> tuple[Tensor, int]:
    """Rows (V, E) in vocab order from a dict; random rows for tokens without a vector."""
    found: dict[int, Tensor] = {}
    embed_dim = None
    for token, value in vectors.items():
        row = torch.as_tensor(value, dtype=torch.float32)
        if row.dim() != 1 or (embed_dim is not None and len(row) != embed_dim):
            raise ShapeError(
                f"pretrained vector of {token!r} has shape {tuple(row.shape)}, expected"
                f" ({embed_dim if embed_dim is not None else 'E'},) like the others"
            )
        embed_dim = len(row)
        if token in vocab:
            found[vocab.token_to_id(token)] = row
    if not found:
        raise DataError(
            f"none of the {len(vocab)} vocabulary tokens has a pretrained vector;"
            " check the file and lowercasing of the vocabulary"
        )
    assert embed_dim is not None
    loaded = torch.stack(list(found.values()))  # (V_found, E)
    scale = float(loaded.std()) if loaded.numel() > 1 else 1.0  # s
    weight = torch.randn(len(vocab), embed_dim, generator=generator) * scale  # N(0, s²)
    ids = torch.tensor(list(found.keys()))
    weight[ids] = loaded
    missing = [t for t in vocab.tokens if t not in vectors and t not in vocab.specials]
    logger.info("pretrained vectors: %d found, %d missing", len(found), len(missing))
    return weight, len(missing)


def _word_vectors_dict(vectors: WordVectors, words: Container[str] | None) -> dict[str, Tensor]:
    """word -> row of a WordVectors, only those in `words` (all of them when None)."""
    from rnnkit.represent.word2vec.vectors import WordVectors

    if not isinstance(vectors, WordVectors):
        raise ShapeError(
            "pretrained vectors must be a tensor, a dict, a WordVectors or a file path;"
            f" got {type(vectors).__name__}"
        )
    kept = vectors.words if words is None else [word for word in vectors.words if word in words]
    return {word: vectors.vectors[vectors.index(word)] for word in kept}


def load_word_vectors(
    path: str | Path,
    *,
    words: Container[str] | None = None,
    format: Literal["text", "binary", "safetensors"] | None = None,
) -> dict[str, Tensor]:
    """Read a word-vector file: text (word2vec / GloVe), word2vec binary, or rnnkit safetensors;
    or packaged vectors by name.

    The text format is `word v_1 … v_E` per line with an optional "count dim" header (GloVe
    files have none); the binary and safetensors formats are read by
    `rnnkit.represent.word2vec.formats`. A name of `represent.glove.PACKAGED_VECTORS`
    ("glove-6b-50d") reads the vectors a package ships (`load_glove`: words matched as written,
    else lower-cased, since GloVe 6B is uncased); a file of that name is passed as
    "./glove-6b-50d".

    Args:
        path: the file (text files are UTF-8), or a packaged-vectors name (a str).
        words: keep only these words (e.g. a Vocab), to save memory on large files.
        format: "text", "binary" or "safetensors"; None picks it from the suffix
            (.bin binary, .safetensors safetensors, anything else text).

    Returns:
        word -> float32 vector (E,); the first of repeated words wins.

    Raises:
        DataError: the file is missing, empty, not UTF-8, a line has a wrong number of values
            or a value that is not a number (the message gives file:line), or the header
            count does not match.
        ConfigError: packaged vectors whose package is not installed (names the extra), or
            `format` given with a packaged-vectors name.
    """
    from rnnkit.represent.glove import PACKAGED_VECTORS, load_glove
    from rnnkit.represent.word2vec.formats import detect_format, load_vectors

    if isinstance(path, str) and path in PACKAGED_VECTORS:
        if format is not None:
            raise ConfigError(f"{path!r} names packaged vectors; format={format!r} is for files")
        return load_glove(path, words=words)
    path = Path(path)
    chosen = format or detect_format(path)
    if chosen != "text":
        loaded = load_vectors(path, format=chosen)
        return _word_vectors_dict(loaded, words)
    vectors: dict[str, Tensor] = {}
    embed_dim, header_count, rows = None, None, 0
    try:
        with path.open(encoding="utf-8") as lines:
            for line_number, line in enumerate(lines, start=1):
                parts = line.split()
                if not parts:
                    continue
                if line_number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    header_count, embed_dim = int(parts[0]), int(parts[1])
                    continue
                word, where = parts[0], f"{path}:{line_number}"
                values = _parse_values(word, parts[1:], where, embed_dim)
                embed_dim = len(values)
                rows += 1
                if (words is None or word in words) and word not in vectors:
                    vectors[word] = torch.tensor(values, dtype=torch.float32)
    except FileNotFoundError as err:
        raise DataError(f"word vector file not found: {path}") from err
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is not UTF-8 text: {err}") from err
    if rows == 0:
        raise DataError(f"{path} holds no word vectors (empty file?)")
    if header_count is not None and header_count != rows:
        raise DataError(f"{path}: header announces {header_count} vectors, file has {rows}")
    return vectors


def _parse_values(word: str, fields: list[str], where: str, embed_dim: int | None) -> list[float]:
    """The finite numbers after `word`; DataError at `where` (file:line) otherwise."""
    try:
        values = [float(field) for field in fields]
    except ValueError as err:
        raise DataError(f"{where}: {err} (expected `word v_1 … v_E`)") from err
    if not values:
        raise DataError(f"{where}: the word {word!r} has no numbers")
    if embed_dim is not None and len(values) != embed_dim:
        raise DataError(
            f"{where}: expected {embed_dim} numbers after the word {word!r}, got {len(values)}"
        )
    if not all(math.isfinite(value) for value in values):
        raise DataError(f"{where}: a value is NaN or infinite")
    return values


def copy_pretrained(
    weight: nn.Parameter, vectors: Tensor, *, pad_id: int | None, freeze: bool
) -> None:
    """Copy a (V, E) table of pretrained rows into an embedding weight, in place.

    Row `pad_id` is zeroed again; `freeze` stops the table's gradient (a static embedding).

    Raises:
        ShapeError: `vectors` is not the weight's (V, E).
    """
    expected = tuple(weight.shape)
    if tuple(vectors.shape) != expected:
        raise ShapeError(
            f"pretrained vectors must be (V, E) = {expected}; got {tuple(vectors.shape)}"
        )
    with torch.no_grad():
        weight.copy_(vectors)
        if pad_id is not None:
            weight[pad_id] = 0.0
    weight.requires_grad_(not freeze)

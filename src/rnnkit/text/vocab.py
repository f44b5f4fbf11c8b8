"""Vocab: a two-way map token <-> id with reserved special tokens, built from a stream of texts.

Ids are assigned in this order: the specials first (by default <pad>=0, <unk>=1, <bos>=2,
<eos>=3), then the ordinary tokens by frequency, highest first; ties are broken by first
appearance in the corpus (Python's sort is stable and Counter keeps insertion order), so the
same corpus always gives the same ids. Tokens seen fewer than `min_freq` times are dropped and
at most `max_size` ordinary tokens (specials not counted) are kept. A dropped or unseen token
encodes to the <unk> id. A vocabulary saves to JSON with a format name and version
(`rnnkit.text.vocab_file`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from rnnkit.errors import ConfigError, DataError, ShapeError, VocabError
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab_file import (
    read_vocab_file,
    vocab_from_dict,
    vocab_to_dict,
    write_json_atomic,
)

logger = logging.getLogger(__name__)

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
DEFAULT_SPECIALS: tuple[str, ...] = (PAD, UNK, BOS, EOS)


class Vocab:
    """Token <-> id map; specials take the first ids, then `tokens` in the order given.

    Build one from a corpus with `Vocab.build_from_iterator`; the constructor takes a ready
    token list (duplicates and specials in it are skipped).

    >>> vocab = Vocab.build_from_iterator(["the cat", "the dog"], Tokenizer(kind="word"))
    >>> vocab.tokens
    ['<pad>', '<unk>', '<bos>', '<eos>', 'the', 'cat', 'dog']
    >>> vocab.encode("the bird").tolist()  # unseen "bird" -> <unk> = 1
    [4, 1]
    >>> vocab.decode([4, 6])
    ['the', 'dog']
    """

    def __init__(
        self,
        tokens: Iterable[str] = (),
        *,
        specials: Sequence[str] = DEFAULT_SPECIALS,
        tokenizer: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.specials: tuple[str, ...] = tuple(specials)
        if len(set(self.specials)) != len(self.specials):
            raise ConfigError(f"specials must be distinct, got {list(self.specials)}")
        self.tokenizer = tokenizer
        self._id_to_token: list[str] = []
        self._token_to_id: dict[str, int] = {}
        for token in (*self.specials, *tokens):
            if not isinstance(token, str):
                raise DataError(f"vocabulary tokens must be str, got {type(token).__name__}")
            if token not in self._token_to_id:
                self._token_to_id[token] = len(self._id_to_token)
                self._id_to_token.append(token)

    @classmethod
    def from_counts(
        cls,
        counts: Mapping[str, int],
        *,
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = DEFAULT_SPECIALS,
        tokenizer: Callable[[str], list[str]] | None = None,
    ) -> Vocab:
        """Keep tokens with count ≥ min_freq, the `max_size` most frequent (ties: first seen)."""
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ConfigError(f"min_freq must be an integer ≥ 1, got {min_freq!r}")
        if max_size is not None and (not isinstance(max_size, int) or max_size < 0):
            raise ConfigError(f"max_size must be None or an integer ≥ 0, got {max_size!r}")
        ranked = sorted(counts.items(), key=lambda item: -item[1])  # stable: ties keep order
        kept = [token for token, count in ranked if count >= min_freq and token not in specials]
        return cls(kept[:max_size], specials=specials, tokenizer=tokenizer)

    @classmethod
    def build_from_iterator(
        cls,
        texts: Iterable[str] | Iterable[Sequence[str]],
        tokenizer: Callable[[str], list[str]] | None = Tokenizer(),  # noqa: B008  (frozen value)
        *,
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = DEFAULT_SPECIALS,
    ) -> Vocab:
        """Count tokens text by text (the corpus is streamed, never held) and build a Vocab.

        Args:
            texts: an iterable of texts (str), or of token lists when `tokenizer` is None.
            tokenizer: splits each text; stored in the Vocab so `encode(str)` reuses it.
            min_freq, max_size, specials: as in `from_counts`.

        Raises:
            DataError: an item is not a str (or a token list without tokenizer), or the
                whole stream holds no token.
        """
        counts: Counter[str] = Counter()
        for position, text in enumerate(texts):
            if tokenizer is None:
                counts.update(_check_tokens(text, where=f"item {position}"))
            elif isinstance(text, str):
                counts.update(tokenizer(text))
            else:
                raise DataError(
                    f"item {position} of the text stream is {type(text).__name__}, expected str;"
                    " pass tokenizer=None for pre-tokenised input"
                )
        if not counts:
            raise DataError("the text stream holds no token (empty corpus); nothing to count")
        return cls.from_counts(
            counts, min_freq=min_freq, max_size=max_size, specials=specials, tokenizer=tokenizer
        )

    # -- lookup ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._id_to_token)

    def __contains__(self, token: object) -> bool:
        return token in self._token_to_id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return self.specials == other.specials and self._id_to_token == other._id_to_token

    __hash__ = None  # type: ignore[assignment]  (mutable-looking container; not hashable)

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, specials={list(self.specials)})"

    @property
    def tokens(self) -> list[str]:
        """All tokens in id order (a copy)."""
        return list(self._id_to_token)

    def _special_id(self, token: str) -> int | None:
        return self._token_to_id[token] if token in self.specials else None

    @property
    def pad_id(self) -> int | None:
        """Id of <pad>, or None if it is not among the specials."""
        return self._special_id(PAD)

    @property
    def unk_id(self) -> int | None:
        """Id of <unk>, or None if it is not among the specials."""
        return self._special_id(UNK)

    @property
    def bos_id(self) -> int | None:
        """Id of <bos>, or None if it is not among the specials."""
        return self._special_id(BOS)

    @property
    def eos_id(self) -> int | None:
        """Id of <eos>, or None if it is not among the specials."""
        return self._special_id(EOS)

    def token_to_id(self, token: str, *, strict: bool = False) -> int:
        """The id of `token`; an unknown token gives the <unk> id, or VocabError if strict."""
        found = self._token_to_id.get(token)
        if found is not None:
            return found
        if strict or self.unk_id is None:
            reason = "strict=True" if strict else "this vocabulary has no <unk> token"
            raise VocabError(
                f"token {token!r} is not in the vocabulary (size {len(self)}) and {reason};"
                " build the vocabulary from text that contains it or lower min_freq"
            )
        return self.unk_id

    def id_to_token(self, token_id: int) -> str:
        """The token with id `token_id`; VocabError outside 0 … len-1."""
        if isinstance(token_id, bool) or not isinstance(token_id, int):
            raise VocabError(f"token ids must be int, got {type(token_id).__name__}")
        if not 0 <= token_id < len(self):
            raise VocabError(
                f"id {token_id} is out of range for a vocabulary of size {len(self)}"
                f" (valid ids 0 … {len(self) - 1})"
            )
        return self._id_to_token[token_id]

    # -- encode / decode ------------------------------------------------------------------
    def tokenize(self, text: str | Sequence[str]) -> list[str]:
        """Tokens of `text` with the stored tokenizer, or a token list checked and returned."""
        if isinstance(text, str):
            if self.tokenizer is None:
                raise VocabError(
                    "this Vocab has no tokenizer, so it cannot encode a str;"
                    " pass a list of tokens or build it with a Tokenizer"
                )
            return self.tokenizer(text)
        return _check_tokens(text, where="encode")

    def encode(
        self,
        text: str | Sequence[str],
        *,
        strict: bool = False,
        add_bos: bool = False,
        add_eos: bool = False,
    ) -> Tensor:
        """Ids (T,) int64 of a text or token list; empty text gives an empty (0,) tensor.

        Unknown tokens map to <unk>; with strict=True they raise VocabError naming the token.
        """
        ids = [self.token_to_id(token, strict=strict) for token in self.tokenize(text)]
        if add_bos:
            ids.insert(0, self._required(BOS))
        if add_eos:
            ids.append(self._required(EOS))
        return torch.tensor(ids, dtype=torch.int64)  # (T,)

    def decode(self, ids: Tensor | Sequence[int], *, skip_specials: bool = False) -> list[str]:
        """Tokens of the ids (a 1-D integer tensor or a list of int); VocabError if out of range."""
        tokens = [self.id_to_token(token_id) for token_id in _ids_as_list(ids)]
        if skip_specials:
            return [token for token in tokens if token not in self.specials]
        return tokens

    def decode_text(self, ids: Tensor | Sequence[int], *, skip_specials: bool = False) -> str:
        """The decoded tokens joined into text ('' between chars, ' ' between words)."""
        separator = getattr(self.tokenizer, "separator", " ")
        return separator.join(self.decode(ids, skip_specials=skip_specials))

    def oov_rate(self, tokens: Iterable[str]) -> float:
        """Fraction of `tokens` (counted with repeats) that are not in the vocabulary."""
        total = missing = 0
        for token in tokens:
            total += 1
            missing += token not in self._token_to_id
        if total == 0:
            raise DataError("oov_rate needs at least one token, got none")
        return missing / total

    def _required(self, special: str) -> int:
        if special not in self.specials:
            raise VocabError(f"{special} is not among this vocabulary's specials {self.specials}")
        return self._token_to_id[special]

    # -- persistence (format in text/vocab_file.py) -----------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: format, version, specials, tokens (id order), tokenizer or null."""
        tokenizer = self.tokenizer if isinstance(self.tokenizer, Tokenizer) else None
        if self.tokenizer is not None and tokenizer is None:
            logger.warning("custom tokenizer %r is not saved with the vocab", self.tokenizer)
        return vocab_to_dict(list(self.specials), self.tokens, tokenizer)

    def save(self, path: str | Path) -> None:
        """Write JSON atomically: a temp file in the same folder, then os.replace."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        """Read a file written by `save`; VocabError names the file and what is wrong."""
        specials, tokens, tokenizer = read_vocab_file(path)
        return cls(tokens, specials=specials, tokenizer=tokenizer)

    @classmethod
    def from_dict(cls, data: object) -> Vocab:
        """Rebuild from `to_dict` output, checking the format name, version and fields."""
        specials, tokens, tokenizer = vocab_from_dict(data)
        return cls(tokens, specials=specials, tokenizer=tokenizer)


def _check_tokens(tokens: object, *, where: str) -> list[str]:
    if isinstance(tokens, str | bytes) or not isinstance(tokens, Sequence):
        raise DataError(
            f"{where}: expected a str or a list of str tokens, got {type(tokens).__name__}"
        )
    for token in tokens:
        if not isinstance(token, str):
            raise DataError(f"{where}: tokens must be str, got {type(token).__name__} ({token!r})")
    return list(tokens)


def _ids_as_list(ids: Tensor | Sequence[int]) -> list[int]:
    if isinstance(ids, Tensor):
        if ids.dim() != 1 or ids.dtype.is_floating_point or ids.dtype in (torch.bool,):
            raise ShapeError(
                f"ids must be a 1-D integer tensor (T,), got shape {tuple(ids.shape)} {ids.dtype}"
            )
        return ids.tolist()
    if isinstance(ids, str | bytes) or not isinstance(ids, Sequence):
        raise DataError(f"ids must be a 1-D tensor or a list of int, got {type(ids).__name__}")
    return list(ids)

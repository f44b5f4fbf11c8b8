"""Tokenisers that cut text into characters, words or regex matches: text -> list of str tokens.

Characters are Unicode code points (not bytes, not grapheme clusters). Words follow the regex
`WORD_PATTERN` documented below. `Tokenizer` bundles the choice into a small JSON-serialisable
value that a `Vocab` stores, so a saved vocabulary re-tokenises text exactly as it was built.

References:
    Unicode Standard Annex #15, "Unicode Normalization Forms", https://unicode.org/reports/tr15/
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from rnnkit.config import config_from_dict, config_to_dict
from rnnkit.errors import ConfigError, DataError

NormalForm = Literal["NFC", "NFD", "NFKC", "NFKD"]
TokenizerKind = Literal["char", "word", "regex"]

# A word token is, in this order of preference (re tries alternatives left to right):
#   1. a number with inner separators: 3.14  1,000  12:30        \d+(?:[.,:]\d+)+
#   2. letters/digits/underscore joined by inner apostrophes (' or U+2019) or hyphens:
#      don't  o'er  well-known  know't  (a leading or trailing ' or - is not part of it)
#                                                           \w+(?:['\u2019-]\w+)*
#   3. any other single non-space character, e.g. punctuation: , . ? ! ; : ( )   [^\w\s]
# `\w` is Unicode-aware, so "naïve", "Straße" and "東京" are words.
WORD_PATTERN = r"\d+(?:[.,:]\d+)+|\w+(?:['\u2019-]\w+)*|[^\w\s]"
_WORD_RE = re.compile(WORD_PATTERN)
# The pre-tokenised corpora (rt-polarity, the movie reviews, CoNLL-2002, WNUT-17) write a run of
# one repeated mark as one token ("...", "--", "!!"). `MARK_RUN_PATTERN` is `WORD_PATTERN` with
# alternative 3 widened to such a run, so it cuts their lines back into their own tokens and
# typed text into tokens of the same kind: "Great Film!!" -> Great, Film, !!
MARK_RUN_PATTERN = r"\d+(?:[.,:]\d+)+|\w+(?:['\u2019-]\w+)*|([^\w\s])\1*"
_IS_WORDLIKE = re.compile(r"\w")


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise DataError(
            f"tokenizers expect text as str, got {type(text).__name__}"
            + (" (decode bytes with .decode('utf-8') first)" if isinstance(text, bytes) else "")
        )
    return text


def normalize_text(text: str, form: NormalForm | None) -> str:
    """Apply Unicode normalisation `form` (NFC, NFD, NFKC, NFKD), or return `text` if None.

    NFC composes "e" + U+0301 (combining acute) into the single code point "é", so the same
    word written two ways gets one token id.

    >>> len("e\u0301"), len(normalize_text("e\u0301", "NFC"))
    (2, 1)
    """
    return _check_text(text) if form is None else unicodedata.normalize(form, _check_text(text))


def char_tokenize(text: str, *, normalize: NormalForm | None = None) -> list[str]:
    """Split text into Unicode code points, optionally normalised first.

    >>> char_tokenize("héllo!")
    ['h', 'é', 'l', 'l', 'o', '!']
    """
    return list(normalize_text(text, normalize))


def word_tokenize(
    text: str,
    *,
    lowercase: bool = False,
    keep_punctuation: bool = True,
    normalize: NormalForm | None = None,
) -> list[str]:
    """Split text into words, numbers and punctuation with `WORD_PATTERN`.

    Args:
        text: the text to split.
        lowercase: fold to lower case (str.lower, after normalisation).
        keep_punctuation: keep tokens without any letter or digit (as separate tokens);
            False drops them, as bag-of-words does.
        normalize: Unicode normal form applied first, or None to keep the code points.

    Returns:
        The tokens in order; [] for empty or all-space text.

    >>> word_tokenize("We like TensorLayer, don't we? It's 3.14!")
    ['We', 'like', 'TensorLayer', ',', "don't", 'we', '?', "It's", '3.14', '!']
    >>> word_tokenize("we like TensorLayer, do we?", lowercase=True, keep_punctuation=False)
    ['we', 'like', 'tensorlayer', 'do', 'we']
    """
    text = normalize_text(text, normalize)
    if lowercase:
        text = text.lower()
    tokens = _WORD_RE.findall(text)
    if keep_punctuation:
        return tokens
    return [token for token in tokens if _IS_WORDLIKE.search(token)]


def regex_tokenize(
    text: str,
    pattern: str | re.Pattern[str],
    *,
    lowercase: bool = False,
    normalize: NormalForm | None = None,
) -> list[str]:
    """Return every non-overlapping match of a user `pattern` (re.finditer), whole match each.

    >>> regex_tokenize("a1 b22 c", r"[a-z]\\d*")
    ['a1', 'b22', 'c']
    """
    compiled = _compile(pattern)
    text = normalize_text(text, normalize)
    if lowercase:
        text = text.lower()
    return [match.group(0) for match in compiled.finditer(text)]


def _compile(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        return pattern
    try:
        return re.compile(pattern)
    except (re.error, TypeError, OverflowError, RecursionError) as err:  # a{99999999999}, ((((…
        raise ConfigError(f"tokenizer pattern {pattern!r} is not a valid regex: {err}") from err


@dataclass(frozen=True, kw_only=True)
class Tokenizer:
    """A tokeniser as a value: call it on text; it round-trips through JSON with a Vocab.

    >>> Tokenizer(kind="word", lowercase=True)("Hello, World")
    ['hello', ',', 'world']
    >>> Tokenizer(kind="char")("hi!")
    ['h', 'i', '!']
    """

    kind: TokenizerKind = "word"  # char = code points, word = WORD_PATTERN, regex = pattern
    lowercase: bool = False  # str.lower after normalisation
    keep_punctuation: bool = True  # word kind only: keep tokens with no letter or digit
    normalize: NormalForm | None = None  # Unicode normal form, None keeps code points
    pattern: str | None = None  # regex kind only: the token pattern

    def __post_init__(self) -> None:
        if self.kind not in ("char", "word", "regex"):
            raise ConfigError(f"tokenizer kind must be char, word or regex, got {self.kind!r}")
        if self.normalize not in (None, "NFC", "NFD", "NFKC", "NFKD"):
            raise ConfigError(
                f"normalize must be None, NFC, NFD, NFKC or NFKD, got {self.normalize!r}"
            )
        if (self.kind == "regex") != (self.pattern is not None):
            raise ConfigError(
                f"a pattern is required for kind='regex' and only for it; got kind={self.kind!r}"
                f" with pattern={self.pattern!r}"
            )
        if self.pattern is not None:
            _compile(self.pattern)

    @property
    def separator(self) -> str:
        """The string that joins decoded tokens back into text: '' for chars, ' ' otherwise."""
        return "" if self.kind == "char" else " "

    def __call__(self, text: str) -> list[str]:
        """Tokenise one text."""
        if self.kind == "char":
            tokens = char_tokenize(text, normalize=self.normalize)
            return [token.lower() for token in tokens] if self.lowercase else tokens
        if self.kind == "word":
            return word_tokenize(
                text,
                lowercase=self.lowercase,
                keep_punctuation=self.keep_punctuation,
                normalize=self.normalize,
            )
        assert self.pattern is not None  # checked in __post_init__
        return regex_tokenize(
            text, self.pattern, lowercase=self.lowercase, normalize=self.normalize
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields."""
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokenizer:
        """Rebuild from `to_dict` output; unknown keys raise ConfigError."""
        return config_from_dict(cls, data)

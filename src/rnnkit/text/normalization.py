"""The text normalisation of a run: stored with it, applied to every text it reads afterwards.

A model knows the tokens of its training corpus only. Typed text must become tokens by the
same function, with the same case folding, Unicode form and punctuation splitting, or a word
the model knows reads as <unk>: "Great Film!" cut at spaces gives "Great", "Film!", neither of
which the lower-cased, punctuation-split sentence-polarity corpus holds. So a run stores its
normalisation, a `Tokenizer` (kind and pattern, lower-case or not, punctuation kept or not,
Unicode normal form), in config.json under `NORMALIZATION_KEY`, training cuts its corpus with
it, and predict, tag, translate, chat and the web page rebuild it to cut their input.

A run trained before this key existed keeps the tokeniser it used then (`stored_normalization`
falls back to it and logs one warning per run). `mark_unknown` says which tokens of an input
the vocabulary lacks and their share, which predict and the web page report.

    >>> from rnnkit.text.tokenize import Tokenizer
    >>> from rnnkit.text.vocab import Vocab
    >>> normalization = Tokenizer(kind="word", lowercase=True)
    >>> vocab = Vocab(["great", "!"], specials=("<pad>", "<unk>"), tokenizer=normalization)
    >>> marks = mark_unknown(normalization("Great Film!"), vocab)
    >>> marks.unknown, round(marks.share, 3), bracket_unknown(marks)
    ([False, True, False], 0.333, 'great [film] !')
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NamedTuple

from rnnkit.errors import ConfigError
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import Vocab

logger = logging.getLogger(__name__)

NORMALIZATION_KEY = "text_normalization"  # config.json key: the Tokenizer fields
_warned: set[str] = set()  # runs already said to lack a stored normalisation


def stored_normalization(
    run_config: Mapping[str, Any], fallback: Tokenizer, *, where: str
) -> Tokenizer:
    """The normalisation stored in a run's config.json, or `fallback` for an older run.

    Args:
        run_config: the contents of config.json.
        fallback: what the run's task did before runs stored their normalisation.
        where: the run directory, named in the messages.

    Raises:
        ConfigError: the stored entry is not a valid Tokenizer.
    """
    spec = run_config.get(NORMALIZATION_KEY)
    if spec is None:
        if where not in _warned:
            _warned.add(where)
            logger.warning(
                "%s stores no text normalisation (trained before rnnkit stored one); reading "
                "input as that version did: %s. Retrain to read typed text as the corpus was read",
                where,
                describe(fallback),
            )
        return fallback
    if not isinstance(spec, dict):
        raise ConfigError(
            f"{where}/config.json: {NORMALIZATION_KEY!r} must be an object of Tokenizer fields,"
            f" got {type(spec).__name__}; the file was edited or damaged"
        )
    try:
        return Tokenizer.from_dict(spec)
    except ConfigError as err:
        raise ConfigError(f"{where}/config.json: {NORMALIZATION_KEY!r}: {err}") from err


def describe(normalization: Tokenizer) -> str:
    """One line saying what a normalisation does.

    >>> describe(Tokenizer(kind="word", lowercase=True, normalize="NFC"))
    'NFC, lower-cased, words with punctuation split off'
    """
    cut = {
        "char": "characters",
        "word": "words with punctuation split off",
        "regex": f"tokens matching {normalization.pattern!r}",
    }[normalization.kind]
    if normalization.kind == "word" and not normalization.keep_punctuation:
        cut = "words, punctuation dropped"
    parts = [normalization.normalize, "lower-cased" if normalization.lowercase else "case kept"]
    return ", ".join(part for part in (*parts, cut) if part)


class UnknownMarks(NamedTuple):
    """The tokens of one input, whether each is unknown to the vocabulary, and their share."""

    tokens: list[str]
    unknown: list[bool]  # True: not in the vocabulary, read as <unk>
    share: float  # unknown tokens / tokens; 0 for no token


def mark_unknown(tokens: list[str], vocab: Vocab) -> UnknownMarks:
    """Which of `tokens` the vocabulary lacks (they read as <unk>), and their share."""
    unknown = [token not in vocab for token in tokens]
    share = sum(unknown) / len(tokens) if tokens else 0.0
    return UnknownMarks(list(tokens), unknown, share)


def bracket_unknown(marks: UnknownMarks) -> str:
    """The tokens joined by spaces, each unknown one in [brackets]."""
    return " ".join(
        f"[{token}]" if unknown else token
        for token, unknown in zip(marks.tokens, marks.unknown, strict=True)
    )


def format_unknown(marks: UnknownMarks, label: str = "tokens") -> str:
    """One indented line: the tokens read, unknown ones in [brackets], and how many are unknown.

    >>> print(format_unknown(UnknownMarks(["great", "film", "!"], [False, True, False], 1 / 3)))
      tokens  great [film] !   unknown 1 of 3 (33%)
    """
    count, total = sum(marks.unknown), len(marks.tokens)
    return f"  {label}  {bracket_unknown(marks)}   unknown {count} of {total} ({marks.share:.0%})"


__all__ = [
    "NORMALIZATION_KEY",
    "UnknownMarks",
    "bracket_unknown",
    "describe",
    "format_unknown",
    "mark_unknown",
    "stored_normalization",
]

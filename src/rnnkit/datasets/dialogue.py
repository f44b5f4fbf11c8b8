"""(utterance, reply) pairs mined by a fixed rule from the dialogue in the Gutenberg books.

No conversation corpus is available offline, so a chatbot trains on consecutive lines of
dialogue from the public-domain novels of `shared/data/english_corpus/` (read with
`GutenbergCorpus`; its splits are by book, so train, valid and test pairs never share a book).

The rule, applied to each book body (PG header and licence already cut):
    1. Paragraphs: the body is split at blank lines (lines of only whitespace); the line breaks
       inside a paragraph become spaces.
    2. Speech: a paragraph is speech if its first non-space character is an opening double
       quote, straight " or curly “. Its utterance is the text inside the quotation marks only:
       every quoted segment of the paragraph, joined by one space, so narration between or
       after them ("said he") is dropped. “ opens a quotation, ” closes one, and a straight "
       closes the open quotation or else opens one.
    3. Unbalanced quotes: a paragraph that starts with a quote but whose marks do not pair up
       is not speech. That is a paragraph ending inside a quotation (by typographic convention
       a speech running on into the next paragraph, which reopens with a quote), and also one
       with “ inside an open quotation or ” outside any (quoted verse, typos). It gives no
       pair and breaks the chain; the next paragraph may start a new chain.
    4. Normalising: curly double quotes (“ ”) become " and curly single quotes and apostrophes
       (U+2018, U+2019) become ', and runs of whitespace become one space, none at either end.
       A final comma, left where the quotation broke off for a dialogue tag ("Thank you," said
       he), becomes a full stop.
    5. Pairs: two consecutive speech paragraphs give one pair (utterance of the first,
       utterance of the second); a chain of n consecutive speech paragraphs gives n − 1 pairs.
       Any other paragraph (narration, a heading, an unbalanced quote) ends the chain.
    6. Length: a pair is kept only if both sides have 1..max_words words (whitespace-separated,
       default 25); a dropped pair does not break the chain.

Single quotes never mark speech (Alice in Wonderland, in U+2018…U+2019, gives no pair), and a
pair's two sides are consecutive lines, not necessarily two different speakers.

Pairs with the defaults on the whole corpus (196 books), measured from the checkout with
    python -c "import rnnkit.datasets.dialogue as d; root = '../shared/data/english_corpus'
    [print(s, len(d.load_gutenberg_dialogues(root, s))) for s in ('train', 'valid', 'test')]"
    train 36,195 (174 books)    valid 877 (14 books)    test 480 (8 books)
Mining all three takes about 3 s on one CPU core (train 1.8 s, reading and unzipping included).
Most pairs come from a few novels (valid: Northanger Abbey, Mansfield Park, A House of
Gentlefolk, The Village); verse, drama and books with single-quoted dialogue give few or none.

Source: Project Gutenberg e-texts via https://github.com/rcdm-uga/Gutenberg_Text @ a0b16d3
(`shared/data/README.md` §9). Licence: public domain in the US.

References:
    Project Gutenberg, https://www.gutenberg.org/policy/license.html
"""

from __future__ import annotations

import re
from pathlib import Path

from rnnkit.datasets.gutenberg import GutenbergCorpus, Split
from rnnkit.datasets.translation import SentencePairs
from rnnkit.errors import ConfigError, DataError

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")  # one or more blank lines, spaces allowed on them
_DOUBLE_QUOTE = re.compile('["\u201c\u201d]')  # " “ ”
_TO_ASCII = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def quoted_utterance(paragraph: str) -> str | None:
    """The utterance of a speech paragraph (rules 2–4), or None if it is not speech.

    >>> quoted_utterance('“Yes,” said he, “I will\\n  come.” And he left.')
    'Yes, I will come.'
    >>> quoted_utterance('"It ran on, and on,') is None  # unbalanced: runs into the next
    True
    >>> quoted_utterance('He said: "no."') is None  # starts with narration
    True
    """
    text = paragraph.lstrip()
    if not text.startswith(('"', "\u201c")):
        return None
    segments = []
    start: int | None = None  # index just after the opening mark while inside a quotation
    for mark in _DOUBLE_QUOTE.finditer(text):
        if start is None:
            if mark.group() == "\u201d":  # ” outside any quotation
                return None
            start = mark.end()
        else:
            if mark.group() == "\u201c":  # “ inside an open quotation
                return None
            segments.append(text[start : mark.start()])
            start = None
    if start is not None:  # the speech runs on into the next paragraph
        return None
    utterance = " ".join(" ".join(segments).translate(_TO_ASCII).split())
    return utterance[:-1] + "." if utterance.endswith(",") else utterance


def mine_dialogue_pairs(text: str, *, max_words: int = 25) -> list[tuple[str, str]]:
    """(utterance, reply) pairs from consecutive speech paragraphs (the module's rules 1–6).

    Args:
        text: a book body, or any text with paragraphs separated by blank lines.
        max_words: the most whitespace-separated words either side may have.

    Returns:
        The pairs in text order.

    Raises:
        ConfigError: max_words < 1.

    >>> text = '"Hi."\\n\\n“Hello,” she said.\\n\\n"Bye."\\n\\nThey parted.\\n\\n"Oh."'
    >>> mine_dialogue_pairs(text)
    [('Hi.', 'Hello.'), ('Hello.', 'Bye.')]
    """
    if max_words < 1:
        raise ConfigError(f"max_words must be a positive integer, got {max_words}")
    pairs = []
    previous: str | None = None
    previous_fits = False
    for paragraph in _PARAGRAPH_BREAK.split(text):
        current = quoted_utterance(paragraph)
        fits = current is not None and 1 <= len(current.split()) <= max_words
        if previous is not None and current is not None and previous_fits and fits:
            pairs.append((previous, current))
        previous, previous_fits = current, fits
    return pairs


def load_gutenberg_dialogues(
    root: str | Path, split: Split, *, max_words: int = 25, max_books: int | None = None
) -> SentencePairs:
    """The dialogue pairs of one split's books, in manifest then text order.

    Args:
        root: the `english_corpus` folder (holding `manifest.tsv`).
        split: train, valid or test (by book, as the manifest assigns them).
        max_words: the most words either side of a pair may have.
        max_books: read only the split's first `max_books` books (None: all of them).

    Returns:
        SentencePairs with sources = utterances and targets = replies, named
        "gutenberg dialogue <split>".

    Raises:
        ConfigError: max_words or max_books < 1.
        DataError: the corpus cannot be read, or the books read give no pair.
    """
    if max_books is not None and max_books < 1:
        raise ConfigError(f"max_books must be a positive integer or None, got {max_books}")
    corpus = GutenbergCorpus(root)
    books = corpus.books_in(split)[:max_books]
    sources: list[str] = []
    targets: list[str] = []
    for book in books:
        for utterance, reply in mine_dialogue_pairs(corpus.read(book), max_words=max_words):
            sources.append(utterance)
            targets.append(reply)
    if not sources:
        raise DataError(
            f"no dialogue pair in the {len(books)} {split} book(s) of {corpus.root} with "
            f"max_words={max_words}; only double-quoted speech paragraphs give pairs"
        )
    return SentencePairs(tuple(sources), tuple(targets), f"gutenberg dialogue {split}")


__all__ = ["load_gutenberg_dialogues", "mine_dialogue_pairs", "quoted_utterance"]

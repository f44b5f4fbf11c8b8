"""Entity tag schemes: BIO (IOB2) and BIOES tags, conversion, entity spans and valid transitions.

A tag is `O` (outside any entity) or `P-type` with a prefix P and an entity type:
    BIO    B begins an entity, I continues it            Harry/B-PER Potter/I-PER met/O
    BIOES  B begins, I continues, E ends an entity of two or more words, S is a single word
           Harry/B-PER Potter/E-PER met/O Hermione/S-PER

BIOES makes each tag say where it sits in its entity (Ratinov & Roth 2009 found it better than
BIO; Lample et al. 2016 use it and saw no significant gain). An entity span is
(type, start, end) over word positions, end exclusive.

References:
    Ramshaw & Marcus. Text Chunking using Transformation-Based Learning. WVLC 1995 (IOB).
    Ratinov & Roth. Design Challenges and Misconceptions in Named Entity Recognition. CoNLL 2009
        (BILOU, here BIOES).
    Lample, Ballesteros, Subramanian, Kawakami, Dyer. Neural Architectures for Named Entity
        Recognition. NAACL 2016.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, NamedTuple

import torch
from torch import Tensor

from rnnkit.errors import DataError

Scheme = Literal["bio", "bioes"]
TAG_PATTERN = re.compile(r"O|[BIES]-\S+")


class Span(NamedTuple):
    """An entity: its type and the word positions [start, end)."""

    type: str
    start: int
    end: int


def split_tag(tag: str) -> tuple[str, str]:
    """(prefix, type) of a tag; ("O", "") for O. DataError for a tag not `O|[BIES]-type`.

    >>> split_tag("B-PER"), split_tag("O"), split_tag("I-creative-work")
    (('B', 'PER'), ('O', ''), ('I', 'creative-work'))
    """
    if not TAG_PATTERN.fullmatch(tag):
        raise DataError(f"tag must be O or B-/I-/E-/S- followed by a type, got {tag!r}")
    return ("O", "") if tag == "O" else (tag[0], tag[2:])


def entity_spans(tags: Sequence[str]) -> list[Span]:
    """The entities of a BIO or BIOES tag sequence; an I- or E- without its B- starts one.

    >>> [tuple(span) for span in entity_spans(["B-PER", "I-PER", "O", "S-LOC", "I-ORG"])]
    [('PER', 0, 2), ('LOC', 3, 4), ('ORG', 4, 5)]
    """
    spans: list[Span] = []
    open_type, start = "", 0
    for position, tag in enumerate((*tags, "O")):
        prefix, kind = split_tag(tag)
        continues = prefix in ("I", "E") and kind == open_type
        if open_type and not continues:
            spans.append(Span(open_type, start, position))
            open_type = ""
        if prefix in ("B", "S") or (prefix in ("I", "E") and not continues):
            open_type, start = kind, position
        if prefix in ("S", "E") and open_type:
            spans.append(Span(open_type, start, position + 1))
            open_type = ""
    return spans


def spans_to_tags(spans: Sequence[Span], length: int, scheme: Scheme = "bio") -> list[str]:
    """The tag sequence of `length` words holding the given (non-overlapping) entities.

    >>> spans_to_tags([Span("PER", 0, 2), Span("LOC", 3, 4)], 4, "bioes")
    ['B-PER', 'E-PER', 'O', 'S-LOC']
    """
    tags = ["O"] * length
    for kind, start, end in spans:
        if end - start == 1 and scheme == "bioes":
            tags[start] = f"S-{kind}"
            continue
        tags[start] = f"B-{kind}"
        for position in range(start + 1, end):
            tags[position] = f"I-{kind}"
        if scheme == "bioes":
            tags[end - 1] = f"E-{kind}"
    return tags


def bio_to_bioes(tags: Sequence[str]) -> list[str]:
    """BIO -> BIOES (an I- without its B- is read as beginning an entity).

    >>> bio_to_bioes(["B-PER", "I-PER", "O", "B-LOC"])
    ['B-PER', 'E-PER', 'O', 'S-LOC']
    """
    return spans_to_tags(entity_spans(tags), len(tags), "bioes")


def bioes_to_bio(tags: Sequence[str]) -> list[str]:
    """BIOES -> BIO.

    >>> bioes_to_bio(["B-PER", "E-PER", "O", "S-LOC"])
    ['B-PER', 'I-PER', 'O', 'B-LOC']
    """
    return spans_to_tags(entity_spans(tags), len(tags), "bio")


class Transitions(NamedTuple):
    """Which tags may start a sequence (C,), follow tag i with tag j (C, C), end one (C,)."""

    start: Tensor
    transitions: Tensor
    end: Tensor


def _may_follow(previous: str, following: str, *, bioes: bool) -> bool:
    """Whether tag `following` may come right after tag `previous`."""
    prev_prefix, prev_type = split_tag(previous)
    prefix, kind = split_tag(following)
    if prefix in ("I", "E"):  # continues the entity opened by B-/I- of the same type
        return prev_prefix in ("B", "I") and prev_type == kind
    return not (bioes and prev_prefix in ("B", "I"))  # BIOES: B-/I- must be continued


def allowed_transitions(tags: Sequence[str]) -> Transitions:
    """The valid starts, transitions and ends of a tag set, as bool masks.

    BIO: I-x only after B-x or I-x (so never first, never after O). BIOES adds: B-x and I-x
    must be followed by I-x or E-x (so never last), and E-x / S-x / O may follow only a
    closed entity. The scheme is BIOES when any tag has an E- or S- prefix.

    >>> masks = allowed_transitions(["O", "B-PER", "I-PER"])
    >>> masks.start.tolist(), masks.transitions[0].tolist()  # O may not go to I-PER
    ([True, True, False], [True, True, False])
    """
    bioes = any(split_tag(tag)[0] in ("E", "S") for tag in tags)
    C = len(tags)
    transitions = torch.tensor(
        [[_may_follow(a, b, bioes=bioes) for b in tags] for a in tags], dtype=torch.bool
    ).reshape(C, C)  # (C, C)
    start = torch.tensor([split_tag(tag)[0] not in ("I", "E") for tag in tags])  # (C,)
    end_ok = ("E", "S", "O") if bioes else ("B", "I", "O")
    end = torch.tensor([split_tag(tag)[0] in end_ok for tag in tags])  # (C,)
    return Transitions(start, transitions, end)

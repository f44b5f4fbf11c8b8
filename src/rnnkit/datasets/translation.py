"""Sentence pairs for encoder–decoder models: Multi30k, your own TSV file, tokenising, filtering.

Formats:
    Multi30k        `raw/<split>.<lang>.gz`: gzipped UTF-8, one untokenised sentence per line;
                    line i of every language file of a split is the same sentence. Splits and
                    sizes: train 29,000, val 1,014, test_2016_flickr 1,000 (en de fr cs);
                    test_2017_flickr 1,000, test_2017_mscoco 461 (en de fr); test_2018_flickr
                    1,071 (en de fr cs). See `shared/data/README.md` §5.
    your own TSV    one `source<TAB>target` pair per line, UTF-8 (a leading BOM is accepted);
                    blank lines are skipped.

Each line is stripped of its line end and surrounding whitespace and nothing else, so the text
is what a human would score against; `tokenize_sentence` cuts it into tokens for a model and
`detokenize` joins model output back for display (BLEU re-tokenises with sacrebleu's own rule).

Data: Multi30k task 1, https://github.com/multi30k/dataset @ a3d2e0d (`data/task1/raw`).
Licence: non-commercial research and education only (the repository's README); keep the files
under `shared/`, do not ship them.

References:
    Elliott, Frank, Sima'an & Specia. Multi30K: Multilingual English-German Image Descriptions.
        VL@ACL 2016. https://aclanthology.org/W16-3210/
    Elliott, Frank, Barrault, Bougares & Specia. Findings of the Second Shared Task on
        Multimodal Machine Translation and Multilingual Image Description. WMT 2017.
    Barrault, Bougares, Specia, Lala, Elliott & Frank. Findings of the Third Shared Task on
        Multimodal Machine Translation. WMT 2018.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rnnkit.errors import ConfigError, DataError
from rnnkit.text import files
from rnnkit.text.tokenize import word_tokenize

MULTI30K_SPLITS: tuple[str, ...] = (
    "train",
    "val",
    "test_2016_flickr",
    "test_2017_flickr",
    "test_2017_mscoco",
    "test_2018_flickr",
)
MULTI30K_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "cs")
_BOM = b"\xef\xbb\xbf"
_OPENING = frozenset("([„«\u2018")  # no space after these; U+2018 is the left single quote
_CLOSING = frozenset(".,;:!?)]”»'\u2019")  # no space before these; U+2019 the right one
_DOUBLE = frozenset('"“')  # closes a double quote that is open, otherwise opens one


@dataclass(frozen=True)
class SentencePairs:
    """Aligned (source, target) sentences: `sources[i]` translates to `targets[i]`.

    >>> pairs = SentencePairs(("a", "b", "c"), ("x", "y", "z"), "toy")
    >>> len(pairs), pairs.subset([2, 0]).targets
    (3, ('z', 'x'))
    """

    sources: tuple[str, ...]
    targets: tuple[str, ...]
    name: str  # where the pairs came from, e.g. "multi30k train en-de" or a file path

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", tuple(self.sources))  # lists in, tuples stored
        object.__setattr__(self, "targets", tuple(self.targets))
        if len(self.sources) != len(self.targets):
            raise DataError(
                f"{self.name}: every source needs one target; got {len(self.sources)} sources "
                f"and {len(self.targets)} targets"
            )

    def __len__(self) -> int:
        return len(self.sources)

    def subset(self, indices: Sequence[int]) -> SentencePairs:
        """The pairs at `indices`, in that order, under the same name."""
        return SentencePairs(
            tuple(self.sources[i] for i in indices),
            tuple(self.targets[i] for i in indices),
            self.name,
        )


def _decode(raw: bytes, where: str, *, offset: int = 0) -> str:
    """`raw` as UTF-8; DataError with the byte offset (plus `offset`, for a skipped BOM)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(
            f"{where} is not UTF-8 text (byte {err.start + offset}: "
            f"{raw[err.start : err.start + 1]!r}); re-save it as UTF-8"
        ) from err


def _available(folder: Path) -> str:
    """The `<split>.<lang>` files present, grouped by split, e.g. 'train: cs de en fr'."""
    found: dict[str, list[str]] = {split: [] for split in MULTI30K_SPLITS}
    for path in sorted(folder.glob("*.gz")):
        split, _, language = path.name.removesuffix(".gz").rpartition(".")
        found.setdefault(split, []).append(language)
    listed = [f"{split}: {' '.join(langs)}" for split, langs in found.items() if langs]
    return "; ".join(listed) or "no <split>.<lang>.gz file"


def _read_sentences(path: Path) -> list[str]:
    """The stripped lines of one gzipped Multi30k file; DataError for a bad file or empty line."""
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
        raise DataError(f"{path} is not a readable gzip file: {err}") from err
    lines = _decode(raw, f"{path} (uncompressed)").split("\n")
    if lines[-1] == "":  # the newline that ends the last line
        lines.pop()
    sentences = [line.strip() for line in lines]
    if not sentences:
        raise DataError(f"{path} holds no line; expected one sentence per line")
    for number, sentence in enumerate(sentences, start=1):
        if not sentence:
            raise DataError(f"{path}, line {number} is empty; every line must hold a sentence")
    return sentences


def _multi30k_folder(root: Path) -> Path:
    """`root/raw` when it exists (the translation_multi30k folder), else `root` itself."""
    if not root.is_dir():
        raise DataError(
            f"Multi30k folder not found: {root}; expected shared/data/translation_multi30k "
            "beside the repository (shared/data/README.md §5)"
        )
    return root / "raw" if (root / "raw").is_dir() else root


def load_multi30k(
    root: str | Path, split: str, source: str = "en", target: str = "de"
) -> SentencePairs:
    """One Multi30k split as (source, target) pairs, e.g. English → German.

    Args:
        root: the `translation_multi30k` folder (holding `raw/`) or the `raw` folder itself.
        split: one of `MULTI30K_SPLITS` (train, val, test_2016_flickr, …).
        source: the source language, one of `MULTI30K_LANGUAGES` present in that split.
        target: the target language.

    Returns:
        SentencePairs named "multi30k <split> <source>-<target>", in file order.

    Raises:
        DataError: the folder or a `<split>.<lang>.gz` file is missing (the message lists the
            files present), a file is not gzip or not UTF-8 (byte offset), a line is empty,
            or the two files differ in line count.
    """
    folder = _multi30k_folder(Path(root))
    sentences = {}
    for language in (source, target):
        path = folder / f"{split}.{language}.gz"
        if not path.is_file():
            raise DataError(
                f"{path} not found: no {language!r} text for split {split!r}. Present in "
                f"{folder}: {_available(folder)}"
            )
        sentences[language] = _read_sentences(path)
    sources, targets = sentences[source], sentences[target]
    if len(sources) != len(targets):
        raise DataError(
            f"{folder}: {split}.{source}.gz has {len(sources)} lines but {split}.{target}.gz "
            f"has {len(targets)}; line i of both must be the same sentence"
        )
    return SentencePairs(tuple(sources), tuple(targets), f"multi30k {split} {source}-{target}")


def _parse_tsv_line(line: str, number: int, path: Path) -> tuple[str, str]:
    cells = line.split("\t")
    if len(cells) != 2:
        problem = "has no tab" if len(cells) == 1 else f"has {len(cells) - 1} tabs"
        raise DataError(
            f"{path}, line {number} {problem}; expected one `source<TAB>target` pair per line"
        )
    source, target = cells[0].strip(), cells[1].strip()
    if not source or not target:
        side = "source" if not source else "target"
        raise DataError(f"{path}, line {number}: the {side} side is empty; fill it in or remove")
    return source, target


def read_tsv_pairs(path: str | Path) -> SentencePairs:
    """Your own pairs: one `source<TAB>target` per line, UTF-8 (BOM accepted), blank lines skipped.

    Each side is stripped of surrounding whitespace; the name is the path.

    Raises:
        DataError: the file is missing, is not UTF-8 (byte offset), holds no pair, or a line
            has no tab, more than one tab or an empty side (1-based line number).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():  # a device or a FIFO would be read forever
        files.regular_file(path, "pair file")
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError) as err:
        raise DataError(f"pair file not found: {path}; expected a source<TAB>target file") from err
    bom = len(_BOM) if raw.startswith(_BOM) else 0
    text = _decode(raw[bom:], str(path), offset=bom)
    sources, targets = [], []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        source, target = _parse_tsv_line(line.rstrip("\r"), number, path)
        sources.append(source)
        targets.append(target)
    if not sources:
        raise DataError(f"{path} holds no source<TAB>target pair")
    return SentencePairs(tuple(sources), tuple(targets), str(path))


def tokenize_sentence(text: str, *, lowercase: bool = False) -> list[str]:
    """Cut a sentence into words, numbers and single punctuation marks (`text.WORD_PATTERN`).

    A word is a run of Unicode letters or digits (ä, é, ß, č count), with inner hyphens and
    apostrophes kept: "T-shirt", "don't", "d'un", "aujourd'hui" are one token each; a leading or
    trailing hyphen or apostrophe is a token of its own ("boys'" → "boys", "'"). A number keeps
    inner separators ("3.5", "1,000", "12:30"). Every other non-space character is its own token.

    Args:
        text: one sentence.
        lowercase: fold to lower case with str.lower ("ß" stays "ß").

    >>> tokenize_sentence("Zwei junge weiße Männer tragen T-Shirts.")
    ['Zwei', 'junge', 'weiße', 'Männer', 'tragen', 'T-Shirts', '.']
    >>> tokenize_sentence("L'homme porte d'un chapeau (rouge) à 3,5 €!", lowercase=True)
    ["l'homme", 'porte', "d'un", 'chapeau', '(', 'rouge', ')', 'à', '3,5', '€', '!']
    """
    return word_tokenize(text, lowercase=lowercase)


def detokenize(tokens: Sequence[str]) -> str:
    """Join tokens with spaces, attaching punctuation as print does, for display.

    No space before . , ; : ! ? ) ] and closing quotes (” » ' and U+2019), none after ( [ and
    opening quotes („ « and U+2018). A straight " or “ closes a double quote that is open and
    otherwise opens one, so both "…" and „…“ come out tight.

    >>> detokenize(["Ein", "Mann", "(", "lächelnd", ")", "sagt", '"', "Hallo", "!", '"', "."])
    'Ein Mann (lächelnd) sagt "Hallo!".'
    >>> detokenize(["Il", "dit", "«", "bonjour", "»", ",", "puis", "„", "ja", "“", "?"])
    'Il dit «bonjour», puis „ja“?'
    """
    text, glue, quote_open = "", True, False  # glue: no space before the next token
    for token in tokens:
        closing = token in _CLOSING or (token in _DOUBLE and quote_open)
        if token in _DOUBLE:
            quote_open = not closing
        if token == "„":
            quote_open = True
        text += token if glue or closing else " " + token
        glue = token in _OPENING or (token in _DOUBLE and not closing)
    return text


def filter_pairs(
    pairs: SentencePairs,
    tokenize: Callable[[str], Sequence[str]],
    *,
    max_tokens: int,
    min_tokens: int = 1,
) -> SentencePairs:
    """The pairs whose source and target both have min_tokens..max_tokens tokens (inclusive).

    For training only: evaluation keeps every pair, so scores stay comparable.

    >>> pairs = SentencePairs(("a b", "a b c d"), ("x", "y"), "toy")
    >>> filter_pairs(pairs, str.split, max_tokens=3).sources
    ('a b',)

    Raises:
        ConfigError: min_tokens < 1 or max_tokens < min_tokens.
    """
    if min_tokens < 1 or max_tokens < min_tokens:
        raise ConfigError(
            f"need 1 <= min_tokens <= max_tokens, got min_tokens={min_tokens}, "
            f"max_tokens={max_tokens}"
        )
    keep = [
        i
        for i, (source, target) in enumerate(zip(pairs.sources, pairs.targets, strict=True))
        if min_tokens <= len(tokenize(source)) <= max_tokens
        and min_tokens <= len(tokenize(target)) <= max_tokens
    ]
    return pairs.subset(keep)


__all__ = [
    "MULTI30K_LANGUAGES",
    "MULTI30K_SPLITS",
    "SentencePairs",
    "detokenize",
    "filter_pairs",
    "load_multi30k",
    "read_tsv_pairs",
    "tokenize_sentence",
]

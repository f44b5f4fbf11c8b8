"""Translation pairs: the real Multi30k files, TSV pairs, tokenising, filtering, every bad file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from rnnkit.datasets.shared import find_shared
from rnnkit.datasets.translation import (
    MULTI30K_LANGUAGES,
    MULTI30K_SPLITS,
    SentencePairs,
    detokenize,
    filter_pairs,
    load_multi30k,
    read_tsv_pairs,
    tokenize_sentence,
)
from rnnkit.errors import ConfigError, DataError

MULTI30K = pytest.mark.shared_data("translation_multi30k")  # shared/data README §5 (conftest.py)


@pytest.fixture(scope="module")
def multi30k() -> Path:
    return find_shared("translation_multi30k")


# -- the real files -----------------------------------------------------------------------------
@MULTI30K
@pytest.mark.parametrize(
    ("split", "size", "first_source", "first_target"),
    [
        ("train", 29_000, "Two young, White males are outside near many bushes.",
         "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche."),
        ("val", 1_014, "A group of men are loading cotton onto a truck", None),
        ("test_2016_flickr", 1_000, "A man in an orange hat starring at something.",
         "Ein Mann mit einem orangefarbenen Hut, der etwas anstarrt."),
    ],
)  # fmt: skip
def test_multi30k_en_de_sizes_and_first_pair(
    multi30k: Path, split: str, size: int, first_source: str, first_target: str | None
) -> None:
    pairs = load_multi30k(multi30k, split)
    assert len(pairs) == size
    assert len(pairs.targets) == size
    assert pairs.name == f"multi30k {split} en-de"
    assert pairs.sources[0] == first_source
    if first_target is not None:
        assert pairs.targets[0] == first_target


@MULTI30K
def test_french_and_czech_load_and_lines_are_stripped(multi30k: Path) -> None:
    french = load_multi30k(multi30k / "raw", "val", "en", "fr")  # the raw folder works too
    assert french.targets[0] == "Un groupe d'hommes chargent du coton dans un camion"
    assert french.targets[196] == "Un homme assis travaille avec ses mains."  # " Un …" in file
    czech = load_multi30k(multi30k, "val", source="cs", target="en")
    assert czech.sources[0] == "Skupina mužů nakládá bavlnu na náklaďák."
    assert czech.targets == french.sources
    mscoco = load_multi30k(multi30k, "test_2017_mscoco", "en", "fr")
    assert len(mscoco) == 461
    assert mscoco.targets[0] == "Je ne peux pas voir ce qu'indique la flèche verte."
    assert "test_2017_mscoco" in MULTI30K_SPLITS
    assert MULTI30K_LANGUAGES == ("en", "de", "fr", "cs")


@MULTI30K
def test_missing_language_or_split_lists_what_exists(multi30k: Path) -> None:
    with pytest.raises(DataError, match=r"test_2017_flickr\.cs\.gz not found") as caught:
        load_multi30k(multi30k, "test_2017_flickr", "en", "cs")
    assert "test_2017_flickr: de en fr" in str(caught.value)
    assert "train: cs de en fr" in str(caught.value)
    with pytest.raises(DataError, match=r"split 'valid'.*val: cs de en fr"):
        load_multi30k(multi30k, "valid")
    with pytest.raises(DataError, match="Multi30k folder not found"):
        load_multi30k(multi30k / "absent", "train")


# -- bad Multi30k files, written to tmp_path ---------------------------------------------------
def _write(folder: Path, name: str, text: str | bytes, *, compress: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    raw = text.encode("utf-8") if isinstance(text, str) else text
    (folder / name).write_bytes(gzip.compress(raw) if compress else raw)


def test_tiny_folder_strips_only_surrounding_whitespace(tmp_path: Path) -> None:
    _write(tmp_path / "raw", "train.en.gz", "  A dog\truns. \r\nTwo cats.\n")
    _write(tmp_path / "raw", "train.de.gz", "Ein Hund läuft.\nZwei Katzen.")  # no final newline
    pairs = load_multi30k(tmp_path, "train")
    assert pairs.sources == ("A dog\truns.", "Two cats.")
    assert pairs.targets == ("Ein Hund läuft.", "Zwei Katzen.")


def test_mismatched_line_counts_name_both(tmp_path: Path) -> None:
    _write(tmp_path, "val.en.gz", "One.\nTwo.\nThree.\n")
    _write(tmp_path, "val.fr.gz", "Un.\nDeux.\n")
    with pytest.raises(DataError, match=r"val\.en\.gz has 3 lines but val\.fr\.gz has 2"):
        load_multi30k(tmp_path, "val", "en", "fr")


def test_not_gzip_invalid_utf8_and_empty_line(tmp_path: Path) -> None:
    _write(tmp_path, "val.de.gz", "Eins.\nZwei.\n")
    _write(tmp_path, "val.en.gz", "One.\nTwo.\n", compress=False)
    with pytest.raises(DataError, match=r"val\.en\.gz is not a readable gzip file"):
        load_multi30k(tmp_path, "val")
    _write(tmp_path, "val.en.gz", b"One.\nT\xffwo.\n")
    with pytest.raises(DataError, match=r"val\.en\.gz \(uncompressed\) is not UTF-8 text \(byte 6"):
        load_multi30k(tmp_path, "val")
    _write(tmp_path, "val.en.gz", "One.\n   \nThree.\n")
    with pytest.raises(DataError, match=r"val\.en\.gz, line 2 is empty"):
        load_multi30k(tmp_path, "val")
    _write(tmp_path, "val.en.gz", "")
    with pytest.raises(DataError, match=r"val\.en\.gz holds no line"):
        load_multi30k(tmp_path, "val")


# -- your own TSV file ----------------------------------------------------------------------
def test_tsv_with_bom_blank_lines_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "pairs.tsv"
    path.write_bytes("\ufeffhello\tbonjour\r\n\r\n  \n a cat \t un chat\n\n".encode())
    pairs = read_tsv_pairs(path)
    assert pairs.sources == ("hello", "a cat")
    assert pairs.targets == ("bonjour", "un chat")
    assert pairs.name == str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a\tb\n\nno tab here\n", r"line 3 has no tab"),
        ("a\tb\nx\ty\tz\n", r"line 2 has 2 tabs"),
        ("a\tb\n \tb\n", r"line 2: the source side is empty"),
        ("a\tb\nc\tb\nd\t  \n", r"line 3: the target side is empty"),
        ("\n \n", r"holds no source<TAB>target pair"),
    ],
)
def test_tsv_bad_lines_name_their_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pairs.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_tsv_pairs(path)


def test_tsv_invalid_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "pairs.tsv"
    path.write_bytes(b"\xef\xbb\xbfab\tc\xe9\n")  # Latin-1 é after a UTF-8 BOM
    with pytest.raises(DataError, match=r"not UTF-8 text \(byte 7: b'\\xe9'\)"):
        read_tsv_pairs(path)
    with pytest.raises(DataError, match="pair file not found"):
        read_tsv_pairs(tmp_path / "absent.tsv")


# -- SentencePairs, tokenising, filtering -------------------------------------------------------
def test_sentence_pairs_check_lengths_and_subset() -> None:
    with pytest.raises(DataError, match="got 2 sources and 1 targets"):
        SentencePairs(("a", "b"), ("x",), "toy")
    pairs = SentencePairs(["a", "b", "c"], ["x", "y", "z"], "toy")  # type: ignore[arg-type]
    assert pairs.sources == ("a", "b", "c")  # stored as tuples
    picked = pairs.subset([2, 0])
    assert (picked.sources, picked.targets, picked.name) == (("c", "a"), ("z", "x"), "toy")


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Ein Mädchen in einem rosa T-Shirt springt über 3,5 m.",
         ["Ein", "Mädchen", "in", "einem", "rosa", "T-Shirt", "springt", "über", "3,5", "m", "."]),
        ("Die Straße: „Hallo!“", ["Die", "Straße", ":", "„", "Hallo", "!", "“"]),
        ("Un homme d'âge mûr regarde l'eau aujourd'hui.",
         ["Un", "homme", "d'âge", "mûr", "regarde", "l'eau", "aujourd'hui", "."]),
        ("The boys' dog doesn't bark (much)...",
         ["The", "boys", "'", "dog", "doesn't", "bark", "(", "much", ")", ".", ".", "."]),
        ("Dva mladí muži -- venku.", ["Dva", "mladí", "muži", "-", "-", "venku", "."]),
    ],
)  # fmt: skip
def test_tokenize_sentence(text: str, tokens: list[str]) -> None:
    assert tokenize_sentence(text) == tokens


def test_tokenize_lowercase_keeps_eszett() -> None:
    assert tokenize_sentence("GROẞE Straße, Élan", lowercase=True) == [
        "große",
        "straße",
        ",",
        "élan",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.",
        "Un groupe d'hommes (trois) chargent du coton; ils rient!",
        'He says "hello, world" [twice].',
        "Sie sagt: „Ja“, und er fragt: „Warum?“",
    ],
)
def test_detokenize_inverts_tokenize_on_ordinary_spacing(text: str) -> None:
    assert detokenize(tokenize_sentence(text)) == text


def test_detokenize_spacing_rules() -> None:
    assert detokenize([]) == ""
    assert detokenize(["(", "a", ")", "b", "[", "c", "]", "?"]) == "(a) b [c]?"
    assert detokenize(['"', "a", '"', "b", '"', "c", '"']) == '"a" b "c"'  # quotes alternate
    assert detokenize(["«", "oui", "»", "!"]) == "«oui»!"
    assert detokenize(["a", "-", "b"]) == "a - b"


def test_filter_pairs_keeps_both_sides_in_range() -> None:
    pairs = SentencePairs(
        ("Ein Hund.", "Ein sehr sehr großer Hund läuft.", "Hund", "Zwei Katzen."),
        ("A dog.", "A dog.", "Dog", "Two cats sit on the mat."),
        "toy",
    )
    kept = filter_pairs(pairs, tokenize_sentence, max_tokens=4)
    assert kept.sources == ("Ein Hund.", "Hund")
    kept = filter_pairs(pairs, tokenize_sentence, min_tokens=2, max_tokens=7)
    assert kept.sources == ("Ein Hund.", "Ein sehr sehr großer Hund läuft.", "Zwei Katzen.")
    assert len(filter_pairs(pairs, tokenize_sentence, max_tokens=100)) == 4
    with pytest.raises(ConfigError, match="min_tokens=0"):
        filter_pairs(pairs, tokenize_sentence, min_tokens=0, max_tokens=3)
    with pytest.raises(ConfigError, match="max_tokens=1"):
        filter_pairs(pairs, tokenize_sentence, min_tokens=2, max_tokens=1)

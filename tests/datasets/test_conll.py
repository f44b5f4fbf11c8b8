"""CoNLL reader and writer: documents, columns, separators, round trip, bad lines; tag schemes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from rnnkit.datasets.conll import (
    CONLL_TOKENS,
    format_conll,
    load_conll2002,
    load_wnut17,
    parse_conll,
    read_conll,
    tagged_corpus,
    write_conll,
)
from rnnkit.datasets.shared import find_shared
from rnnkit.errors import DataError
from rnnkit.text.tags import allowed_transitions, bio_to_bioes, bioes_to_bio, entity_spans

DUTCH = """-DOCSTART- -DOCSTART- O
De Art O
Morgen N B-ORG

Jan N B-PER
Peeters N I-PER

-DOCSTART- -DOCSTART- O
Gent N B-LOC

"""


def test_documents_columns_and_round_trip(tmp_path: Path):
    path = tmp_path / "ned.train"
    path.write_text(DUTCH, encoding="utf-8")
    corpus = read_conll(path)
    assert len(corpus.documents) == 2
    assert [s.tokens for s in corpus.sentences] == [["De", "Morgen"], ["Jan", "Peeters"], ["Gent"]]
    assert corpus.sentences[1].tags == ["B-PER", "I-PER"]
    assert corpus.sentences[0].rows[1] == ("Morgen", "N", "B-ORG")  # the POS column is kept
    assert corpus.entity_types == ["LOC", "ORG", "PER"]
    assert format_conll(corpus) == DUTCH  # byte for byte
    again = read_conll(write_conll(tmp_path / "out" / "copy.txt", corpus))
    assert again.documents == corpus.documents
    squeezed = parse_conll(DUTCH.replace("I-PER\n\n", "I-PER\n").splitlines())
    assert squeezed.documents == corpus.documents  # -DOCSTART- also ends a sentence


def test_tab_separator_lines_and_whitespace_only_lines(tmp_path: Path):
    path = tmp_path / "wnut.conll"
    path.write_text("@paul\tO\nNew York\tB-location\n\t\nhi\tO\n   \nok\tO\n", encoding="utf-8")
    corpus = read_conll(path)
    assert [s.tokens for s in corpus.sentences] == [["@paul", "New York"], ["hi"], ["ok"]]
    assert corpus.delimiter == "\t"
    assert read_conll(write_conll(tmp_path / "copy", corpus)).sentences == corpus.sentences


def test_column_choice():
    corpus = parse_conll(["a X B-PER 7", "b Y O 8"], tag_column=2, token_column=1)
    assert corpus.sentences[0].tokens == ["X", "Y"]
    assert corpus.sentences[0].tags == ["B-PER", "O"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a NP O\nb O\n", r"bad\.txt:2: expected 3 columns"),
        ("a\tO\n\tB-PER\n", r"bad\.txt:2: empty column"),
        ("a NP O\nb NP PER\n", r"bad\.txt:2: tag must be"),
        ("a NP O\nb NP X-PER\n", r"bad\.txt:2: tag must be"),
        ("alone\n", r"bad\.txt:1: need a token and a tag"),
        ("\n\n", "holds no sentence"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path: Path, text: str, message: str):
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_conll(path)


def test_missing_file_and_bad_names(tmp_path: Path):
    with pytest.raises(DataError, match="not found"):
        read_conll(tmp_path / "nope.conll")
    with pytest.raises(DataError, match="languages"):
        load_conll2002(tmp_path, "de", "train")
    with pytest.raises(DataError, match="splits"):
        load_wnut17(tmp_path, "valid")
    (tmp_path / "latin1.txt").write_bytes("Mar\xeda O\n".encode("latin-1"))
    with pytest.raises(DataError, match="UTF-8"):
        read_conll(tmp_path / "latin1.txt")


def test_loaders_find_files_under_root(tmp_path: Path):
    folder = tmp_path / "ner_conll2002"
    folder.mkdir()
    (folder / "esp.testa").write_text("Madrid NC B-LOC\n", encoding="utf-8")
    assert load_conll2002(tmp_path, "es", "dev").sentences[0].tags == ["B-LOC"]
    write_conll(tmp_path / "ner_wnut17" / "emerging.test.annotated",
                tagged_corpus([(["Paris"], ["B-location"])], delimiter="\t"))  # fmt: skip
    assert load_wnut17(tmp_path, "test").sentences[0].tokens == ["Paris"]


def test_tag_schemes_convert_both_ways():
    bio = ["B-PER", "I-PER", "O", "B-LOC", "I-ORG", "B-MISC", "I-MISC", "I-MISC"]
    bioes = bio_to_bioes(bio)
    assert bioes == ["B-PER", "E-PER", "O", "S-LOC", "S-ORG", "B-MISC", "I-MISC", "E-MISC"]
    assert bioes_to_bio(bioes) == ["B-PER", "I-PER", "O", "B-LOC", "B-ORG", "B-MISC", "I-MISC",
                                   "I-MISC"]  # fmt: skip
    assert entity_spans(bio) == entity_spans(bioes)
    assert [tuple(s) for s in entity_spans(["I-PER", "B-PER", "O"])] == [
        ("PER", 0, 1),
        ("PER", 1, 2),
    ]


def test_allowed_transitions_bio():
    tags = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")
    allowed = allowed_transitions(tags)
    assert allowed.start.tolist() == [True, True, False, True, False]
    assert allowed.end.all()
    assert allowed.transitions[:, 2].tolist() == [False, True, True, False, False]  # → I-PER
    assert allowed.transitions[:, 0].all()


# -- the normalisation an ner run stores (issue 20, item 2) -------------------------------------
@pytest.mark.shared_data("ner_wnut17", "ner_conll2002")
@pytest.mark.parametrize(
    ("corpus", "least"),
    [("es", 0.994), ("nl", 0.997), ("wnut17", 0.91)],  # measured: 99.46 %, 99.71 %, 91.01 %
)
def test_a_sentence_typed_as_one_line_gives_back_the_corpus_tokens(
    corpus: str, least: float
) -> None:
    """CONLL_TOKENS of a training sentence joined by spaces vs the file's own tokens.

    WNUT-17 keeps emoticons (":)"), "&amp;" and the clitic "'s" as tokens, which it splits.
    """
    if corpus == "wnut17":
        sentences = load_wnut17(find_shared("ner_wnut17"), "train").sentences
    else:
        sentences = load_conll2002(find_shared("ner_conll2002"), corpus, "train").sentences
    total = lost = 0
    for sentence in sentences:
        tokens = sentence.tokens
        read = CONLL_TOKENS(" ".join(tokens))
        total += len(tokens)
        lost += sum((Counter(tokens) - Counter(read)).values())  # file tokens not read back
    assert 1 - lost / total > least


def test_conll_tokens_keep_case_and_runs_of_one_mark() -> None:
    line = "El PSOE ganó 1,5 millones ... -- ¡ Viva !"
    assert CONLL_TOKENS(line) == line.split()  # the ner run's own corpus tokens, read back
    assert CONLL_TOKENS("Yesterday, Harry Potter met Hermione Granger...") == [
        "Yesterday", ",", "Harry", "Potter", "met", "Hermione", "Granger", "...",
    ]  # fmt: skip

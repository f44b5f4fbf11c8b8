"""mlbench's DNA.rda (Debian r-cran-mlbench) read and decoded; the R reader on made-up bytes."""

from __future__ import annotations

import collections
import gzip
import os
import struct

import numpy as np
import pytest

from rnnkit.datasets.r_serialized import factor_labels, parse_rda
from rnnkit.datasets.splice_junctions import (
    find_dna_rda,
    read_splice_junctions,
    split_splice_junctions,
)
from rnnkit.errors import DataError

DNA_RDA = find_dna_rda()
# .ci/run unpacks Debian's r-cran-mlbench and sets RNNKIT_MLBENCH_DNA: there a skip is a failure
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
needs_mlbench = pytest.mark.skipif(
    DNA_RDA is None and not IN_CI,
    reason="mlbench's DNA.rda not found: apt-get install r-cran-mlbench (or apt-get download it, "
    "dpkg-deb -x, and set RNNKIT_MLBENCH_DNA to .../mlbench/data/DNA.rda)",
)


def _xdr(*ints: int) -> bytes:
    return b"".join(struct.pack(">i", i) for i in ints)


def _charsxp(text: str) -> bytes:
    return _xdr(9 | (1 << 18), len(text)) + text.encode()  # CHARSXP, gp bit "UTF-8"


def _strsxp(*items: str) -> bytes:
    return _xdr(16, len(items)) + b"".join(_charsxp(s) for s in items)


def _factor_rda(name: str, codes: list[int], levels: list[str]) -> bytes:
    """gzip'd RDX2: name = factor(codes, levels) written as R writes it."""
    attrs = (
        _xdr(2 | (1 << 10), 1) + _charsxp("levels") + _strsxp(*levels)  # LISTSXP, tag SYMSXP
        + _xdr(2 | (1 << 10), 1) + _charsxp("class") + _strsxp("factor") + _xdr(254)
    )  # fmt: skip
    factor = _xdr(13 | (1 << 9), len(codes), *codes) + attrs  # INTSXP with attributes
    body = _xdr(2 | (1 << 10), 1) + _charsxp(name) + factor + _xdr(254)
    return gzip.compress(b"RDX2\nX\n" + _xdr(2, 0x040003, 0x020300) + body)


def _factor_of(raw: bytes) -> list[str]:
    return factor_labels(parse_rda(raw)["f"])


def test_parse_rda_reads_a_factor_written_as_r_writes_it() -> None:
    objects = parse_rda(_factor_rda("f", [2, 1, -(2**31), 2], ["lo", "hi"]))
    assert factor_labels(objects["f"]) == ["hi", "lo", "", "hi"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not R at all", "not an R workspace"),
        (gzip.compress(b"RDX2\nA\n"), "XDR"),
        (_factor_rda("f", [3], ["a", "b"]), "outside its levels"),
        (_factor_rda("f", [1, 2], ["a", "b"])[:-20], "corrupt|ends early"),
    ],
)
def test_parse_rda_rejects_bad_input_with_a_data_error(raw: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message):
        _factor_of(raw)


def test_missing_file_is_a_data_error(tmp_path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        read_splice_junctions(tmp_path / "DNA.rda")


@needs_mlbench
def test_real_dna_set_has_statlog_size_classes_and_splice_consensus() -> None:
    data = read_splice_junctions(DNA_RDA)
    assert len(data) == 3186
    assert collections.Counter(data.labels) == {"n": 1654, "ei": 767, "ie": 765}
    assert all(len(s) == 60 and set(s) <= set("ACGT") for s in data.sequences)
    # the decoding is right only if the splice-site consensus shows up where it must:
    # donors (ei) start the intron with GT at 31-32, acceptors (ie) end it with AG at 29-30
    donors = [s[30:32] for s, c in zip(data.sequences, data.labels, strict=True) if c == "ei"]
    acceptors = [s[28:30] for s, c in zip(data.sequences, data.labels, strict=True) if c == "ie"]
    assert donors.count("GT") == 759
    assert acceptors.count("AG") == 761
    ids, classes = data.encode()
    assert ids.shape == (3186, 60)
    assert ids.min() == 1
    assert ids.max() == 4
    assert np.bincount(classes).tolist() == [767, 765, 1654]


@needs_mlbench
@pytest.mark.parametrize("seed", [0, 3])
def test_split_is_stratified_seeded_and_keeps_repeats_on_one_side(seed: int) -> None:
    data = read_splice_junctions(DNA_RDA)
    assert len(set(data.sequences)) == 3001  # the set repeats sequences
    train, test = split_splice_junctions(data, seed=seed)
    assert len(train) + len(test) == 3186
    assert abs(len(train) - 2000) <= 5
    assert not set(train.sequences) & set(test.sequences)
    shares = collections.Counter(train.labels)
    for name, total in {"n": 1654, "ei": 767, "ie": 765}.items():
        assert abs(shares[name] / len(train) - total / 3186) < 0.003
    again, _ = split_splice_junctions(data, seed=seed)
    assert again.sequences == train.sequences
    other, _ = split_splice_junctions(data, seed=seed + 1)
    assert other.sequences != train.sequences

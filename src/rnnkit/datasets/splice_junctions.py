"""Primate splice-junction DNA sequences (UCI / StatLog "DNA"), as R's mlbench ships them.

The task: given 60 nucleotides of primate DNA centred on a candidate site, say whether it is
an exon→intron boundary (donor, class `ei`), an intron→exon boundary (acceptor, `ie`) or
neither (`n`). 3,186 sequences: 767 ei, 765 ie, 1,654 n.

Source: the Debian package `r-cran-mlbench` (R package mlbench 2.1-3, GPL-2, by Friedrich
Leisch and Evgenia Dimitriadou; 1.0 MB .deb) ships it as `mlbench/data/DNA.rda`, an xz
compressed R workspace (read by `rnnkit.datasets.r_serialized`, no R needed). mlbench's copy is
the StatLog version by Ross King (Strathclyde) of the UCI "Molecular Biology (Splice-junction
Gene Sequences)" set (Towell, Noordewier & Shavlik; sequences from GenBank 64.1): the 4
sequences with ambiguous bases removed and each base replaced by 3 indicator variables,

    A → 1 0 0    C → 0 1 0    G → 0 0 1    T → 0 0 0

so the data frame has columns V1 … V180 (factors "0"/"1") and Class. `read_splice_junctions`
turns the indicators back into the 60-letter sequences. The decoding is checked on the data:
the donor dinucleotide GT sits at positions 31-32 of 759 of the 767 ei sequences and the
acceptor AG at positions 29-30 of 761 of the 765 ie sequences (tests/datasets/
test_splice_junctions.py).

Get the file without R (the .deb's dependency on r-base-core is not needed to read it):
    apt-get download r-cran-mlbench && dpkg-deb -x r-cran-mlbench_*.deb DIR
then pass DIR/usr/lib/R/site-library/mlbench/data/DNA.rda, or set RNNKIT_MLBENCH_DNA to it;
`apt-get install r-cran-mlbench` puts it at `DEFAULT_PATHS[0]`.

No split ships with mlbench: StatLog used 2,000 training and 1,186 test sequences;
`split_splice_junctions` draws a seeded, class-stratified split of about those sizes that
keeps repeated sequences (3,186 rows, 3,001 distinct) on one side (seed 0: 2,003 / 1,183).

References:
    Towell, Shavlik & Noordewier. Refinement of Approximate Domain Theories by
        Knowledge-Based Neural Networks. AAAI 1990.
    Michie, Spiegelhalter & Taylor (eds). Machine Learning, Neural and Statistical
        Classification (StatLog). Ellis Horwood, 1994 (the DNA data set).
    Leisch & Dimitriadou. mlbench: Machine Learning Benchmark Problems. CRAN, 2021.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnkit.datasets.r_serialized import RList, factor_labels, read_rda
from rnnkit.errors import DataError

DEFAULT_PATHS = (
    Path("/usr/lib/R/site-library/mlbench/data/DNA.rda"),  # Debian's r-cran-mlbench
    Path("/usr/local/lib/R/site-library/mlbench/data/DNA.rda"),  # install.packages("mlbench")
)
ENV_VAR = "RNNKIT_MLBENCH_DNA"
BASES = "ACGT"
CLASSES = ("ei", "ie", "n")  # donor (exon→intron), acceptor (intron→exon), neither
SEQUENCE_LENGTH = 60
# StatLog's 3-indicator code of each base (Michie et al. 1994)
INDICATORS = {(1, 0, 0): "A", (0, 1, 0): "C", (0, 0, 1): "G", (0, 0, 0): "T"}
STATLOG_TRAIN = 2000  # StatLog's training set size; the other 1,186 were its test set


@dataclass(frozen=True)
class SpliceJunctions:
    """Sequences (60 letters of ACGT each) and their class names (ei, ie or n)."""

    sequences: list[str]
    labels: list[str]

    def __len__(self) -> int:
        return len(self.sequences)

    def encode(self) -> tuple[np.ndarray, np.ndarray]:
        """Base ids (N, 60) int64 with A=1, C=2, G=3, T=4 (0 left for padding); class ids (N,)."""
        ids = np.array([[BASES.index(b) + 1 for b in s] for s in self.sequences], dtype=np.int64)
        return ids.reshape(len(self), SEQUENCE_LENGTH), np.array(
            [CLASSES.index(c) for c in self.labels], dtype=np.int64
        )

    def subset(self, index: np.ndarray) -> SpliceJunctions:
        return SpliceJunctions(
            [self.sequences[i] for i in index.tolist()], [self.labels[i] for i in index.tolist()]
        )


def find_dna_rda() -> Path | None:
    """The mlbench DNA.rda named by $RNNKIT_MLBENCH_DNA, else the first installed one, or None."""
    named = os.environ.get(ENV_VAR)
    if named:
        return Path(named)
    return next((p for p in DEFAULT_PATHS if p.is_file()), None)


def read_splice_junctions(path: str | Path | None = None) -> SpliceJunctions:
    """Read mlbench's DNA data frame and decode its 180 indicators into 60-base sequences."""
    path = Path(path) if path is not None else find_dna_rda()
    if path is None:
        raise DataError(
            "mlbench's DNA.rda was not found: apt-get install r-cran-mlbench, or pass its path "
            f"(or set {ENV_VAR}); see rnnkit.datasets.splice_junctions"
        )
    objects = read_rda(path)
    frame = objects.get("DNA")
    if not isinstance(frame, RList) or frame.names[-1:] != ["Class"]:
        raise DataError(f"{path} does not hold mlbench's DNA data frame (V1 … V180, Class)")
    if len(frame.values) != 3 * SEQUENCE_LENGTH + 1:
        raise DataError(f"{path}: expected 181 columns, got {len(frame.values)}")
    labels = factor_labels(frame.values[-1])
    if set(labels) - set(CLASSES):
        raise DataError(f"{path}: unknown classes {sorted(set(labels) - set(CLASSES))}")
    try:
        bits = np.stack(
            [np.array(factor_labels(c), dtype=np.int64) for c in frame.values[:-1]], axis=1
        )
    except ValueError as exc:
        raise DataError(f"{path}: indicator columns must be factors of 0/1: {exc}") from exc
    sequences = []
    for row, triples in enumerate(bits.reshape(len(labels), SEQUENCE_LENGTH, 3).tolist()):
        try:
            sequences.append("".join(INDICATORS[tuple(t)] for t in triples))
        except KeyError as exc:
            raise DataError(f"{path}: row {row + 1} has an invalid base code {exc}") from exc
    return SpliceJunctions(sequences, labels)


def split_splice_junctions(
    data: SpliceJunctions, *, train: int = STATLOG_TRAIN, seed: int = 0
) -> tuple[SpliceJunctions, SpliceJunctions]:
    """A seeded, class-stratified split with about `train` sequences and no sequence in both.

    The set repeats sequences (3,186 rows, 3,001 distinct), so copies of a sequence go to the
    same side, or the test set would hold training rows. Each class gets its share of `train`
    (largest remainder); whole groups of copies are taken until the share is reached, so the
    training side may exceed it by the size of the last group taken.
    """
    if not 0 < train < len(data):
        raise DataError(f"train must be in (0, {len(data)}), got {train}")
    rng = np.random.default_rng(seed)
    groups: dict[str, list[int]] = {}
    for i, sequence in enumerate(data.sequences):
        groups.setdefault(sequence, []).append(i)
    by_class: dict[str, list[list[int]]] = {name: [] for name in CLASSES}
    for members in groups.values():
        by_class.setdefault(data.labels[members[0]], []).append(members)
    counts = {name: data.labels.count(name) for name in by_class}
    exact = {name: counts[name] * train / len(data) for name in by_class}
    quota = {name: int(exact[name]) for name in by_class}
    for name in sorted(by_class, key=lambda n: exact[n] - quota[n], reverse=True):
        if sum(quota.values()) < train:
            quota[name] += 1
    chosen: list[int] = []
    for name, class_groups in by_class.items():
        taken = 0
        for g in rng.permutation(len(class_groups)).tolist():
            if taken >= quota[name]:
                break
            chosen.extend(class_groups[g])
            taken += len(class_groups[g])
    picked = np.sort(np.array(chosen, dtype=np.int64))
    rest = np.setdiff1d(np.arange(len(data)), picked)
    return data.subset(picked), data.subset(rest)

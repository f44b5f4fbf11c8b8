"""Word2vec as a task: train into a run directory, load it back, evaluate it, write a report.

    RUN_DIR/config.json          {"task": "word2vec", "config": Word2VecConfig, "data": CORPUS}
    RUN_DIR/metrics.jsonl        the trainer's progress rows ("kind": "train": epoch,
                                 words_done, words_per_s, lr, loss) and the evaluation
                                 ("kind": "eval")
    RUN_DIR/vectors.safetensors  the word vectors (V, E), most frequent word first
    RUN_DIR/vocab.json           their words and corpus counts
    RUN_DIR/report.md            settings, speed, evaluation and a few nearest neighbours

The standard evaluation sets (Mikolov's analogies, WordSim-353, SimLex-999) are taken from
`shared/data/word_embeddings/` when that folder sits beside the project (shared/data/README.md
§7); otherwise pass the files explicitly.

References:
    T. Mikolov, I. Sutskever, K. Chen, G. Corrado and J. Dean, "Distributed Representations of
    Words and Phrases and their Compositionality", NIPS 2013.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rnnkit.config import config_from_dict, config_to_dict
from rnnkit.console import console
from rnnkit.datasets.shared import locate_shared
from rnnkit.errors import DataError
from rnnkit.represent.word2vec.config import Word2VecConfig
from rnnkit.represent.word2vec.evaluation import evaluate_analogies, evaluate_word_pairs
from rnnkit.represent.word2vec.formats import load_safetensors, save_safetensors
from rnnkit.represent.word2vec.vectors import AnalogyMethod, WordVectors
from rnnkit.training.runs import MetricsLog, read_run_config, write_run_config

VECTORS_FILE = "vectors.safetensors"
VOCAB_FILE = "vocab.json"
REPORT_FILE = "report.md"
ANALOGY_FILE = "questions-words.txt"
PAIR_FILES = ("wordsim353.tsv", "simlex999.txt")
PROBE_WORDS = ("king", "woman", "france", "good", "day", "house", "war", "love")


def eval_data_dir() -> Path | None:
    """shared/data/word_embeddings (`rnnkit.datasets.shared`), or None."""
    folder = locate_shared("word_embeddings")
    return folder if folder is not None and (folder / ANALOGY_FILE).is_file() else None


def default_eval_files() -> tuple[Path, list[Path]]:
    """(analogy file, pair files) of the standard sets; DataError when they are not found."""
    folder = eval_data_dir()
    if folder is None:
        raise DataError(
            "the standard evaluation sets were not found (shared/data/word_embeddings beside"
            " the project); pass --analogies FILE and/or --pairs FILE"
        )
    return folder / ANALOGY_FILE, [folder / name for name in PAIR_FILES]


def evaluate_vectors(
    vectors: WordVectors,
    *,
    analogies: Path | None,
    pairs: Sequence[Path] = (),
    restrict_vocab: int = 300_000,
    method: AnalogyMethod = "3cosadd",
) -> dict[str, Any]:
    """Analogy accuracy (per section, semantic, syntactic, total) and ρ, r per pair file."""
    result: dict[str, Any] = {"restrict_vocab": restrict_vocab}
    if analogies is not None:
        scores = evaluate_analogies(
            vectors, analogies, restrict_vocab=restrict_vocab, method=method
        )
        parts = [*scores.sections, scores.semantic, scores.syntactic, scores.total]
        result["analogies"] = {
            "file": str(analogies),
            "method": method,
            "scores": {
                part.name: {
                    "accuracy": part.accuracy,
                    "correct": part.correct,
                    "answered": part.answered,
                    "skipped": part.skipped,
                }
                for part in parts
            },
        }
    result["pairs"] = {}
    for path in pairs:
        score = evaluate_word_pairs(vectors, path, restrict_vocab=restrict_vocab)
        result["pairs"][Path(path).name] = {
            "spearman": score.spearman,
            "pearson": score.pearson,
            "pairs": score.pairs,
            "oov_ratio": score.oov_ratio,
        }
    return result


def _printer(metrics: MetricsLog, quiet: bool) -> Callable[[dict[str, Any]], None]:
    """The progress callback: append the row to metrics.jsonl and print it unless quiet."""

    def progress(row: dict[str, Any]) -> None:
        metrics.write({"kind": "train", **row})
        if not quiet:
            words = row.get("words_done", row.get("words", 0))
            console.print(
                f"epoch {row.get('epoch')}  words {words:,}  {row.get('words_per_s', 0):,.0f}"
                f" words/s  lr {row.get('lr', 0):.5f}  loss {row.get('loss', float('nan')):.4f}",
                markup=False,
            )

    return progress


def train_run(
    corpus: Path, config: Word2VecConfig, run_dir: Path, *, quiet: bool = False
) -> WordVectors:
    """Train on CORPUS into RUN_DIR (see the module docstring), evaluate and write the report."""
    from rnnkit.represent.word2vec.train import train_word2vec

    run_dir = Path(run_dir)
    write_run_config(
        run_dir,
        {"task": "word2vec", "config": config_to_dict(config), "data": str(Path(corpus))},
    )
    printer = _printer(MetricsLog(run_dir), quiet)
    last: dict[str, Any] = {}

    def progress(row: dict[str, Any]) -> None:
        last.update(row)
        printer(row)

    started = time.perf_counter()
    vectors = train_word2vec(corpus, config, progress=progress)
    seconds = time.perf_counter() - started
    save_safetensors(vectors, run_dir / VECTORS_FILE, vocab_path=run_dir / VOCAB_FILE)
    evaluation: dict[str, Any] = {}
    if eval_data_dir() is not None:
        analogy_file, pair_files = default_eval_files()
        evaluation = evaluate_vectors(vectors, analogies=analogy_file, pairs=pair_files)
        MetricsLog(run_dir).write({"kind": "eval", **evaluation})
    write_report(run_dir, vectors, config, {**last, "seconds": seconds}, evaluation)
    return vectors


def load_run(run_dir: str | Path) -> WordVectors:
    """The word vectors of a word2vec run directory."""
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if config.get("task") != "word2vec":
        raise DataError(f"{run_dir} is a {config.get('task')!r} run, not a word2vec run")
    return load_safetensors(run_dir / VECTORS_FILE, vocab_path=run_dir / VOCAB_FILE)


def run_config(run_dir: str | Path) -> Word2VecConfig:
    """The Word2VecConfig a run was trained with."""
    return config_from_dict(Word2VecConfig, read_run_config(run_dir)["config"])


def _evaluation_lines(evaluation: dict[str, Any]) -> list[str]:
    lines = []
    if "analogies" in evaluation:
        scores = evaluation["analogies"]["scores"]
        lines += ["| analogies | accuracy | answered | skipped |", "|---|---|---|---|"]
        for name in ("semantic", "syntactic", "total"):
            row = scores[name]
            lines.append(
                f"| {name} | {row['accuracy']:.4f} | {row['answered']} | {row['skipped']} |"
            )
        lines.append("")
    if evaluation.get("pairs"):
        lines += ["| word pairs | Spearman ρ | Pearson r | OOV |", "|---|---|---|---|"]
        for name, row in evaluation["pairs"].items():
            lines.append(
                f"| {name} | {row['spearman']:.4f} | {row['pearson']:.4f}"
                f" | {row['oov_ratio']:.1%} |"
            )
        lines.append("")
    return lines or ["No evaluation: the standard sets were not found beside the project.", ""]


def write_report(
    run_dir: Path,
    vectors: WordVectors,
    config: Word2VecConfig,
    last: dict[str, Any],
    evaluation: dict[str, Any],
) -> Path:
    """RUN_DIR/report.md: settings, speed, evaluation and nearest neighbours of probe words."""
    lines = [
        f"# word2vec {config.model}, {len(vectors):,} words × {vectors.embed_dim}",
        "",
        f"epochs {config.epochs}, window {config.window}, negative {config.negative},"
        f" min_count {config.min_count}, sample {config.sample}, seed {config.seed}",
        "",
        f"Trained in {last.get('seconds', 0.0):.1f} s; last progress: words"
        f" {last.get('words_done', last.get('words'))},"
        f" words/s {last.get('words_per_s', 0.0):,.0f}, loss {last.get('loss')}.",
        "",
        *_evaluation_lines(evaluation),
        "| word | nearest neighbours |",
        "|---|---|",
    ]
    probes = [w for w in PROBE_WORDS if w in vectors] or vectors.words[:5]
    for word in probes:
        neighbours = ", ".join(f"{n} ({s:.2f})" for n, s in vectors.nearest(word, topn=8))
        lines.append(f"| {word} | {neighbours} |")
    path = run_dir / REPORT_FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


__all__ = [
    "default_eval_files",
    "eval_data_dir",
    "evaluate_vectors",
    "load_run",
    "run_config",
    "train_run",
    "write_report",
]

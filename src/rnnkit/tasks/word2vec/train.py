"""Word2vec as a task: train into a run directory, checkpoint, resume, evaluate, report.

    RUN_DIR/config.json          {"task": "word2vec", "config": Word2VecConfig, "data": CORPUS
                                 (absolute path), "checkpoint_every": chunks}
    RUN_DIR/metrics.jsonl        a "kind": "train" row per round of training (step = words
                                 done, epoch, words_done, words_total, words_per_s, lr, loss:
                                 the mean over the round's pairs) and the evaluation ("eval")
    RUN_DIR/checkpoints/         step-NNNNNNNN/ (step = words done over all epochs) and the
                                 `latest` pointer, the newest 3 kept; each holds W_in and W_out
                                 (model.safetensors) and, in state.json, the training position,
                                 the config and the sha256 of the encoded corpus
    RUN_DIR/vectors.safetensors  the word vectors (V, E), most frequent word first
    RUN_DIR/vocab.json           their words and corpus counts
    RUN_DIR/report.md            settings, speed, evaluation and a few nearest neighbours

A round is `checkpoint_every` chunks of 65,536 words (0: an epoch); a checkpoint follows each
round. `resume_run` re-reads the corpus named in config.json, refuses it unless its digest is
the checkpoint's, drops what a killed run wrote after that checkpoint (metrics rows, newer
checkpoints), and continues; with threads=1 the result is the unbroken run's, bit for bit
(`rnnkit.represent.word2vec.train`). A run killed before its first checkpoint starts again.
`train_run` refuses a RUN_DIR that already holds a checkpoint, or a folder of other files, and
replaces a run killed before its first checkpoint; one process at a time writes a run
(`rnnkit.training.run_guard`).

The standard evaluation sets (Mikolov's analogies, WordSim-353, SimLex-999) are taken from
`shared/data/word_embeddings/` when that folder sits beside the project (shared/data/README.md
§7); otherwise pass the files explicitly.

References:
    T. Mikolov, I. Sutskever, K. Chen, G. Corrado and J. Dean, "Distributed Representations of
    Words and Phrases and their Compositionality", NIPS 2013.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnkit.config import config_from_dict, config_to_dict
from rnnkit.console import console
from rnnkit.datasets.shared import locate_shared
from rnnkit.errors import CheckpointError, ConfigError, DataError
from rnnkit.represent.word2vec.config import Word2VecConfig
from rnnkit.represent.word2vec.corpus import EncodedCorpus
from rnnkit.represent.word2vec.evaluation import evaluate_analogies, evaluate_word_pairs
from rnnkit.represent.word2vec.formats import load_safetensors, save_safetensors
from rnnkit.represent.word2vec.train import TrainingStart, encode_for, train_encoded
from rnnkit.represent.word2vec.vectors import AnalogyMethod, WordVectors
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.tasks.word2vec.checkpoints import (
    CHECKPOINTS_DIR,
    checkpoint_callback,
    corpus_digest,
    keep_until,
    load_start,
)
from rnnkit.tasks.word2vec.config import CHECKPOINT_EVERY
from rnnkit.training.checkpoint import step_of
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.run_guard import check_new_run_dir, run_lock, start_afresh
from rnnkit.training.runs import (
    MetricsLog,
    read_metrics,
    read_run_config,
    write_run_config,
)

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


def _print_row(row: dict[str, Any]) -> None:
    console.print(
        f"epoch {row['epoch']}  words {row['words_done']:,}  {row['words_per_s']:,.0f}"
        f" words/s  lr {row['lr']:.5f}  loss {row['loss']:.4f}",
        markup=False,
    )


def _train(
    run_dir: Path,
    corpus: EncodedCorpus,
    config: Word2VecConfig,
    every: int,
    start: TrainingStart | None,
    quiet: bool,
    superseded: Sequence[Path] = (),
) -> WordVectors:
    """Train (from `start` or afresh) with checkpoints, then write vectors, eval and report.

    `superseded`: later checkpoints of the run, replaced (with their rows) at the first save.
    """
    metrics = MetricsLog(run_dir)
    step = 0 if start is None else start[0].words_done
    rows = read_metrics(run_dir) if metrics.path is not None and metrics.path.is_file() else []
    train_rows = [r for r in rows if r.get("kind") == "train" and r.get("step", 0) <= step]
    last: dict[str, Any] = train_rows[-1] if train_rows else {}
    if superseded:
        metrics.hold_after(step, kinds=("train",))

    def progress(row: dict[str, Any]) -> None:
        if "live" not in row:  # a round's row: deterministic with threads=1, except words/s
            metrics.write({"kind": "train", "step": row["words_done"], **row})
            last.update(row)
        if not quiet:
            _print_row(row)

    started = time.perf_counter()
    vectors = train_encoded(
        corpus, config, progress=progress, start=start,
        checkpoint=checkpoint_callback(run_dir, corpus, config, every, superseded=superseded,
                                       saved=metrics.commit),
        checkpoint_every=every,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    save_safetensors(vectors, run_dir / VECTORS_FILE, vocab_path=run_dir / VOCAB_FILE)
    evaluation: dict[str, Any] = {}
    if eval_data_dir() is not None:
        analogy_file, pair_files = default_eval_files()
        evaluation = evaluate_vectors(vectors, analogies=analogy_file, pairs=pair_files)
        metrics.write({"kind": "eval", **evaluation})
    write_report(run_dir, vectors, config, {**last, "seconds": seconds}, evaluation)
    return vectors


def _check_every(checkpoint_every: int) -> int:
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or (
        checkpoint_every < 0
    ):  # fmt: skip
        raise ConfigError(
            f"checkpoint_every must be an integer >= 0 (chunks of 65,536 words; 0: at epoch "
            f"ends only), got {checkpoint_every!r}"
        )
    return checkpoint_every


def train_run(
    corpus: Path,
    config: Word2VecConfig,
    run_dir: Path,
    *,
    quiet: bool = False,
    checkpoint_every: int = CHECKPOINT_EVERY,
) -> WordVectors:
    """Train on CORPUS into a new RUN_DIR (see the module docstring), evaluate, report.

    Raises:
        ConfigError: RUN_DIR already holds a run (continue it with `resume_run`), or a
            negative checkpoint_every.
        DataError: the corpus cannot be read (see `encode_corpus`).
    """
    run_dir = Path(run_dir)
    every = _check_every(checkpoint_every)
    check_new_run_dir(run_dir)  # a folder of the user's own files is never written into
    with run_lock(run_dir):
        if CheckpointManager(run_dir / CHECKPOINTS_DIR).checkpoints():
            raise ConfigError(
                f"{run_dir} already holds a run; continue it with `rnnkit word2vec resume "
                f"{run_dir}`, or give another --run-dir"
            )
        start_afresh(run_dir)  # a run killed before its first checkpoint is replaced
        encoded = encode_for(Path(corpus), config)
        data = str(Path(corpus).resolve())  # absolute: `resume` may run from another directory
        write_run_config(run_dir, {"task": "word2vec", "config": config_to_dict(config),
                                   "data": data, "checkpoint_every": every})  # fmt: skip
        return _train(run_dir, encoded, config, every, None, quiet)


def resume_run(
    run_dir: Path, *, checkpoint: Path | None = None, quiet: bool = False
) -> WordVectors:
    """Continue RUN_DIR from its latest checkpoint (or `checkpoint`), then write its outputs.

    Metrics rows and checkpoints after that checkpoint (a killed run's) are dropped first;
    without any checkpoint the run starts again from the beginning.

    Raises:
        ConfigError: RUN_DIR is not a word2vec run.
        CheckpointError: see `load_start`.
    """
    with run_lock(run_dir):
        return _resume_run(Path(run_dir), checkpoint, quiet)


def _resume_run(run_dir: Path, checkpoint: Path | None, quiet: bool) -> WordVectors:
    settings = read_run_config(run_dir)
    if settings.get("task") != "word2vec":
        raise ConfigError(f"{run_dir} is a {settings.get('task')!r} run, not a word2vec run; "
                          f"resume it with `rnnkit resume {run_dir}`")  # fmt: skip
    config = config_from_dict(Word2VecConfig, settings["config"])
    every = _check_every(settings.get("checkpoint_every", CHECKPOINT_EVERY))
    encoded = encode_for(Path(settings["data"]), config)
    manager = CheckpointManager(run_dir / CHECKPOINTS_DIR)
    path = Path(checkpoint) if checkpoint is not None else manager.latest()
    try:
        start = None if path is None else load_start(path, config, encoded)
    except CheckpointError as err:
        others = [p.name for p in manager.checkpoints() if p.name != path.name]
        if checkpoint is not None or not others:
            raise
        raise CheckpointError(
            f"{err}. Other checkpoints: {', '.join(others)}; if this one is "
            "damaged, resume from one of them with --checkpoint PATH"
        ) from err
    step = 0 if start is None else start[0].words_done
    later = [p for p in manager.checkpoints() if (step_of(p) or 0) > step]
    if not later:  # else they and their rows go when this run writes its first checkpoint
        keep_until(run_dir, step)
    if not quiet:
        where = "the start: no checkpoint" if start is None else (
            f"{path}: epoch {start[0].epoch + 1}, chunk {start[0].chunk}, "
            f"{start[0].words_done:,} words done")  # fmt: skip
        console.print(f"resuming {run_dir} from {where}", markup=False, soft_wrap=True)
    return _train(run_dir, encoded, config, every, start, quiet, superseded=later)


def load_run(run_dir: str | Path) -> WordVectors:
    """The word vectors of a word2vec run directory."""
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if config.get("task") != "word2vec":
        raise DataError(f"{run_dir} is a {config.get('task')!r} run, not a word2vec run")
    return load_safetensors(run_dir / VECTORS_FILE, vocab_path=run_dir / VOCAB_FILE)


def load_vectors(run_dir: str | Path, *, checkpoint: str = DEFAULT_CHECKPOINT) -> WordVectors:
    """`rnnkit.load` of a word2vec run: its one set of vectors, written when it finished.

    Raises:
        ConfigError: `checkpoint` is not the default (the run keeps no other vectors).
    """
    if checkpoint != DEFAULT_CHECKPOINT:
        raise ConfigError(
            f"{run_dir} is a word2vec run: it holds one set of vectors, written when it "
            f"finished; load it without checkpoint= (got {checkpoint!r})"
        )
    return load_run(run_dir)


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
    "CHECKPOINT_EVERY",
    "corpus_digest",
    "default_eval_files",
    "eval_data_dir",
    "evaluate_vectors",
    "load_run",
    "load_start",
    "load_vectors",
    "resume_run",
    "run_config",
    "train_run",
    "write_report",
]

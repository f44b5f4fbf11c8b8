"""Checkpoints of a word2vec run: write them, check one against the corpus, trim metrics.

A checkpoint RUN_DIR/checkpoints/step-NNNNNNNN (step = words done over all epochs) is an rnnkit
checkpoint (`rnnkit.training.checkpoint`: safetensors + JSON, written atomically, verified on
load) whose model.safetensors holds W_in and W_out (V, E) and whose state.json holds "task":
"word2vec", the Word2VecConfig and, under "word2vec", the `TrainingPosition`, checkpoint_every
and the sha256 of the encoded corpus (`corpus_digest`), so that resuming on a changed corpus
or config, or from another task's checkpoint, is a CheckpointError.

References:
    https://huggingface.co/docs/safetensors (format)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from torch import Tensor

from rnnkit.config import config_to_dict
from rnnkit.errors import CheckpointError
from rnnkit.represent.word2vec.config import Word2VecConfig
from rnnkit.represent.word2vec.corpus import EncodedCorpus
from rnnkit.represent.word2vec.train import TrainingPosition, TrainingStart
from rnnkit.training.checkpoint import atomic_write_text, read_checkpoint
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.runs import MetricsLog, read_metrics, versions
from rnnkit.training.snapshot import drop_later_checkpoints

CHECKPOINTS_DIR = "checkpoints"
KEEP_LAST = 3  # newest checkpoints kept (word2vec marks none best)


def corpus_digest(corpus: EncodedCorpus) -> str:
    """sha256 of an encoded corpus: its words, counts, ids and document starts."""
    digest = hashlib.sha256(json.dumps(corpus.words, ensure_ascii=True).encode("ascii"))
    for array in (corpus.counts, corpus.ids, corpus.starts):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def checkpoint_callback(
    run_dir: Path,
    corpus: EncodedCorpus,
    config: Word2VecConfig,
    every: int,
    *,
    superseded: Sequence[Path] = (),
    saved: Callable[[], None] = lambda: None,
) -> Callable[[TrainingPosition, Tensor, Tensor], None]:
    """The checkpoint callback: RUN_DIR/checkpoints/step-<words done>, the newest 3 kept.

    `superseded` (a continuation that a resume from an older checkpoint replaces) goes at the
    first save (`CheckpointManager.supersede`); `saved` is called after each save.
    """
    manager = CheckpointManager(run_dir / CHECKPOINTS_DIR, keep_last=KEEP_LAST)
    manager.supersede(list(superseded), None)
    size = {"words": int(corpus.ids.size), "vocab_size": len(corpus.words)}
    about = {"sha256": corpus_digest(corpus), **size}

    def checkpoint(position: TrainingPosition, weight_in: Tensor, weight_out: Tensor) -> None:
        state = {
            "task": "word2vec",
            "rnnkit_version": versions()["rnnkit"],
            "torch_version": versions()["torch"],
            "step": position.words_done,
            "epoch": position.epoch,
            "config": config_to_dict(config),
            "word2vec": {
                "position": position.to_json(),
                "checkpoint_every": every,
                "corpus": about,
            },
        }
        tables = {"weight_in": weight_in, "weight_out": weight_out}  # W_in, W_out (V, E)
        manager.save(position.words_done, {"model.safetensors": tables}, state)
        saved()

    return checkpoint


def load_start(path: Path, config: Word2VecConfig, corpus: EncodedCorpus) -> TrainingStart:
    """(position, W_in, W_out) of a word2vec checkpoint, checked against the config and corpus.

    Raises:
        CheckpointError: a corrupt or foreign checkpoint, another config, or a changed corpus.
    """
    state, tensors = (checkpoint := read_checkpoint(path)).state, checkpoint.tensors
    saved = state.get("word2vec")
    if state.get("task") != "word2vec" or not isinstance(saved, dict):
        run_config = state.get("config")  # a Trainer's checkpoint holds the run's config.json
        task = run_config.get("task", "?") if isinstance(run_config, dict) else "?"
        raise CheckpointError(f"{path} is not a word2vec checkpoint (task {task!r}); "
                              "resume that run with `rnnkit resume RUN_DIR`")  # fmt: skip
    if state.get("config") != config_to_dict(config):
        raise CheckpointError(
            f"{path} was written with another config than config.json's: checkpoint "
            f"{state.get('config')} vs now {config_to_dict(config)}"
        )
    recorded, now = saved.get("corpus") or {}, corpus_digest(corpus)
    if recorded.get("sha256") != now:
        raise CheckpointError(
            f"the corpus changed since {path} was written: sha256 {now[:12]}… of its "
            f"{corpus.ids.size:,} words (V = {len(corpus.words):,}), expected "
            f"{str(recorded.get('sha256'))[:12]}… ({recorded.get('words')} words, V = "
            f"{recorded.get('vocab_size')}). Restore that corpus, or train a new run"
        )
    try:
        tables = tensors["model.safetensors"]
        position = TrainingPosition(**saved["position"])
        start = position, tables["weight_in"], tables["weight_out"]
    except (KeyError, TypeError) as err:
        raise CheckpointError(f"{path} lacks the word2vec entry {err}") from err
    if not all(type(value) is int for value in position.to_json().values()):
        raise CheckpointError(f"{path}: the position {position} must hold integers")
    return start


def keep_until(run_dir: Path, step: int) -> None:
    """Make RUN_DIR look like a run stopped at `step`: drop later rows and checkpoints.

    Metrics: the train rows past `step` and any eval row go (MetricsLog.truncate_after would
    keep the eval row of a run killed after its evaluation, which the resumed run writes
    again). Checkpoints past `step` (resuming from an older one, or a `latest` pointer left one
    behind by a kill) go too: the continued run writes its own, which with threads > 1 differ.
    """
    drop_later_checkpoints(CheckpointManager(run_dir / CHECKPOINTS_DIR), step, None)
    log = MetricsLog(run_dir)
    if log.path is None or not log.path.is_file():
        return
    kept = [
        row
        for row in read_metrics(run_dir)
        if row.get("kind") == "train" and isinstance(row.get("step"), int) and row["step"] <= step
    ]
    atomic_write_text(log.path, "".join(json.dumps(row) + "\n" for row in kept))


__all__ = [
    "CHECKPOINTS_DIR",
    "checkpoint_callback",
    "corpus_digest",
    "keep_until",
    "load_start",
]

"""`rnnkit.load(run_dir)`: a trained run back in Python, as its task's object, in one line.

    lm = rnnkit.load("runs/charlm-…")          # LoadedModel: lm.generate("ROMEO:", length=200)
    clf = rnnkit.load("runs/sentiment-…")      # LoadedClassifier: clf.predict(["great fun"])
    tagger = rnnkit.load("runs/ner-…")         # LoadedTagger: tagger.tag(["Harry met Ron."])
    mt = rnnkit.load("runs/translate-…")       # LoadedTranslator: mt.translate([...], beam=5)
    cap = rnnkit.load("runs/caption-…")        # LoadedCaptioner: cap.caption(["dog.jpg"])
    fc = rnnkit.load("runs/forecast-…")        # LoadedForecaster: fc.forecast(24)
    mm = rnnkit.load("runs/music-…")           # LoadedMusicModel: mm.generate(64)
    kv = rnnkit.load("runs/word2vec-…")        # WordVectors: kv.most_similar("king")

The task comes from the run's config.json; the loader its package registered does the work
(`tasks/<task>/config.py` names it; `rnnkit.tasks.loader_of`), and every loader takes the same
five steps, written once in `load_run`. The checkpoint follows
one rule for every task and command (`DEFAULT_CHECKPOINT`): the best on validation where the
run has one, else the latest.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, NamedTuple

from torch import nn

from rnnkit.errors import ConfigError
from rnnkit.tasks.export import export_info, read_exported_model
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT, loader_of, loaders
from rnnkit.training.checkpoint import read_checkpoint
from rnnkit.training.runs import read_run_config, run_checkpoint
from rnnkit.training.state_dicts import load_model_tensors


class LoadedRun(NamedTuple):
    """What `load_run` gives a task's loader: the run's config.json, the model, its checkpoint."""

    config: dict[str, Any]
    model: nn.Module  # in eval mode, with the checkpoint's weights
    checkpoint: Path


def load_run(
    run_dir: str | Path,
    build: Callable[[dict[str, Any]], nn.Module],
    *,
    tasks: Collection[str],
    needs: str,
    what: str,
    checkpoint: str = DEFAULT_CHECKPOINT,
) -> LoadedRun:
    """The steps every task's loader takes: read config.json, check the task, pick the
    checkpoint, build the model from the config, load its weights, switch to eval mode.

    Args:
        run_dir: the run directory, or a folder of `rnnkit export` (its one checkpoint).
        build: makes the untrained model from the run's config.json.
        tasks: the task names this loader reads.
        needs: a key of config.json the loader needs (the model's description).
        what: the kind of run, for the error ("a caption" -> "… is not a caption run").
        checkpoint: "best" (the best on validation, else the latest), "latest" or a path.

    Raises:
        ConfigError: the folder is not a run of `tasks`.
        CheckpointError: the run holds no checkpoint, or a damaged one.
    """
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if config.get("task") not in tasks or needs not in config:
        raise ConfigError(f"{run_dir} is not {what} run (task {config.get('task')!r})")
    if export_info(config) is not None:  # an `rnnkit export` folder: its one checkpoint
        path, tensors = read_exported_model(run_dir, config, checkpoint)
    else:
        path = run_checkpoint(run_dir, checkpoint)
        tensors = read_checkpoint(path).tensors["model.safetensors"]
    model = build(config)
    load_model_tensors(model, tensors, source=path)
    return LoadedRun(config, model.eval(), path)


def load(run_dir: str | Path, checkpoint: str = DEFAULT_CHECKPOINT) -> Any:
    """The trained run in `run_dir` as its task's object, at `checkpoint`.

    charlm -> `LoadedModel` (.generate), condlm -> `LoadedCondLM` (.generate), sentiment and
    spam -> `LoadedClassifier` (.predict), ner -> `LoadedTagger` (.tag), translate and chat ->
    `LoadedTranslator` (.translate), caption -> `LoadedCaptioner` (.caption), forecast ->
    `LoadedForecaster` (.forecast), music -> `LoadedMusicModel` (.generate), sequences ->
    `LoadedSequenceClassifier` (.predict), word2vec -> `WordVectors` (gensim's KeyedVectors
    queries).

    Args:
        run_dir: a run directory made by `rnnkit train` or `rnnkit word2vec train`, or a
            folder made by `rnnkit export` (`rnnkit.tasks.export`).
        checkpoint: "best" (default: the best on validation where the run evaluated, else the
            latest), "latest", or a checkpoint directory. A word2vec run has one set of
            vectors, written at its end: only the default applies.

    Raises:
        ConfigError: not a run directory, or a run of a task with nothing to load.
    """
    task = read_run_config(run_dir).get("task")
    if task not in loaders():
        raise ConfigError(
            f"{run_dir} is a run of task {task!r}; rnnkit.load reads runs of {sorted(loaders())}"
        )
    return loader_of(task)(run_dir, checkpoint=checkpoint)


__all__ = ["LoadedRun", "load", "load_run"]

"""The runs `rnnkit serve` serves: each loaded once at start-up, read-only, by the loader its
task registered (`rnnkit.tasks.loader_of`, declared in `tasks/<task>/config.py`), at the
checkpoint every command uses (`DEFAULT_CHECKPOINT`: the best on validation, else the latest).
This module adds only the adapter of each kind of object the loaders return, so a new task
whose loader returns one of these kinds is served with no change here (the tasks that use each
kind today in brackets):

    loaded object      capabilities                  adapter
    LoadedModel        generate, inspect, gradients  CharLMAdapter      (charlm)
    LoadedCondLM       generate (with a condition)   CondLMAdapter      (condlm)
    LoadedClassifier   classify, inspect, gradients  ClassifierAdapter  (sentiment, spam; bow:
                                                                         classify only)
    LoadedTagger       tag                           TaggerAdapter      (ner)
    LoadedTranslator   translate                     TranslatorAdapter  (translate, chat)
    LoadedCaptioner    caption                       CaptionerAdapter   (caption, image runs)
    LoadedForecaster   forecast                      ForecasterAdapter  (forecast)
    LoadedMusicModel   compose (a piano roll, MIDI)  MusicAdapter       (music)

A model's id is its run folder's name, made unique with a suffix -2, -3 … when two folders
share a name; no request names a file. Every run also has its training curves (/curves),
read from the run folder it was loaded from.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rnnkit.errors import CheckpointError, ConfigError
from rnnkit.tasks import loader_of
from rnnkit.tasks.caption.captioner import LoadedCaptioner
from rnnkit.tasks.charlm.train import LoadedModel
from rnnkit.tasks.classify.train import LoadedClassifier
from rnnkit.tasks.condlm.train import LoadedCondLM
from rnnkit.tasks.forecast.train import LoadedForecaster
from rnnkit.tasks.music.train import LoadedMusicModel
from rnnkit.tasks.ner.tagger import LoadedTagger
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.tasks.translate.translator import LoadedTranslator
from rnnkit.training.runs import read_run_config
from rnnkit.web import schemas
from rnnkit.web.adapters import (
    Adapter,
    CaptionerAdapter,
    CharLMAdapter,
    ClassifierAdapter,
    CondLMAdapter,
    ForecasterAdapter,
    MusicAdapter,
    TaggerAdapter,
    TranslatorAdapter,
)

# the kind of object a task's loader returns (what rnnkit.load gives) -> the adapter serving it
ADAPTERS: dict[type, type[Adapter]] = {
    LoadedModel: CharLMAdapter,
    LoadedCondLM: CondLMAdapter,
    LoadedClassifier: ClassifierAdapter,
    LoadedTagger: TaggerAdapter,
    LoadedTranslator: TranslatorAdapter,
    LoadedCaptioner: CaptionerAdapter,
    LoadedForecaster: ForecasterAdapter,
    LoadedMusicModel: MusicAdapter,
}


@dataclass(frozen=True)
class ServedModel:
    """One served run: its id, task, folder name, adapter and folder."""

    id: str
    task: str
    run: str
    adapter: Adapter
    run_dir: Path | None = None  # where its metrics.jsonl is

    def describe(self) -> schemas.ModelInfo:
        return schemas.ModelInfo(
            id=self.id,
            task=self.task,
            run=self.run,
            capabilities=list(self.adapter.offers()),
            info=self.adapter.info(),
        )


def unique_ids(names: list[str]) -> list[str]:
    """The names, a repeated one suffixed -2, -3 … in order.

    >>> unique_ids(["charlm-a", "ner-b", "charlm-a", "charlm-a"])
    ['charlm-a', 'ner-b', 'charlm-a-2', 'charlm-a-3']
    """
    taken: set[str] = set()
    ids = []
    for name in names:
        candidate, suffix = name, 2
        while candidate in taken:
            candidate, suffix = f"{name}-{suffix}", suffix + 1
        taken.add(candidate)
        ids.append(candidate)
    return ids


def _returned_kind(loader: Callable[..., Any]) -> type | None:
    """The class a loader's return annotation names (every registered loader has one)."""
    try:
        kind = typing.get_type_hints(loader).get("return")
    except (NameError, TypeError):  # an annotation that cannot be resolved: check after loading
        return None
    return kind if isinstance(kind, type) and kind not in (Any, object) else None  # Any: a class


def _check_servable(run_dir: Path, task: str | None, kind: type | None) -> type[Adapter]:
    """The adapter of `kind`; ConfigError naming the kinds served where there is none."""
    adapter = ADAPTERS.get(kind) if kind is not None else None
    if adapter is None and kind is not None:
        kinds = ", ".join(served.__name__ for served in ADAPTERS)
        raise ConfigError(
            f"{run_dir} is a {task!r} run; rnnkit serve serves runs whose loader returns one of "
            f"{kinds}, and this one returns {kind.__name__}"
        )
    return adapter  # type: ignore[return-value]  # None only before loading, kind unknown


def load_run(run_dir: Path, model_id: str) -> ServedModel:
    """Load one run with its task's loader; ConfigError for a run whose loaded object has no
    adapter (or one its adapter refuses), CheckpointError for weights that are not all finite."""
    task = read_run_config(run_dir).get("task")
    loader = loader_of(task)
    _check_servable(run_dir, task, _returned_kind(loader))  # before reading any weights
    loaded = loader(run_dir, checkpoint=DEFAULT_CHECKPOINT)  # the rule of every command
    adapter = _check_servable(run_dir, task, type(loaded))
    if isinstance(loaded, LoadedCaptioner) and loaded.model.config.encoder != "cnn":
        raise ConfigError(
            f"{run_dir} captions precomputed features, not images; the web page "
            "uploads images: serve a run trained on image files"
        )
    model = getattr(loaded, "model", None)
    if isinstance(model, torch.nn.Module):
        broken = [name for name, value in model.state_dict().items()
                  if value.is_floating_point() and not torch.isfinite(value).all()]  # fmt: skip
        if broken:
            raise CheckpointError(
                f"{run_dir} holds NaN or ±inf in {', '.join(broken[:3])}; its answers would be "
                "NaN: serve an earlier checkpoint of the run"
            )
    return ServedModel(model_id, task, run_dir.resolve().name, adapter(loaded), run_dir.resolve())


def load_runs(run_dirs: list[Path]) -> dict[str, ServedModel]:
    """Every run folder loaded once, by id (the folder name, made unique)."""
    run_dirs = [Path(run_dir) for run_dir in run_dirs]
    ids = unique_ids([run_dir.resolve().name for run_dir in run_dirs])
    return {
        model_id: load_run(run_dir, model_id)
        for model_id, run_dir in zip(ids, run_dirs, strict=True)
    }


__all__ = ["ADAPTERS", "Adapter", "ServedModel", "load_run", "load_runs", "unique_ids"]

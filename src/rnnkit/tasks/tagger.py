"""A trained ner run in use: load its tagger and tag tokenised sentences.

    loaded = load_tagger("runs/ner-…")
    tag_sentences(loaded, [["Harry", "Potter", "met", "Ron"]])  # [["B-PER", "I-PER", "O", "B-PER"]]
    read_text(loaded, "Harry met Ron.")  # tokens cut as the run's corpus, unknown ones marked

The command line (`rnnkit tag`) and the web page call these.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch

from rnnkit.config import config_from_dict
from rnnkit.errors import ConfigError
from rnnkit.models.tagger import SequenceTagger, SequenceTaggerConfig
from rnnkit.tasks.ner import LEGACY_TOKENS, NerConfig, collate, encode_sentence
from rnnkit.text.normalization import UnknownMarks, mark_unknown, stored_normalization
from rnnkit.text.tags import bioes_to_bio
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import Vocab
from rnnkit.training.checkpoint import read_checkpoint
from rnnkit.training.runs import read_run_config, run_checkpoint
from rnnkit.training.state_dicts import load_model_tensors


class LoadedTagger(NamedTuple):
    """A trained tagger in eval mode with its vocabularies and tag names."""

    model: SequenceTagger
    words: Vocab
    chars: Vocab
    tags: tuple[str, ...]
    config: NerConfig
    checkpoint: Path
    normalization: Tokenizer = LEGACY_TOKENS  # cuts typed text into the corpus's tokens


def load_tagger(run_dir: str | Path, *, checkpoint: str = "latest") -> LoadedTagger:
    """The tagger of an `ner` run at its "latest" or "best" checkpoint, or at a path."""
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if config.get("task") != "ner" or "tagger" not in config:
        raise ConfigError(f"{run_dir} is not an ner run (task {config.get('task')!r})")
    path = run_checkpoint(run_dir, checkpoint)
    model = SequenceTagger(config_from_dict(SequenceTaggerConfig, config["tagger"]))
    load_model_tensors(model, read_checkpoint(path).tensors["model.safetensors"], source=path)
    return LoadedTagger(
        model.eval(), Vocab.from_dict(config["vocab"]), Vocab.from_dict(config["chars"]),
        tuple(config["tags"]), config_from_dict(NerConfig, config["task_config"]), path,
        stored_normalization(config, LEGACY_TOKENS, where=str(run_dir)),
    )  # fmt: skip


def read_text(loaded: LoadedTagger, text: str) -> UnknownMarks:
    """The words of raw text, cut by the run's normalisation, and those it never saw (<unk>)."""
    return mark_unknown(loaded.normalization(text), loaded.words)


def tag_sentences(loaded: LoadedTagger, sentences: list[list[str]]) -> list[list[str]]:
    """BIO tags of tokenised sentences, in the order given (empty sentences get [])."""
    real = [s for s in sentences if s]
    encoded = []
    for tokens in real:
        ids, char_ids, char_lengths = encode_sentence(
            tokens, loaded.words, loaded.chars, loaded.config.max_word_length
        )
        encoded.append((ids, torch.zeros_like(ids), char_ids, char_lengths))  # no gold tags
    tagged: list[list[str]] = []
    if encoded:
        batch = collate(encoded)
        with torch.no_grad():
            paths = loaded.model.decode(batch.token_ids, batch.lengths, batch.char_ids,
                                        batch.char_lengths)  # fmt: skip
        tagged = [bioes_to_bio([loaded.tags[i] for i in path]) for path in paths]
    found = iter(tagged)
    return [next(found) if s else [] for s in sentences]

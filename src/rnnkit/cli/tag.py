"""`rnnkit tag RUN_DIR "text" ...`: the entity tag of every word, then the entities found.

    $ rnnkit tag runs/ner-… "Yesterday, Harry Potter met Hermione Granger."
    Yesterday/O ,/O Harry/B-PER Potter/I-PER met/O Hermione/B-PER Granger/I-PER ./O
      PER  Harry Potter
      PER  Hermione Granger

With no text arguments it reads one text per line from standard input. `load_tagger` and
`tag_sentences` are the same steps for use from Python.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

import torch

from rnnkit.config import config_from_dict
from rnnkit.console import console
from rnnkit.errors import CheckpointError, ConfigError, DataError
from rnnkit.models.tagger import SequenceTagger, SequenceTaggerConfig
from rnnkit.tasks.ner import NerConfig, collate, encode_sentence, tokenize
from rnnkit.text.tags import bioes_to_bio, entity_spans
from rnnkit.text.vocab import Vocab
from rnnkit.training.checkpoint import CheckpointManager, read_checkpoint
from rnnkit.training.runs import read_run_config
from rnnkit.training.state_dicts import load_model_tensors


class LoadedTagger(NamedTuple):
    """A trained tagger in eval mode with its vocabularies and tag names."""

    model: SequenceTagger
    words: Vocab
    chars: Vocab
    tags: tuple[str, ...]
    config: NerConfig
    checkpoint: Path


def load_tagger(run_dir: str | Path, *, checkpoint: str = "latest") -> LoadedTagger:
    """The tagger of an `ner` run at its "latest" or "best" checkpoint, or at a path."""
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if config.get("task") != "ner" or "tagger" not in config:
        raise ConfigError(f"{run_dir} is not an ner run (task {config.get('task')!r})")
    manager = CheckpointManager(run_dir / "checkpoints")
    named = {"best": manager.best() or manager.latest(), "latest": manager.latest()}
    path = named[checkpoint] if checkpoint in named else Path(checkpoint)
    if path is None:
        raise CheckpointError(f"{run_dir / 'checkpoints'} holds no checkpoint yet")
    model = SequenceTagger(config_from_dict(SequenceTaggerConfig, config["tagger"]))
    load_model_tensors(model, read_checkpoint(path).tensors["model.safetensors"], source=path)
    return LoadedTagger(
        model.eval(), Vocab.from_dict(config["vocab"]), Vocab.from_dict(config["chars"]),
        tuple(config["tags"]), config_from_dict(NerConfig, config["task_config"]), path,
    )  # fmt: skip


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


def format_tagged(tokens: list[str], tags: list[str]) -> str:
    """word/TAG for every word on one line, then one line per entity: type and text.

    >>> print(format_tagged(["Harry", "Potter", "met", "Ron"], ["B-PER", "I-PER", "O", "B-PER"]))
    Harry/B-PER Potter/I-PER met/O Ron/B-PER
      PER  Harry Potter
      PER  Ron
    """
    lines = [" ".join(f"{token}/{tag}" for token, tag in zip(tokens, tags, strict=True))]
    for kind, start, end in entity_spans(tags):
        lines.append(f"  {kind}  {' '.join(tokens[start:end])}")
    return "\n".join(lines)


def add_tag(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit tag RUN_DIR [TEXT ...]`: tag texts with a trained ner run."""
    parser = verbs.add_parser(
        "tag",
        help="named-entity tags of texts from a trained ner run",
        description="Print each word with its tag and the entities (type, text) of each TEXT; "
        "with no TEXT, read one text per line from standard input.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts to tag, quoted")
    parser.add_argument("--checkpoint", default="best", help="best (default), latest or a path")

    def handle(args: argparse.Namespace) -> int:
        loaded = load_tagger(args.run_dir, checkpoint=args.checkpoint)
        texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
        sentences = [tokenize(text) for text in texts]
        if not any(sentences):
            raise DataError("no text to tag: pass TEXT arguments or lines on stdin")
        for tokens, tags in zip(sentences, tag_sentences(loaded, sentences), strict=True):
            console.print(format_tagged(tokens, tags), markup=False, highlight=False)
        return 0

    parser.set_defaults(handler=handle)

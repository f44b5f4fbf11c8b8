"""A trained ner run in use: load its tagger and tag tokenised sentences.

    loaded = load_tagger("runs/ner-…")
    tag_sentences(loaded, [["Harry", "Potter", "met", "Ron"]])  # [["B-PER", "I-PER", "O", "B-PER"]]
    read_text(loaded, "Harry met Ron.")  # tokens cut as the run's corpus, unknown ones marked
    loaded.tag(["Harry met Ron."])[0].entities  # [Entity("PER", "Harry", 0, 1), …]

The command line (`rnnkit tag`) and the web page call these.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch

from rnnkit.config import config_from_dict
from rnnkit.models.tagger import SequenceTagger, SequenceTaggerConfig
from rnnkit.tasks.load import load_run
from rnnkit.tasks.ner.train import LEGACY_TOKENS, NerConfig, collate, encode_sentence
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.text.normalization import UnknownMarks, mark_unknown, stored_normalization
from rnnkit.text.tags import bioes_to_bio, entity_spans
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import Vocab


class LoadedTagger(NamedTuple):
    """A trained tagger in eval mode with its vocabularies and tag names."""

    model: SequenceTagger
    words: Vocab
    chars: Vocab
    tags: tuple[str, ...]
    config: NerConfig
    checkpoint: Path
    normalization: Tokenizer = LEGACY_TOKENS  # cuts typed text into the corpus's tokens

    def tag(self, texts: str | list[str]) -> list[TaggedText]:
        """The words, BIO tags and entities of each raw text, in order; as `rnnkit tag` prints
        them. One string is one text; a text with no word gives empty lists."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        sentences = [read_text(self, text).tokens for text in texts]
        results = []
        for tokens, tags in zip(sentences, tag_sentences(self, sentences), strict=True):
            entities = [Entity(span.type, " ".join(tokens[span.start : span.end]), span.start,
                               span.end) for span in entity_spans(tags)]  # fmt: skip
            results.append(TaggedText(tokens, tags, entities))
        return results


class Entity(NamedTuple):
    """An entity found in a text: its type, its words, and their positions [start, end)."""

    type: str  # PER, LOC, ORG, MISC …
    text: str  # the words joined by spaces
    start: int  # index of the first word in `TaggedText.tokens`
    end: int  # one past the last word


class TaggedText(NamedTuple):
    """One tagged text: its words (cut as the run's corpus), a BIO tag each, the entities."""

    tokens: list[str]
    tags: list[str]
    entities: list[Entity]


def load_tagger(run_dir: str | Path, *, checkpoint: str = DEFAULT_CHECKPOINT) -> LoadedTagger:
    """The tagger of an `ner` run at a checkpoint ("best": else the latest; "latest"; a path)."""
    run = load_run(
        run_dir, lambda config: SequenceTagger(
            config_from_dict(SequenceTaggerConfig, config["tagger"])),
        tasks=("ner",), needs="tagger", what="an ner", checkpoint=checkpoint,
    )  # fmt: skip
    config = run.config
    return LoadedTagger(
        run.model, Vocab.from_dict(config["vocab"]), Vocab.from_dict(config["chars"]),
        tuple(config["tags"]), config_from_dict(NerConfig, config["task_config"]),
        run.checkpoint, stored_normalization(config, LEGACY_TOKENS, where=str(run_dir)),
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

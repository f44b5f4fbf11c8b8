"""Translation and chat data: run configs, sentence pairs, vocabularies and padded batches.

A pair (source, target) becomes source ids x_1 … x_S and target ids y_1 … y_n <eos>; a batch
pads them with <pad> and feeds the decoder the target shifted right behind <bos> (teacher
forcing). Vocabularies come from the training split only, one joint vocabulary for chat.
`rnnkit.tasks.translate` trains on these batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import torch
from torch import Tensor

from rnnkit.datasets.dialogue import load_gutenberg_dialogues
from rnnkit.datasets.shared import find_shared
from rnnkit.datasets.translation import (
    SentencePairs,
    load_multi30k,
    read_tsv_pairs,
    tokenize_sentence,
)
from rnnkit.errors import ConfigError, DataError
from rnnkit.seeding import make_generator
from rnnkit.text.batching import BucketBatchSampler, pad_sequences, shift_right
from rnnkit.text.vocab import Vocab

Corpus = Literal["multi30k", "dialogue", "custom"]
Split = Literal["train", "valid", "test"]
MULTI30K_SPLIT_NAMES = {"train": "train", "valid": "val"}  # test: config.test_split


@dataclass(frozen=True, kw_only=True)
class TranslateConfig:
    """A translation run: corpus, languages, vocabulary and encoder–decoder (trainer apart)."""

    corpus: Corpus = "multi30k"  # custom: --data DIR with train.tsv, valid.tsv [, test.tsv]
    source_lang: str = "en"  # Multi30k: en, de, fr or cs
    target_lang: str = "de"
    test_split: str = "test_2016_flickr"  # Multi30k test set scored by the bench
    eval_split: Literal["valid", "test"] = "valid"  # scored while training
    lowercase: bool = False  # lower-case both sides (BLEU then scores lower-cased text)
    min_freq: int = 2  # rarer training words become <unk>
    max_tokens: int = 50  # training pairs with a longer side are dropped
    max_books: int | None = None  # dialogue: mine only the first N books of each split
    embed_dim: int = 256  # E
    cell: Literal["rnn", "lstm", "gru"] = "gru"
    hidden_size: int = 256  # H
    encoder_layers: int = 1
    decoder_layers: int = 1
    bidirectional: bool = True  # encoder
    attention: Literal["none", "additive", "dot", "general"] = "general"
    reverse_source: bool = False  # Sutskever et al. 2014
    dropout: float = 0.3
    teacher_forcing: float = 1.0  # r, probability of feeding the reference token
    scheduled_sampling: float = 0.0  # k of r_i = max(r, k / (k + exp(i / k))) (0: fixed r)
    label_smoothing: float = 0.0  # ε
    batch_size: int = 64  # B sentence pairs per update
    eval_beam: int = 1  # beam size of the BLEU evaluation while training (1: greedy)

    def __post_init__(self) -> None:
        for name in ("min_freq", "max_tokens", "embed_dim", "hidden_size", "batch_size",
                     "eval_beam"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 <= self.teacher_forcing <= 1.0:
            raise ConfigError(f"teacher_forcing must be in [0, 1], got {self.teacher_forcing}")
        if self.scheduled_sampling < 0:
            raise ConfigError(f"scheduled_sampling must be ≥ 0, got {self.scheduled_sampling}")
        if self.scheduled_sampling > 0 and self.teacher_forcing == 1.0:
            raise ConfigError("scheduled sampling decays r down to teacher_forcing, which is 1: "
                              "pass --teacher-forcing below 1 (e.g. 0.5) as the floor")  # fmt: skip
        if self.source_lang == self.target_lang and self.corpus == "multi30k":
            raise ConfigError("source_lang and target_lang must differ for Multi30k")


@dataclass(frozen=True, kw_only=True)
class ChatConfig(TranslateConfig):
    """A chatbot run: the same model on (utterance, reply) pairs, one vocabulary for both."""

    corpus: Corpus = "dialogue"
    lowercase: bool = True
    min_freq: int = 3
    max_tokens: int = 25


class TranslationBatch(NamedTuple):
    """Source ids (B, S), lengths (B,), decoder input (B, T), targets (B, T), references."""

    source_ids: Tensor
    source_lengths: Tensor
    target_in: Tensor
    target_out: Tensor
    references: tuple[str, ...]


class Vocabularies(NamedTuple):
    """The source and target vocabularies (the same object when shared)."""

    source: Vocab
    target: Vocab


# -- data -----------------------------------------------------------------------------------------
def load_pairs(config: TranslateConfig, data: Path | None, split: Split) -> SentencePairs:
    """The train / valid / test pairs of `config.corpus` (--data or shared/data)."""
    if config.corpus == "custom":
        if data is None:
            raise DataError("corpus custom needs --data DIR holding train.tsv and valid.tsv")
        return read_tsv_pairs(Path(data) / f"{split}.tsv")
    if config.corpus == "dialogue":
        root = Path(data) if data is not None else find_shared("english_corpus", flag="--data")
        return load_gutenberg_dialogues(root, split, max_words=config.max_tokens,
                                        max_books=config.max_books)  # fmt: skip
    root = Path(data) if data is not None else find_shared("translation_multi30k", flag="--data")
    name = MULTI30K_SPLIT_NAMES.get(split, config.test_split)
    return load_multi30k(root, name, source=config.source_lang, target=config.target_lang)


def tokenizer_of(config: TranslateConfig):
    """The tokeniser of both sides: words and punctuation, lower-cased if asked."""
    return lambda text: tokenize_sentence(text, lowercase=config.lowercase)


def build_vocabularies(config: TranslateConfig, pairs: SentencePairs) -> Vocabularies:
    """Source and target vocabularies of the training pairs (one joint vocabulary for chat)."""
    tokenize = tokenizer_of(config)
    if isinstance(config, ChatConfig):
        texts = [*pairs.sources, *pairs.targets]
        joint = Vocab.build_from_iterator((tokenize(t) for t in texts), None,
                                          min_freq=config.min_freq)  # fmt: skip
        return Vocabularies(joint, joint)
    return Vocabularies(*(Vocab.build_from_iterator((tokenize(t) for t in side), None,
                                                    min_freq=config.min_freq)
                          for side in (pairs.sources, pairs.targets)))  # fmt: skip


def encode_pair(
    source: str, target: str, vocabs: Vocabularies, tokenize
) -> tuple[Tensor, Tensor, str]:
    """Source ids (S,), target ids y_1 … y_n <eos> (n+1,) and the raw reference.

    A source with no token at all (only symbols the tokeniser drops) reads as one <unk>.
    """
    source_ids = vocabs.source.encode(tokenize(source))  # (S,)
    if source_ids.numel() == 0:
        source_ids = torch.tensor([vocabs.source.unk_id])
    target_ids = vocabs.target.encode(tokenize(target), add_eos=True)  # (n+1,)
    return source_ids, target_ids, target


class SpecialIds(NamedTuple):
    """The target's <pad>, <bos> and <eos> ids."""

    pad: int
    bos: int
    eos: int


def collate(pairs: list[tuple[Tensor, Tensor, str]], ids: SpecialIds) -> TranslationBatch:
    """Pad encoded pairs; the decoder input is the target shifted right behind <bos>.

    target_out = y_1 … y_n <eos> <pad>…,  target_in = <bos> y_1 … y_n <pad>…
    """
    source_ids, lengths = pad_sequences([p[0] for p in pairs], pad_id=ids.pad)  # (B, S), (B,)
    target_out, _ = pad_sequences([p[1] for p in pairs], pad_id=ids.pad)  # (B, T)
    target_in = shift_right(target_out, bos_id=ids.bos, eos_id=ids.eos, pad_id=ids.pad)
    references = tuple(p[2] for p in pairs)
    return TranslationBatch(source_ids, lengths, target_in, target_out, references)


def make_batches(
    encoded: list, batch_size: int, ids: SpecialIds, *, shuffle: bool, seed: int
) -> list[TranslationBatch]:
    """Pairs of similar source length batched together (BucketBatchSampler)."""
    sampler = BucketBatchSampler(
        [len(p[0]) for p in encoded], batch_size, shuffle=shuffle, generator=make_generator(seed)
    )
    return [collate([encoded[i] for i in rows], ids) for rows in sampler]

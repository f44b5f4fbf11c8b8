"""Translation and chat data: run configs, sentence pairs, vocabularies and padded batches.

A pair (source, target) becomes source ids x_1 … x_S and target ids y_1 … y_n <eos>; a batch
pads them with <pad> and feeds the decoder the target shifted right behind <bos> (teacher
forcing). Vocabularies come from the training split only, one joint vocabulary for chat.
`rnnkit.tasks.translate.train` trains on these batches.
"""

from __future__ import annotations

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
)
from rnnkit.errors import DataError
from rnnkit.seeding import make_generator
from rnnkit.tasks.datapath import choose_reader
from rnnkit.tasks.translate.config import ChatConfig, TranslateConfig
from rnnkit.text.batching import BucketBatchSampler, pad_sequences, shift_right
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import Vocab

Split = Literal["train", "valid", "test"]
MULTI30K_SPLIT_NAMES = {"train": "train", "valid": "val"}  # test: config.test_split


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
    """The train / valid / test pairs of `config.corpus` (--data or shared/data; auto detects)."""
    data, corpus = choose_reader(config.task_family, config.corpus, data,
                                 default=config.shared_corpus)  # fmt: skip
    if corpus == "custom":
        if data is None:
            raise DataError("corpus custom needs --data DIR holding train.tsv and valid.tsv")
        return read_tsv_pairs(Path(data) / f"{split}.tsv")
    if corpus == "dialogue":
        root = Path(data) if data is not None else find_shared("english_corpus", flag="--data")
        return load_gutenberg_dialogues(root, split, max_words=config.max_tokens,
                                        max_books=config.max_books)  # fmt: skip
    root = Path(data) if data is not None else find_shared("translation_multi30k", flag="--data")
    name = MULTI30K_SPLIT_NAMES.get(split, config.test_split)
    return load_multi30k(root, name, source=config.source_lang, target=config.target_lang)


def tokenizer_of(config: TranslateConfig) -> Tokenizer:
    """The normalisation of both sides, which a run stores and cuts typed text with.

    Words and punctuation as `tokenize_sentence` cuts them, lower-cased if asked, NFC first
    (Multi30k is NFC already).

    >>> tokenizer_of(ChatConfig())("Where ARE you going?")
    ['where', 'are', 'you', 'going', '?']
    """
    return Tokenizer(kind="word", lowercase=config.lowercase, normalize="NFC")


def legacy_tokenizer_of(config: TranslateConfig) -> Tokenizer:
    """How runs trained before translate stored its normalisation read text (no NFC)."""
    return Tokenizer(kind="word", lowercase=config.lowercase)


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

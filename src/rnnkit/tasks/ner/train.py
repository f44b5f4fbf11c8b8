"""Named-entity recognition: `rnnkit train ner`, a BiLSTM(-CRF) tagger scored by entity F1.

One tag per word, synchronous many-to-many (the lecture's "Yesterday, Harry Potter met Hermione
Granger." → O O B-PER I-PER O B-PER I-PER O). Training reads a CoNLL corpus, converts its BIO tags
to `scheme` (BIOES by default, Lample et al. 2016), builds the word vocabulary (and the character
set) from the training split only, and trains `rnnkit.models.SequenceTagger`. Evaluation decodes
each sentence, converts the tags back to BIO and scores entities as the CoNLL script does: an
entity counts only if its type and both boundaries are right.

    P = correct entities / predicted entities,  R = correct / gold,  F1 = 2PR / (P + R)

reported micro-averaged over all entities and per type (`val_f1_PER`, …).

References:
    Tjong Kim Sang. Introduction to the CoNLL-2002 Shared Task. CoNLL 2002 (the F1 above).
    Lample et al. Neural Architectures for Named Entity Recognition. NAACL 2016.
    Nakayama. seqeval: A Python framework for sequence labeling evaluation, 2018.
        https://github.com/chakki-works/seqeval
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.config import config_to_dict
from rnnkit.console import console
from rnnkit.datasets.conll import (
    CONLL_TOKENS,
    ConllCorpus,
    load_conll2002,
    load_wnut17,
    read_conll,
)
from rnnkit.datasets.shared import find_shared
from rnnkit.errors import DataError
from rnnkit.models.tagger import SequenceTagger
from rnnkit.represent.embedding import Embedding, load_word_vectors
from rnnkit.seeding import make_generator
from rnnkit.tasks.datapath import choose_reader
from rnnkit.tasks.ner.config import SHARED_CORPUS, NerConfig
from rnnkit.tasks.ner.config import TRAINER_DEFAULTS as TRAINER_DEFAULTS  # re-exported
from rnnkit.text.batching import BucketBatchSampler, pad_sequences
from rnnkit.text.normalization import NORMALIZATION_KEY
from rnnkit.text.tags import bio_to_bioes, bioes_to_bio
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import PAD, UNK, Vocab
from rnnkit.training import (
    BatchSource,
    FitResult,
    Objective,
    StepResult,
    TrainingSetup,
    read_metrics,
)

DATA_DIRS = {"conll2002_es": "ner_conll2002", "conll2002_nl": "ner_conll2002",
             "wnut17": "ner_wnut17"}  # fmt: skip
UNK_ID = 1  # id of <unk> in the word vocabulary (specials <pad>, <unk>)
TOKEN_PATTERN = re.compile(
    r"\w+(?:[-'\u2019.]\w+)*|[^\w\s]"
)  # words, then single punctuation marks
# How runs trained before ner stored its normalisation (CONLL_TOKENS) read typed text.
LEGACY_TOKENS = Tokenizer(kind="regex", pattern=TOKEN_PATTERN.pattern)


class TagBatch(NamedTuple):
    """B sentences: word ids (B, T), lengths (B,), tag ids (B, T), chars (B, T, W), (B, T)."""

    token_ids: Tensor
    lengths: Tensor
    tags: Tensor
    char_ids: Tensor
    char_lengths: Tensor


def find_data(config: NerConfig, data: Path | None) -> tuple[Path, str]:
    """The folder and its corpus: --data (detected with auto), or shared/data/ner_* near here."""
    root, corpus = choose_reader("ner", config.corpus, data, default=SHARED_CORPUS)
    if root is not None:
        return root, corpus
    if corpus not in DATA_DIRS:
        raise DataError(f"corpus {corpus!r} needs --data DIR (train.conll, dev.conll)")
    return find_shared(DATA_DIRS[corpus], flag="--data DIR"), corpus


def load_split(config: NerConfig, root: Path, split: str) -> ConllCorpus:
    """The train / dev / test corpus of `config.corpus` under `root` (auto: detected)."""
    if config.corpus == "auto":
        root, corpus = find_data(config, root)
        config = replace(config, corpus=corpus)
    if config.corpus == "wnut17":
        return load_wnut17(root, split)
    if config.corpus == "custom":
        return read_conll(Path(root) / f"{split}.conll")
    return load_conll2002(root, config.corpus.removeprefix("conll2002_"), split)


def tokenize(text: str) -> list[str]:
    """Words and punctuation marks of raw text, CoNLL style (`CONLL_TOKENS`, which runs store).

    >>> tokenize("Yesterday, Harry Potter met Hermione Granger...")
    ['Yesterday', ',', 'Harry', 'Potter', 'met', 'Hermione', 'Granger', '...']
    """
    return CONLL_TOKENS(text)


def encode_sentence(
    tokens: list[str], words: Vocab, chars: Vocab, max_word_length: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Word ids (T,), char ids (T, W) padded with 0 and char counts (T,) of one sentence."""
    word_ids = torch.tensor([words.token_to_id(token) for token in tokens])  # (T,)
    spelled = [[chars.token_to_id(c) for c in token[:max_word_length]] for token in tokens]
    W = max(len(ids) for ids in spelled)
    char_ids = torch.tensor([ids + [0] * (W - len(ids)) for ids in spelled])  # (T, W)
    return word_ids, char_ids, torch.tensor([len(ids) for ids in spelled])  # ..., (T,)


def collate(sentences: list[tuple[Tensor, Tensor, Tensor, Tensor]]) -> TagBatch:
    """Pad encoded sentences (word ids, tag ids, char ids, char lengths) into a TagBatch."""
    token_ids, lengths = pad_sequences([s[0] for s in sentences], pad_id=0)  # (B, T), (B,)
    tags, _ = pad_sequences([s[1] for s in sentences], pad_id=0)  # (B, T)
    B, T = token_ids.shape
    W = max(int(s[2].shape[1]) for s in sentences)
    char_ids = torch.zeros(B, T, W, dtype=torch.int64)  # (B, T, W)
    char_lengths = torch.zeros(B, T, dtype=torch.int64)  # (B, T), 0 on padded words
    for b, (_, _, ids, counts) in enumerate(sentences):
        char_ids[b, : ids.shape[0], : ids.shape[1]] = ids
        char_lengths[b, : counts.shape[0]] = counts
    return TagBatch(token_ids, lengths, tags, char_ids, char_lengths)


def make_batches(encoded: list, batch_size: int, *, shuffle: bool, seed: int) -> list[TagBatch]:
    """Sentences of similar length batched together (BucketBatchSampler)."""
    sampler = BucketBatchSampler(
        [len(s[0]) for s in encoded], batch_size, shuffle=shuffle, generator=make_generator(seed)
    )
    return [collate([encoded[i] for i in indices]) for indices in sampler]


class TaggingObjective(Objective):
    """Softmax or CRF loss per word; evaluation adds seqeval entity P / R / F1.

    While training, each occurrence of a word seen once in training (`singletons`, (V,) bool)
    is fed as <unk> with probability `unk_rate`, so the <unk> vector learns to stand for the
    unseen words of new text (Lample et al. 2016).
    """

    def __init__(
        self, tags: tuple[str, ...], singletons: Tensor | None = None, unk_rate: float = 0.0
    ) -> None:
        self.tags, self.singletons, self.unk_rate = tags, singletons, unk_rate

    def loss(
        self, model: nn.Module, batch: TagBatch, state: Any, *, loss_from: int = 0
    ) -> StepResult:
        token_ids = batch.token_ids  # (B, T)
        if model.training and self.singletons is not None and self.unk_rate > 0:
            singletons = self.singletons.to(token_ids.device)[token_ids]  # (B, T) bool
            drop = singletons & (
                torch.rand(token_ids.shape, device=token_ids.device) < self.unk_rate
            )
            token_ids = token_ids.masked_fill(drop, UNK_ID)
        scores = model(token_ids, batch.lengths, batch.char_ids, batch.char_lengths)
        tagger = getattr(model, "module", model)  # the DDP wrapper holds the tagger
        loss = tagger.loss(scores, batch.tags, batch.lengths)
        return StepResult(loss, int(batch.lengths.sum()))

    def evaluate(self, model: nn.Module, batches: Any) -> dict[str, float]:
        """Mean loss and entity-level micro P / R / F1 plus F1 per type over `batches`."""
        tagger = getattr(model, "module", model)
        gold, predicted, total, count = [], [], 0.0, 0
        for batch in batches:
            scores = model(batch.token_ids, batch.lengths, batch.char_ids, batch.char_lengths)
            n = int(batch.lengths.sum())
            total += float(tagger.loss(scores, batch.tags, batch.lengths)) * n
            count += n
            paths = tagger.decode_scores(scores, batch.lengths)
            rows = zip(batch.tags.tolist(), paths, batch.lengths.tolist(), strict=True)
            for row, path, length in rows:
                gold.append(bioes_to_bio([self.tags[i] for i in row[:length]]))
                predicted.append(bioes_to_bio([self.tags[i] for i in path]))
        return {"loss": total / max(count, 1), **entity_scores(gold, predicted)}


def entity_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, float]:
    """seqeval's entity-level micro precision, recall, F1 and F1 / support per type (BIO tags)."""
    from seqeval.metrics import classification_report  # scikit-learn, 0.7 s (-X importtime)

    report = classification_report(gold, predicted, output_dict=True, zero_division=0)
    micro = report["micro avg"]
    scores = {key: float(micro[name]) for key, name in
              (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score"))}  # fmt: skip
    for kind, row in report.items():
        if not kind.endswith(" avg"):
            scores[f"f1_{kind}"] = float(row["f1-score"])
            scores[f"support_{kind}"] = float(row["support"])
    return scores


def build_tagger(
    config: NerConfig, words: Vocab, chars: Vocab, tags: tuple[str, ...]
) -> SequenceTagger:
    """The tagger of a run, its embedding initialised from --word2vec when given."""
    vectors = None
    if config.word2vec is not None:
        table = Embedding.from_pretrained(
            load_word_vectors(config.word2vec, words=words), vocab=words, padding_idx=0
        )
        vectors = table.weight.detach()  # (V, E) in vocabulary order
    model_config = replace(
        config.model, vocab_size=len(words), tags=tags,
        embed_dim=config.model.embed_dim if vectors is None else vectors.shape[1],
        char_vocab_size=len(chars) if config.char_features else 0,
    )  # fmt: skip
    model = SequenceTagger(model_config)
    if model_config.casing:  # the casing classes read each character id's character
        model.set_char_vocabulary(chars.tokens)
    if vectors is not None:
        model.load_pretrained(vectors, freeze=config.freeze_embedding)
    return model


def build(config: NerConfig, *, data: Path | None, seed: int) -> TrainingSetup:
    """Tagger, objective, bucketed training batches and the evaluation split of a run."""
    root, corpus = find_data(config, data)
    config = replace(config, corpus=corpus)  # auto resolved, so load_split reads it by name
    train_set, eval_set = (
        load_split(config, root, "train"),
        load_split(config, root, config.eval_split),
    )
    convert = bio_to_bioes if config.scheme == "bioes" else bioes_to_bio
    train_tags = [convert(s.tags) for s in train_set.sentences]
    tags = ("O", *sorted({t for row in train_tags for t in row} - {"O"}))
    words = Vocab.build_from_iterator((s.tokens for s in train_set.sentences), None,
                                      min_freq=config.min_freq, specials=(PAD, UNK))  # fmt: skip
    chars = Vocab.build_from_iterator((list(t) for s in train_set.sentences for t in s.tokens),
                                      None, specials=(PAD, UNK))  # fmt: skip
    assert words.unk_id == UNK_ID  # specials (<pad>, <unk>)
    tag_ids = {tag: i for i, tag in enumerate(tags)}
    counts = Counter(token for s in train_set.sentences for token in s.tokens)
    singletons = torch.tensor([counts[w] == 1 for w in words.tokens])  # (V,)

    def encode(tokens: list[str], sentence_tags: list[str]) -> tuple[Tensor, ...]:
        ids, char_ids, char_lengths = encode_sentence(tokens, words, chars, config.max_word_length)
        unknown = [t for t in sentence_tags if t not in tag_ids]
        if unknown:
            raise DataError(f"tag {unknown[0]!r} of the evaluation split is not in training")
        return ids, torch.tensor([tag_ids[t] for t in sentence_tags]), char_ids, char_lengths

    train = [encode(s.tokens, t) for s, t in zip(train_set.sentences, train_tags, strict=True)]
    held_out = [encode(s.tokens, convert(s.tags)) for s in eval_set.sentences]
    batches = make_batches(train, config.batch_size, shuffle=True, seed=seed)
    model = build_tagger(config, words, chars, tags)
    return TrainingSetup(
        model,
        TaggingObjective(tags, singletons, config.unk_rate),
        BatchSource(batches, batch_size=1, collate=lambda items: items[0], seed=seed),
        make_batches(held_out, 64, shuffle=False, seed=seed),
        artifacts={"vocab": words.to_dict(), "chars": chars.to_dict(), "tags": list(tags),
                   "tagger": config_to_dict(model.config),
                   "split": {"train": len(train), config.eval_split: len(held_out)},
                   NORMALIZATION_KEY: CONLL_TOKENS.to_dict()},  # cuts typed text like the corpus
    )  # fmt: skip


def report(run_dir: Path, result: FitResult) -> None:
    """After training: entity P / R / F1 (micro) and F1 per type of the last evaluation."""
    evaluations = [row for row in read_metrics(run_dir) if row.get("kind") == "eval"]
    if not evaluations:
        return
    last = evaluations[-1]
    console.print(f"[bold]entity scores (seqeval), step {last['step']}:[/]")
    console.print(f"  precision {last['val_precision']:.4f}   recall {last['val_recall']:.4f}"
                  f"   F1 {last['val_f1']:.4f}", markup=False)  # fmt: skip
    console.print(f"  {'type':<16}     F1  support", markup=False)
    for key in sorted(k for k in last if k.startswith("val_f1_")):
        kind = key.removeprefix("val_f1_")
        support = int(last.get(f"val_support_{kind}", 0))
        console.print(f"  {kind:<16} {last[key]:.4f} {support:8d}", markup=False)
    console.print(f'tag new text with:\n  rnnkit tag {run_dir} "Yesterday, Harry Potter met '
                  'Hermione Granger."', markup=False)  # fmt: skip


__all__ = ["NerConfig", "TagBatch", "build", "collate", "encode_sentence", "tokenize"]

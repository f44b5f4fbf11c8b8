"""Translation and chat: `rnnkit train translate|chat`, an encoder–decoder scored by BLEU and chrF.

Asynchronous many-to-many: the encoder reads the whole source sentence, then the decoder writes
the target one token at a time, starting from <bos> and stopping at <eos>. Training adds <eos>
to every target and <bos> to the decoder input (teacher forcing); evaluation decodes greedily
(or by beam search) and scores the detokenised output against the raw reference text with
sacrebleu (`rnnkit.training.text_metrics`).

Data: Multi30k (`translation_multi30k`, any of en, de, fr, cs as source and target), the
(utterance, reply) pairs mined from the Gutenberg books for `chat` (`rnnkit.datasets.dialogue`),
or the user's TSV files (`--corpus custom --data DIR` with train.tsv, valid.tsv and optionally
test.tsv). Vocabularies come from the training split only; training pairs longer than
`max_tokens` on either side are dropped, evaluation keeps every pair.

References:
    Sutskever, Vinyals, Le. Sequence to Sequence Learning with Neural Networks. NIPS 2014.
    Elliott, Frank, Sima'an, Specia. Multi30K: Multilingual English-German Image Descriptions.
        VL@ACL 2016.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rnnkit.config import config_to_dict
from rnnkit.console import console
from rnnkit.datasets.translation import detokenize, filter_pairs
from rnnkit.errors import ConfigError
from rnnkit.losses.sequence import perplexity, sequence_cross_entropy
from rnnkit.models.seq2seq import Seq2Seq, Seq2SeqConfig
from rnnkit.tasks.translate.config import TRAINER_DEFAULTS as TRAINER_DEFAULTS  # re-exported
from rnnkit.tasks.translate.data import (
    ChatConfig,
    SpecialIds,
    TranslateConfig,
    TranslationBatch,
    Vocabularies,
    build_vocabularies,
    encode_pair,
    load_pairs,
    make_batches,
    tokenizer_of,
)
from rnnkit.text.normalization import NORMALIZATION_KEY
from rnnkit.text.vocab import DEFAULT_SPECIALS, Vocab
from rnnkit.training import (
    BatchSource,
    FitResult,
    Objective,
    StepResult,
    TrainingSetup,
    read_metrics,
    read_run_config,
)
from rnnkit.training.text_metrics import corpus_scores


# -- objective ------------------------------------------------------------------------------------
def teacher_forcing_ratio(config: TranslateConfig, updates: int) -> float:
    """r_i: fixed, or Bengio et al.'s inverse-sigmoid decay k / (k + exp(i / k)), floored at r.

    >>> decay = TranslateConfig(teacher_forcing=0.0, scheduled_sampling=100.0)  # floor r = 0
    >>> round(teacher_forcing_ratio(decay, 500), 3)  # 100 / (100 + e⁵)
    0.403
    """
    k = config.scheduled_sampling
    if k == 0:
        return config.teacher_forcing
    exponent = min(updates / k, 700.0)  # exp overflows past ~709
    return max(config.teacher_forcing, k / (k + float(torch.tensor(exponent).exp())))


class TranslationObjective(Objective):
    """Cross-entropy of every target token; evaluation adds corpus BLEU and chrF of the output.

    With scheduled sampling the ratio follows the number of batches the training source has
    handed out, which a checkpoint restores, so a resumed run feeds the same tokens.
    """

    def __init__(
        self, config: TranslateConfig, target: Vocab, train_data: BatchSource | None = None
    ) -> None:
        self.config, self.target, self.train_data = config, target, train_data

    def updates_done(self) -> int:
        """Batches handed out by the training source so far."""
        source = self.train_data
        return 0 if source is None else source.epoch * source.batches_per_epoch + source.index

    def loss(
        self, model: nn.Module, batch: TranslationBatch, state: Any, *, loss_from: int = 0
    ) -> StepResult:
        ratio = teacher_forcing_ratio(self.config, self.updates_done()) if model.training else 1.0
        out = model(batch.source_ids, batch.source_lengths, batch.target_in,
                    teacher_forcing=ratio)  # fmt: skip
        pad = self.target.pad_id
        loss = sequence_cross_entropy(out.logits, batch.target_out, ignore_index=pad,
                                      label_smoothing=self.config.label_smoothing)  # fmt: skip
        return StepResult(loss, int((batch.target_out != pad).sum()))

    def evaluate(self, model: nn.Module, batches: Any) -> dict[str, float]:
        """Mean token loss, perplexity, and BLEU / chrF of the decoded outputs."""
        seq2seq = getattr(model, "module", model)
        total, count, outputs, references = 0.0, 0, [], []
        for batch in batches:
            result = self.loss(model, batch, None)
            total, count = total + float(result.loss) * result.num_tokens, count + result.num_tokens
            found = seq2seq.search(batch.source_ids, batch.source_lengths,
                                   beam_size=self.config.eval_beam)  # fmt: skip
            outputs.extend(decode_text(best[0].tokens, self.target) for best in found)
            references.extend(batch.references)
        mean = total / max(count, 1)
        scores = corpus_scores(outputs, [[self.reference(r)] for r in references])
        return {"loss": mean, "perplexity": perplexity(mean), **scores}

    def reference(self, text: str) -> str:
        """A reference as it is scored: lower-cased when the run lower-cases."""
        return text.lower() if self.config.lowercase else text


def decode_text(tokens: list[int], vocab: Vocab) -> str:
    """Detokenised text of output ids, stopping at <eos>."""
    if vocab.eos_id in tokens:
        tokens = tokens[: tokens.index(vocab.eos_id)]
    return detokenize(vocab.decode(tokens))


# -- the run --------------------------------------------------------------------------------------
def model_config(config: TranslateConfig, vocabs: Vocabularies) -> Seq2SeqConfig:
    """The encoder–decoder of a run, sized by its vocabularies."""
    target = vocabs.target
    return dataclasses.replace(
        config.model, source_vocab_size=len(vocabs.source), target_vocab_size=len(target),
        share_embeddings=vocabs.source is vocabs.target,
        pad_id=target.pad_id, bos_id=target.bos_id, eos_id=target.eos_id,
    )  # fmt: skip


def build(config: TranslateConfig, *, data: Path | None, seed: int) -> TrainingSetup:
    """Encoder–decoder, objective, bucketed training batches and the evaluation split."""
    tokenize = tokenizer_of(config)
    read = load_pairs(config, data, "train")
    train_pairs = filter_pairs(read, tokenize, max_tokens=config.max_tokens)
    eval_pairs = load_pairs(config, data, config.eval_split)
    vocabs = build_vocabularies(config, train_pairs)
    if vocabs.source.specials[: len(DEFAULT_SPECIALS)] != DEFAULT_SPECIALS:
        raise ConfigError("the vocabularies must start with <pad>, <unk>, <bos>, <eos>")
    ids = SpecialIds(vocabs.target.pad_id, vocabs.target.bos_id, vocabs.target.eos_id)
    train = [encode_pair(s, t, vocabs, tokenize)
             for s, t in zip(train_pairs.sources, train_pairs.targets, strict=True)]  # fmt: skip
    held_out = [encode_pair(s, t, vocabs, tokenize)
                for s, t in zip(eval_pairs.sources, eval_pairs.targets, strict=True)]  # fmt: skip
    batches = make_batches(train, config.batch_size, ids, shuffle=True, seed=seed)
    train_data = BatchSource(batches, batch_size=1, collate=lambda items: items[0], seed=seed)
    model = Seq2Seq(model_config(config, vocabs))
    return TrainingSetup(
        model,
        TranslationObjective(config, vocabs.target, train_data),
        train_data,
        make_batches(held_out, 100, ids, shuffle=False, seed=seed),
        artifacts={"source_vocab": vocabs.source.to_dict(),
                   "target_vocab": vocabs.target.to_dict(),
                   "seq2seq": config_to_dict(model.config),
                   "split": {"train": len(train), config.eval_split: len(held_out),
                             "train_read": len(read)},
                   NORMALIZATION_KEY: tokenize.to_dict()},  # typed text is cut the same way
    )  # fmt: skip


def report(run_dir: Path, result: FitResult) -> None:
    """After training: BLEU, chrF and perplexity of the last evaluation, and how to use the run."""
    evaluations = [row for row in read_metrics(run_dir) if row.get("kind") == "eval"]
    if evaluations:
        last = evaluations[-1]
        console.print(f"step {last['step']}: BLEU {last['val_bleu']:.2f}   chrF "
                      f"{last['val_chrf']:.2f}   perplexity {last['val_perplexity']:.2f}",
                      markup=False)  # fmt: skip
    verb = "chat" if read_run_config(run_dir).get("task") == "chat" else "translate"
    example = "" if verb == "chat" else ' "A man is riding a bicycle."'
    console.print(f"use it with:\n  rnnkit {verb} {run_dir}{example}", markup=False)


__all__ = [
    "ChatConfig",
    "TranslateConfig",
    "TranslationBatch",
    "TranslationObjective",
    "build",
    "decode_text",
    "teacher_forcing_ratio",
]

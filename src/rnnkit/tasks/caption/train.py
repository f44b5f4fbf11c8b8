"""Image captioning: `rnnkit train caption`, a CNN (or precomputed features) and an LSTM decoder.

One-to-many: the image gives one vector v, the decoder writes the caption token by token from
<bos> until <eos> (`rnnkit.models.one_to_many`). Training averages the cross-entropy over all
caption tokens; evaluation decodes one caption per image and scores it against all of that
image's reference captions with corpus BLEU-1 … BLEU-4 (`rnnkit.training.text_metrics`).
Captions are lower-cased and tokenised on both sides before scoring.

Data: the Flickr8k subset (`captioning_flickr8k`, train / dev / test), the COCO mini subset
(`captioning_coco_mini`, train / val), or `--corpus coco --data DIR` with a COCO captions file
`annotations/captions_{train,val}2017.json` and images in `{train,val}2017/`. With
`--features FILE` (.safetensors or .npy, one vector per image file name) the CNN is replaced by
a projection of those vectors, so a pretrained backbone's features plug in. With
`--pretrain-steps N` the CNN is first pretrained on the training images to predict their
caption words (`rnnkit.tasks.caption.pretrain`; never on the held-out split).

References:
    Vinyals, Toshev, Bengio, Erhan. Show and Tell: A Neural Image Caption Generator. CVPR 2015.
    Hodosh, Young, Hockenmaier. Framing Image Description as a Ranking Task. JAIR 47, 2013.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.config import config_to_dict
from rnnkit.console import console
from rnnkit.datasets.captions import (
    CaptionSet,
    caption_tokenize,
    load_coco_mini,
    load_flickr8k,
    read_coco_captions,
)
from rnnkit.datasets.images import ImageConfig, load_features, load_images
from rnnkit.datasets.shared import find_shared
from rnnkit.errors import DataError
from rnnkit.losses.sequence import perplexity, sequence_cross_entropy
from rnnkit.models.captioner import Captioner, CaptionerConfig
from rnnkit.models.image_encoder import FeatureInputConfig, ImageEncoder, ImageEncoderConfig
from rnnkit.tasks.caption.config import TRAINER_DEFAULTS as TRAINER_DEFAULTS  # re-exported
from rnnkit.tasks.caption.config import CaptionConfig
from rnnkit.tasks.caption.pretrain import PretrainConfig, PretrainResult, pretrain_encoder
from rnnkit.tasks.datapath import choose_reader
from rnnkit.tasks.registry import restoring
from rnnkit.text.batching import pad_sequences, shift_right
from rnnkit.text.vocab import Vocab
from rnnkit.training import (
    BatchSource,
    FitResult,
    Objective,
    StepResult,
    TrainingSetup,
    read_metrics,
)
from rnnkit.training.text_metrics import bleu_up_to

SHARED_CORPUS = "flickr8k"  # what auto reads without --data
DATA_DIRS = {"flickr8k": "captioning_flickr8k", "coco_mini": "captioning_coco_mini"}


class CaptionBatch(NamedTuple):
    """Inputs (N, 3, S, S) or (N, F_in) per image, the image of each caption row (B,), decoder
    input (B, T), targets (B, T), and each image's reference captions."""

    inputs: Tensor
    image_index: Tensor
    target_in: Tensor
    target_out: Tensor
    references: tuple[tuple[str, ...], ...]


# -- data -----------------------------------------------------------------------------------------
def resolve_corpus(config: CaptionConfig, data: Path | None) -> tuple[CaptionConfig, Path | None]:
    """The config with its corpus named (auto: detected from --data) and the data path."""
    path, corpus = choose_reader("caption", config.corpus, data, default=SHARED_CORPUS)
    return replace(config, corpus=corpus), path


def load_split(config: CaptionConfig, data: Path | None, split: str) -> CaptionSet:
    """The images (present on disk, or with features) and captions of one split."""
    config, data = resolve_corpus(config, data)  # auto: the corpus that --data holds
    if config.corpus == "coco":
        if data is None:
            raise DataError(
                "corpus coco needs --data DIR with annotations/ and train2017/, val2017/"
            )
        name = "train" if split == "train" else "val"
        found = read_coco_captions(Path(data) / "annotations" / f"captions_{name}2017.json",
                                   Path(data) / f"{name}2017")  # fmt: skip
    else:
        root = (
            Path(data) if data is not None else find_shared(DATA_DIRS[config.corpus], flag="--data")
        )
        if config.corpus == "coco_mini":
            found = load_coco_mini(root, "train" if split == "train" else "val")
        else:
            found = load_flickr8k(root, split)
    return found if config.features is not None else found.with_images()


def load_inputs(config: CaptionConfig, images: CaptionSet) -> Tensor:
    """Pixels (N, 3, S, S) of every image, or its precomputed features (N, F_in)."""
    if config.features is None:
        return load_images(
            [item.path for item in images.items], ImageConfig(size=config.image_size)
        )
    vectors = load_features(config.features)
    missing = [item.image for item in images.items if item.image not in vectors]
    if missing:
        raise DataError(f"{config.features} has no vector for {len(missing)} images, e.g. "
                        f"{missing[0]!r}")  # fmt: skip
    return torch.stack([vectors[item.image].float() for item in images.items])


def encode_caption(text: str, vocab: Vocab, max_tokens: int) -> Tensor:
    """Ids y_1 … y_n <eos> (n ≤ max_tokens) of one caption."""
    return vocab.encode(caption_tokenize(text)[:max_tokens], add_eos=True)


def collate_rows(
    inputs: Tensor, rows: list[tuple[int, Tensor]], references: tuple, vocab: Vocab
) -> CaptionBatch:
    """A batch of (image row, caption ids); target_in = <bos> y_1 … y_n, target_out = y … <eos>."""
    target_out, _ = pad_sequences([ids for _, ids in rows], pad_id=vocab.pad_id)  # (B, T)
    target_in = shift_right(
        target_out, bos_id=vocab.bos_id, eos_id=vocab.eos_id, pad_id=vocab.pad_id
    )  # (B, T)
    image_index = torch.tensor([row for row, _ in rows])
    return CaptionBatch(inputs, image_index, target_in, target_out, references)


def eval_batches(inputs: Tensor, images: CaptionSet, vocab: Vocab, config: CaptionConfig,
                 size: int = 25) -> list[CaptionBatch]:  # fmt: skip
    """Batches of `size` images with all their captions (one row per caption)."""
    batches = []
    for start in range(0, len(images), size):
        items = images.items[start : start + size]
        rows = [(k, encode_caption(c, vocab, config.max_tokens))
                for k, item in enumerate(items) for c in item.captions]  # fmt: skip
        references = tuple(item.captions for item in items)
        batches.append(collate_rows(inputs[start : start + len(items)], rows, references, vocab))
    return batches


# -- objective ------------------------------------------------------------------------------------
def caption_text(tokens: list[int], vocab: Vocab) -> str:
    """The words of a generated caption, stopping at <eos>."""
    if vocab.eos_id in tokens:
        tokens = tokens[: tokens.index(vocab.eos_id)]
    return " ".join(vocab.decode(tokens))


def caption_bleu(outputs: list[str], references: list[tuple[str, ...]]) -> dict[str, float]:
    """Corpus BLEU-1 … BLEU-4 of captions against all references of each image (tokenised)."""
    tokenized = [[" ".join(caption_tokenize(r)) for r in refs] for refs in references]
    return {f"bleu_{n}": bleu_up_to(outputs, tokenized, n) for n in (1, 2, 3, 4)}


class CaptionObjective(Objective):
    """Cross-entropy over every caption token; evaluation adds BLEU-1 … 4 of decoded captions."""

    def __init__(self, config: CaptionConfig, vocab: Vocab) -> None:
        self.config, self.vocab = config, vocab

    def loss(
        self, model: nn.Module, batch: CaptionBatch, state: Any, *, loss_from: int = 0
    ) -> StepResult:
        inputs = batch.inputs
        if model.training and self.config.flip and inputs.ndim == 4:
            mirrored = torch.rand(inputs.shape[0], device=inputs.device) < 0.5  # (N,)
            inputs = torch.where(mirrored[:, None, None, None], inputs.flip(-1), inputs)
        logits = model(inputs[batch.image_index.to(inputs.device)], batch.target_in)
        pad = self.vocab.pad_id
        loss = sequence_cross_entropy(logits, batch.target_out, ignore_index=pad)
        return StepResult(loss, int((batch.target_out != pad).sum()))

    def evaluate(self, model: nn.Module, batches: Any) -> dict[str, float]:
        """Mean token loss, perplexity and BLEU-1 … 4 of one decoded caption per image."""
        captioner = getattr(model, "module", model)
        total, count, outputs, references = 0.0, 0, [], []
        for batch in batches:
            result = self.loss(model, batch, None)
            total, count = total + float(result.loss) * result.num_tokens, count + result.num_tokens
            found = captioner.caption(batch.inputs, beam_size=self.config.eval_beam,
                                      max_length=self.config.max_length)  # fmt: skip
            outputs.extend(caption_text(best[0].tokens, self.vocab) for best in found)
            references.extend(batch.references)
        mean = total / max(count, 1)
        return {"loss": mean, "perplexity": perplexity(mean),
                **caption_bleu(outputs, references)}  # fmt: skip


# -- pretraining ----------------------------------------------------------------------------------
EXTRA_CORPUS = {"flickr8k": ("coco_mini", ("train", "val")), "coco_mini": ("flickr8k", ("train",))}


def pretrain_sets(config: CaptionConfig, data: Path | None) -> list[CaptionSet]:
    """The image sets besides the run's training split that pretraining may read.

    With `pretrain_extra`: a Flickr8k run adds all of COCO-mini (train and val, 159 images), a
    COCO-mini run adds Flickr8k's training images only; a `--corpus coco` run adds nothing.
    The run's own held-out split is never among them. A missing shared folder is skipped.
    """
    config, data = resolve_corpus(config, data)
    if not config.pretrain_extra or config.corpus not in EXTRA_CORPUS:
        return []
    corpus, splits = EXTRA_CORPUS[config.corpus]
    try:
        root = find_shared(DATA_DIRS[corpus])
    except DataError:
        console.print(f"pretraining without {corpus}: {DATA_DIRS[corpus]} not found",
                      markup=False)  # fmt: skip
        return []
    extra = replace(config, corpus=corpus)
    return [load_split(extra, root, split) for split in splits]


def pretrain_cnn(model: Captioner, config: CaptionConfig, train_set: CaptionSet,
                 train_inputs: Tensor, data: Path | None, seed: int) -> PretrainResult:  # fmt: skip
    """Pretrain the captioner's CNN in place on the training images (and `pretrain_sets`)."""
    extra = pretrain_sets(config, data)
    items = [*train_set.items, *(item for found in extra for item in found.items)]
    pixels = torch.cat([train_inputs, *(load_inputs(config, found) for found in extra)])
    settings = PretrainConfig(steps=config.pretrain_steps, words=config.pretrain_words, seed=seed)
    with torch.random.fork_rng():  # the caption run's own random numbers stay as without it
        result = pretrain_encoder(model.encoder, pixels, [item.captions for item in items],
                                  settings)  # fmt: skip
    console.print(f"pretrained the CNN on {result.images} images, {len(result.words)} words, "
                  f"{settings.steps} updates: BCE {result.first_loss:.4f} → "
                  f"{result.last_loss:.4f} ({result.seconds:.0f} s)", markup=False)  # fmt: skip
    return result


# -- the run --------------------------------------------------------------------------------------
def model_config(config: CaptionConfig, vocab: Vocab, feature_input: int) -> CaptionerConfig:
    """The captioner of a run: CNN or feature projection, and the conditioned decoder."""
    width = config.cnn_width
    return CaptionerConfig(
        encoder="cnn" if config.features is None else "features",
        image=ImageEncoderConfig(channels=(width, 2 * width, 4 * width, 8 * width),
                                 image_size=config.image_size,
                                 feature_size=config.feature_size,
                                 feature_norm=config.feature_norm),
        features=FeatureInputConfig(input_size=feature_input, feature_size=config.feature_size),
        decoder=replace(
            config.decoder, vocab_size=len(vocab), condition_size=config.feature_size,
            pad_id=vocab.pad_id, bos_id=vocab.bos_id, eos_id=vocab.eos_id),
    )  # fmt: skip


def captioner_to_dict(config: CaptionerConfig) -> dict[str, Any]:
    """The nested captioner config as JSON-ready dicts (one per part)."""
    return {"encoder": config.encoder, "image": config_to_dict(config.image),
            "features": config_to_dict(config.features),
            "decoder": config_to_dict(config.decoder)}  # fmt: skip


def build(config: CaptionConfig, *, data: Path | None, seed: int) -> TrainingSetup:
    """Captioner, objective, shuffled caption batches and the held-out images."""
    config, data = resolve_corpus(config, data)
    held_out_split = config.eval_split if config.corpus == "flickr8k" else "val"
    train_set, eval_set = (
        load_split(config, data, "train"),
        load_split(config, data, held_out_split),
    )
    if len(train_set) == 0 or len(eval_set) == 0:
        raise DataError(f"no images found for {config.corpus}: train {len(train_set)}, "
                        f"{held_out_split} {len(eval_set)}")  # fmt: skip
    vocab = Vocab.build_from_iterator(
        (caption_tokenize(c) for item in train_set.items for c in item.captions), None,
        min_freq=config.min_freq)  # fmt: skip
    train_inputs, eval_inputs = load_inputs(config, train_set), load_inputs(config, eval_set)
    examples = [(k, encode_caption(c, vocab, config.max_tokens))
                for k, item in enumerate(train_set.items) for c in item.captions]  # fmt: skip

    def collate(chosen: list[tuple[int, Tensor]]) -> CaptionBatch:
        rows = torch.tensor([row for row, _ in chosen])
        local = [(k, ids) for k, (_, ids) in enumerate(chosen)]
        return collate_rows(train_inputs[rows], local, (), vocab)

    model = Captioner(model_config(config, vocab, int(train_inputs.shape[-1])))
    pretrained: dict[str, Any] = {}
    if config.pretrain_steps and not restoring():  # resume, evaluate: the checkpoint's weights
        result = pretrain_cnn(model, config, train_set, train_inputs, data, seed)
        pretrained = {"pretrain": {"images": result.images, "words": len(result.words),
                                   "first_loss": result.first_loss,
                                   "last_loss": result.last_loss,
                                   "seconds": round(result.seconds, 1)}}  # fmt: skip
    if config.freeze_cnn and isinstance(model.encoder, ImageEncoder):
        model.encoder.freeze_features()
    return TrainingSetup(
        model,
        CaptionObjective(config, vocab),
        BatchSource(examples, config.batch_size, collate=collate, seed=seed),
        eval_batches(eval_inputs, eval_set, vocab, config),
        artifacts={"vocab": vocab.to_dict(), "captioner": captioner_to_dict(model.config),
                   "split": {"train_images": len(train_set), "train_captions": len(examples),
                             held_out_split: len(eval_set)}, **pretrained},
    )  # fmt: skip


def report(run_dir: Path, result: FitResult) -> None:
    """After training: BLEU-1 … 4 of the last evaluation, and how to caption an image."""
    evaluations = [row for row in read_metrics(run_dir) if row.get("kind") == "eval"]
    if evaluations:
        last = evaluations[-1]
        scores = "   ".join(f"BLEU-{n} {last[f'val_bleu_{n}']:.2f}" for n in (1, 2, 3, 4))
        console.print(f"step {last['step']}: {scores}", markup=False)
    console.print(f"caption an image with:\n  rnnkit caption {run_dir} IMAGE.jpg", markup=False)


__all__ = ["CaptionBatch", "CaptionConfig", "CaptionObjective", "build", "caption_bleu",
           "caption_text"]  # fmt: skip

"""Multi-label pretraining of the caption CNN: predict which words an image's captions use.

With a few hundred photos the captioner's CNN, trained only through the caption loss, learns
little of the picture, and the decoder writes the same likely caption for every image. Before
captioning, this stage teaches the CNN what its pictures show from the captions themselves
("weak" labels, Joulin et al. 2016; the word detectors of Fang et al. 2015). Each image gets a
target y ∈ [0, 1]^K, the fraction of its captions that use each of the K most common content
words, and the encoder with a linear head W_h is trained by binary cross-entropy:

    v = CNN(augment(x))                       (B, F)   random crop and flip of each image
    ŷ = σ(W_h v + b_h)                        (B, K)
    L = −(1 / BK) Σ_b Σ_k [y_bk log ŷ_bk + (1 − y_bk) log(1 − ŷ_bk)]

Augmentation (Krizhevsky et al. 2012; the random-sized crops of Szegedy et al. 2015): a square
crop of side s·S, s ~ U(min_scale, 1), at a random place, resized back to S × S, mirrored with
probability ½, so the CNN sees many views of each of the few images. The head is thrown away
afterwards; the caption run starts from the pretrained encoder (fine-tuned or frozen).

References:
    Joulin, van der Maaten, Jabri, Vasilache. Learning Visual Features from Large Weakly
        Supervised Data. ECCV 2016. https://arxiv.org/abs/1511.02251
    Fang et al. From Captions to Visual Concepts and Back. CVPR 2015.
        https://arxiv.org/abs/1411.4952
    Krizhevsky, Sutskever, Hinton. ImageNet Classification with Deep Convolutional Neural
        Networks. NeurIPS 2012.
    Szegedy et al. Going Deeper with Convolutions. CVPR 2015. https://arxiv.org/abs/1409.4842
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.datasets.captions import caption_tokenize
from rnnkit.errors import ConfigError, DataError
from rnnkit.models.image_encoder import ImageEncoder

# Words that say little about what a picture shows; they are never labels.
STOPWORDS = frozenset((
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "am", "of", "in", "on",
    "at", "to", "for", "from", "with", "without", "by", "and", "or", "but", "as", "into", "onto",
    "over", "under", "near", "while", "its", "it", "his", "her", "their", "them", "they", "he",
    "she", "this", "that", "these", "those", "there", "some", "one", "another", "other", "each",
    "very", "up", "down", "out", "off", "which", "who", "whose"
))  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class PretrainConfig:
    """The settings of one multi-label pretraining stage."""

    steps: int = 600  # updates of the CNN and the head W_h
    words: int = 300  # K, the most common content words of the captions that become labels
    batch_size: int = 64  # images per update
    lr: float = 2e-3  # Adam step size
    weight_decay: float = 1e-4  # L2 penalty (AdamW, decoupled), against overfitting few images
    min_scale: float = 0.6  # the smallest crop side, as a fraction of the image side
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "words", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 < self.min_scale <= 1.0:
            raise ConfigError(f"min_scale must be in (0, 1], got {self.min_scale}")
        if self.lr <= 0 or self.weight_decay < 0:
            raise ConfigError(f"lr must be positive and weight_decay ≥ 0, got {self.lr}, "
                              f"{self.weight_decay}")  # fmt: skip


@dataclass(frozen=True)
class PretrainResult:
    """What a pretraining stage did: its label words and their head W_h (ŷ = σ(W_h v + b_h)),
    the number of images, the mean loss of its first and last tenth of updates, and seconds."""

    words: tuple[str, ...]
    head: nn.Linear
    images: int
    first_loss: float
    last_loss: float
    seconds: float


def content_words(token_lists: Sequence[Sequence[str]]) -> set[str]:
    """The tokens of one image's captions that can be labels (a letter in them, no stopword)."""
    return {
        token
        for tokens in token_lists
        for token in tokens
        if token not in STOPWORDS and any(c.isalpha() for c in token)
    }


def label_words(captions: Sequence[Sequence[str]], count: int) -> tuple[str, ...]:
    """The `count` content words used by the most images (ties: alphabetical).

    >>> label_words([["A dog runs ."], ["The dog sleeps .", "A black dog ."]], 2)
    ('dog', 'black')
    """
    frequency = Counter(
        word for image in captions for word in content_words([caption_tokenize(c) for c in image])
    )
    ranked = sorted(frequency.items(), key=lambda item: (-item[1], item[0]))
    return tuple(word for word, _ in ranked[:count])


def word_targets(captions: Sequence[Sequence[str]], words: Sequence[str]) -> Tensor:
    """y (N, K): the fraction of each image's captions that use each label word.

    >>> word_targets([["a red square .", "it is red and small ."]], ["red", "small", "dog"])
    tensor([[1.0000, 0.5000, 0.0000]])
    """
    column = {word: k for k, word in enumerate(words)}
    targets = torch.zeros(len(captions), len(words))
    for n, image in enumerate(captions):
        for caption in image:
            for word in content_words([caption_tokenize(caption)]):
                if word in column:
                    targets[n, column[word]] += 1.0 / len(image)
    return targets


def random_crops(images: Tensor, generator: torch.Generator, min_scale: float = 0.6) -> Tensor:
    """One random square crop of each image (side s·S, s ~ U(min_scale, 1)), resized back to
    S × S by bilinear sampling, mirrored left–right with probability ½.

    The crop is the affine map θ = [[±s, 0, t_x], [0, s, t_y]] of `F.affine_grid` (coordinates
    in [−1, 1]), with t ~ U(−(1 − s), 1 − s) so that the crop stays inside the image.

    Shapes: images (N, C, S, S); returns (N, C, S, S).
    """
    n = images.shape[0]
    scale = min_scale + (1 - min_scale) * torch.rand(n, generator=generator)  # s (N,)
    shift = (2 * torch.rand(n, 2, generator=generator) - 1) * (1 - scale)[:, None]  # t (N, 2)
    mirror = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)  # (N,)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1] = scale * mirror, scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta.to(images), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border",
                         align_corners=False)  # fmt: skip


def pretrain_encoder(
    encoder: ImageEncoder,
    pixels: Tensor,
    captions: Sequence[Sequence[str]],
    config: PretrainConfig,
) -> PretrainResult:
    """Train `encoder` in place to predict the label words of each image's captions (BCE).

    Args:
        encoder: the caption CNN; its v (B, F) feeds a new linear head W_h (F → K).
        pixels: (N, 3, S, S) every pretraining image, normalised as the captioner sees them.
        captions: the captions of each image, in the order of `pixels`.

    Returns:
        PretrainResult; the mean loss of the first and of the last tenth of the updates.

    Raises:
        DataError: no image, or `pixels` and `captions` differ in length, or no caption has a
            content word.
    """
    if len(pixels) == 0 or len(pixels) != len(captions):
        raise DataError(f"pretraining needs one caption list per image, got {len(pixels)} "
                        f"images and {len(captions)} caption lists")  # fmt: skip
    words = label_words(captions, config.words)
    if not words:
        raise DataError("the captions of the pretraining images hold no content word")
    targets = word_targets(captions, words)  # y (N, K)
    generator = torch.Generator().manual_seed(config.seed)
    head = nn.Linear(encoder.config.feature_size, len(words))  # W_h, b_h
    parameters = [*encoder.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.steps)
    was_training, started, losses = encoder.training, time.perf_counter(), []
    encoder.train()
    order = torch.randperm(len(pixels), generator=generator)
    position = 0
    for _ in range(config.steps):
        if position + config.batch_size > len(order):  # a new pass over the images
            order, position = torch.randperm(len(pixels), generator=generator), 0
        rows = order[position : position + config.batch_size]
        position += config.batch_size
        views = random_crops(pixels[rows], generator, config.min_scale)  # (B, 3, S, S)
        logits = head(encoder(views))  # (B, K)
        loss = F.binary_cross_entropy_with_logits(logits, targets[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
    encoder.train(was_training)
    tenth = max(1, len(losses) // 10)
    return PretrainResult(words, head, len(pixels), sum(losses[:tenth]) / tenth,
                          sum(losses[-tenth:]) / tenth, time.perf_counter() - started)  # fmt: skip


__all__ = [
    "STOPWORDS",
    "PretrainConfig",
    "PretrainResult",
    "label_words",
    "pretrain_encoder",
    "random_crops",
    "word_targets",
]

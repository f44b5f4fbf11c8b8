"""Word2VecConfig: the hyper-parameters of a word2vec run, named and defaulted as in gensim.

Every field keeps gensim 4's name and default (`Word2Vec(vector_size=100, window=5, …)`) except
where rnnkit's vectorised trainer needs its own knobs (`batch_size`, `cbow_negative_group`,
`device` for the batched trainer on a GPU) or the text reader does
(`lowercase`, `keep_punctuation`). `model` replaces gensim's `sg` flag.

References:
    T. Mikolov, K. Chen, G. Corrado and J. Dean, "Efficient Estimation of Word Representations
    in Vector Space", ICLR workshop 2013 (2013a).
    T. Mikolov, I. Sutskever, K. Chen, G. Corrado and J. Dean, "Distributed Representations of
    Words and Phrases and their Compositionality", NIPS 2013 (2013b).
    gensim 4.4 `gensim.models.Word2Vec`, https://radimrehurek.com/gensim/models/word2vec.html
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from rnnkit.errors import ConfigError

Word2VecModel = Literal["skipgram", "cbow"]

# Context slots per vectorised SGD step when batch_size is None. All updates of a step start
# from the same vectors, so a larger step trains worse (bench/README.md, 1M-3M words of the
# Gutenberg corpus): skip-gram with 8192 slots fell to 0.7 % analogy accuracy where 2048 matched
# gensim; CBOW, whose input is a mean over the window, still matched it with 8192.
BATCH_SIZE = {"skipgram": 2048, "cbow": 8192}
DEVICE_PATTERN = re.compile(r"cpu|cuda(:\d+)?")  # the devices the batched trainer takes


@dataclass(frozen=True, kw_only=True)
class Word2VecConfig:
    """A word2vec run: architecture, sampling, schedule and text reading.

    >>> Word2VecConfig(model="cbow", vector_size=50).window
    5
    """

    model: Word2VecModel = "skipgram"  # skip-gram (gensim sg=1) or CBOW (sg=0, cbow_mean=1)
    vector_size: int = 100  # E, size of each word vector
    window: int = 5  # W, largest distance between centre and context word (2013a)
    negative: int = 5  # K, negative samples per (context, centre) pair (2013b)
    ns_exponent: float = 0.75  # exponent of P_n(w) ∝ c(w)^0.75, the noise distribution (2013b)
    sample: float = 1e-3  # t, subsampling threshold of frequent words; 0 turns it off (2013b)
    min_count: int = 5  # words seen fewer times are dropped from the corpus
    max_vocab_size: int | None = None  # keep only the N most frequent words (None: all)
    epochs: int = 5  # passes over the corpus
    alpha: float = 0.025  # η₀, initial learning rate (gensim's default for both models)
    min_alpha: float = 1e-4  # η at the end; η decays linearly over all epochs
    cbow_negative_group: int = 2  # CBOW: consecutive centre words sharing K negatives (1: gensim)
    batch_size: int | None = None  # context slots (≈ pairs) per update; None: BATCH_SIZE[model]
    threads: int = 2  # worker threads; torch.set_num_threads(1) inside each (gensim: workers)
    seed: int = 1  # seeds the initial vectors, subsampling, windows and negatives
    device: str | None = None  # None: Hogwild threads on the CPU; cpu, cuda[:N]: batched, 1 stream
    lowercase: bool = True  # fold words to lower case before counting
    keep_punctuation: bool = False  # keep tokens without a letter or digit (",", ".")

    @property
    def step_slots(self) -> int:
        """Context slots per SGD step: batch_size, or the model's default BATCH_SIZE."""
        return self.batch_size if self.batch_size is not None else BATCH_SIZE[self.model]

    def __post_init__(self) -> None:
        if self.model not in ("skipgram", "cbow"):
            raise ConfigError(f"model must be 'skipgram' or 'cbow', got {self.model!r}")
        positive = {
            "vector_size": self.vector_size,
            "window": self.window,
            "negative": self.negative,
            "min_count": self.min_count,
            "epochs": self.epochs,
            "threads": self.threads,
            "cbow_negative_group": self.cbow_negative_group,
        }
        for name, value in positive.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name, value in (
            ("max_vocab_size", self.max_vocab_size),
            ("batch_size", self.batch_size),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ConfigError(f"{name} must be a positive integer or None, got {value!r}")
        for name in ("ns_exponent", "sample", "alpha", "min_alpha"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"{name} must be a finite number, got {getattr(self, name)}")
        if self.device is not None and (
            not isinstance(self.device, str) or not DEVICE_PATTERN.fullmatch(self.device)
        ):
            raise ConfigError(
                f"device must be None (the CPU trainer), 'cpu', 'cuda' or 'cuda:N' (the batched "
                f"trainer on that device), got {self.device!r}"
            )
        if not self.sample >= 0:
            raise ConfigError(f"sample must be >= 0 (0 turns subsampling off), got {self.sample}")
        if not self.alpha > 0:
            raise ConfigError(f"alpha must be > 0, got {self.alpha}")
        if not 0 <= self.min_alpha <= self.alpha:
            raise ConfigError(f"min_alpha must be in [0, alpha={self.alpha}], got {self.min_alpha}")

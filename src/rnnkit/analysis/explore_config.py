"""ExploreConfig: the settings of `rnnkit explore`.

This module imports no torch, so that `rnnkit explore --help` is quick; `rnnkit.analysis.explore`
runs the exploration.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class ExploreConfig:
    """Settings of `rnnkit explore`."""

    train_fraction: float = 0.9  # share of characters (cut at a line end) that builds the vocab
    min_freq: int = 2  # words seen fewer times in the train part map to <unk>
    hash_sizes: tuple[int, ...] = (1, 2, 3)  # letter n-gram sizes compared (Huang et al. 2013)
    n: int = 3  # n of the word hashing shown for the sample line
    num_speakers: int = 4  # main characters (most words spoken) shown with tf-idf words
    top_k: int = 6  # tf-idf words per speaker
    max_chars: int | None = None  # use only the start of the corpus (tests, quick looks)

    def __post_init__(self) -> None:
        if not 0.0 < self.train_fraction < 1.0:
            raise ConfigError(f"train_fraction must be in (0, 1), got {self.train_fraction}")
        for name in ("min_freq", "n", "num_speakers", "top_k"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be ≥ 1, got {getattr(self, name)}")
        if not self.hash_sizes or min(self.hash_sizes) < 1:
            raise ConfigError(f"hash_sizes must be positive integers, got {self.hash_sizes}")
        if self.max_chars is not None and self.max_chars < 1:
            raise ConfigError(f"max_chars must be None or ≥ 1, got {self.max_chars}")

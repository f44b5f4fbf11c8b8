"""Readers for public datasets, one module per source format, each citing source and licence."""

from rnnkit.datasets.gutenberg import (
    GutenbergBook,
    GutenbergCorpus,
    read_manifest,
    strip_boilerplate,
)

__all__ = ["GutenbergBook", "GutenbergCorpus", "read_manifest", "strip_boilerplate"]

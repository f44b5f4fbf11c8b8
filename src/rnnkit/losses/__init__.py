"""Losses of the sequence patterns: masked cross-entropy, binary cross-entropy, MSE/MAE.

Each loss is a mean over the valid (unpadded) entries of a batch; `valid_mask` says which.
"""

from rnnkit.losses.classification import binary_cross_entropy, cross_entropy
from rnnkit.losses.regression import masked_mae, masked_mse
from rnnkit.losses.sequence import (
    bits_per_char,
    perplexity,
    sequence_cross_entropy,
    valid_mask,
)

__all__ = [
    "binary_cross_entropy",
    "bits_per_char",
    "cross_entropy",
    "masked_mae",
    "masked_mse",
    "perplexity",
    "sequence_cross_entropy",
    "valid_mask",
]

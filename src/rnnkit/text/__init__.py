"""rnnkit.text: text -> tokens -> ids (tokenisers, Vocab, padding, bucketing, TBPTT chunks)."""

from rnnkit.text.batching import (
    BucketBatchSampler,
    lengths_to_mask,
    pad_sequences,
    stream_to_batches,
    tbptt_chunks,
)
from rnnkit.text.tokenize import (
    WORD_PATTERN,
    Tokenizer,
    char_tokenize,
    normalize_text,
    regex_tokenize,
    word_tokenize,
)
from rnnkit.text.vocab import DEFAULT_SPECIALS, Vocab

__all__ = [
    "DEFAULT_SPECIALS",
    "WORD_PATTERN",
    "BucketBatchSampler",
    "Tokenizer",
    "Vocab",
    "char_tokenize",
    "lengths_to_mask",
    "normalize_text",
    "pad_sequences",
    "regex_tokenize",
    "stream_to_batches",
    "tbptt_chunks",
    "word_tokenize",
]

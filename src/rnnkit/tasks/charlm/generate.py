"""Text from a language model and its vocabulary, sampled token by token.

The prime is read once, then each sampled token is fed back with the recurrent state carried
(`rnnkit.models.decoding`), so generation costs one step per token whatever the length. With no
prime, generation starts from a start token (`start_token`): a newline at character level, as
char-rnn does, and a sentence end (". ! ?") at word level, where no newline token exists.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

from rnnkit.errors import ConfigError
from rnnkit.models.decoding import SamplingConfig, beam_search, generate_tokens
from rnnkit.models.many_to_many import LanguageModel
from rnnkit.text.vocab import Vocab
from rnnkit.training.tensor_trees import map_tensors

logger = logging.getLogger(__name__)
SENTENCE_ENDS = (".", "!", "?")  # word level starts after the most frequent of these


def select_rows(state: Any, index: Tensor) -> Any:
    """Rows `index` of a layer state (L·D, B, H) or a pair of them, along the batch dim."""
    return map_tensors(state, lambda tensor: tensor.index_select(1, index.to(tensor.device)))


def start_token(vocab: Vocab) -> str:
    """The token generation starts from when no prime is given; always in `vocab`.

    Character level: a newline, so the sample opens a line (char-rnn). Word level: the most
    frequent sentence end of ". ! ?", so the sample opens a sentence (the corpus is one token
    stream with no <bos>); else the most frequent ordinary token. The model has seen what
    follows each.

    >>> from rnnkit.text.tokenize import Tokenizer
    >>> start_token(Vocab.build_from_iterator(["a cat. a dog!"], Tokenizer(kind="word")))
    '.'
    """
    kind = vocab.tokenizer.kind if vocab.tokenizer is not None else "char"
    preferred = ("\n",) if kind == "char" else SENTENCE_ENDS
    present = [token for token in preferred if token in vocab]
    if present:
        return min(present, key=vocab.token_to_id)  # ids of ordinary tokens follow frequency
    ordinary = [token for token in vocab.tokens if token not in vocab.specials]
    return ordinary[0] if ordinary else vocab.tokens[0]


def prime_ids(vocab: Vocab, prime: str) -> Tensor:
    """Ids (T,) of the prime, warning about tokens read as <unk>; the start token when empty.

    A prime with no token (empty, or only spaces at word level) starts from `start_token`.
    """
    tokens = vocab.tokenize(prime) if prime else []
    if not tokens:
        start = start_token(vocab)
        if prime:
            logger.warning("the prime %r holds no token; starting from %r instead", prime, start)
        return torch.tensor([vocab.token_to_id(start)])  # (1,)
    unknown = [token for token in dict.fromkeys(tokens) if token not in vocab]
    if unknown:
        shown = ", ".join(repr(token) for token in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        logger.warning(
            "the prime holds %d token(s) not in the vocabulary, read as <unk>: %s%s (the model"
            " knows only what its training text holds often enough)",
            len(unknown), shown, more,
        )  # fmt: skip
    return vocab.encode(tokens)  # (T,)


def generate_text(
    model: LanguageModel,
    vocab: Vocab,
    prime: str,
    length: int,
    sampling: SamplingConfig,
    *,
    seed: int | None = None,
    beam_size: int | None = None,
) -> Iterator[str]:
    """An iterator over the text of `length` generated tokens, one token at a time, after `prime`.

    The prime is checked at once (a warning names its unknown tokens); an empty prime starts from
    `start_token`, and then the first piece carries no separator. With `beam_size`, the whole
    continuation is found by beam search first and then yielded token by token.
    """
    if length < 0:
        raise ConfigError(f"length must be ≥ 0, got {length}")
    device = next(model.parameters()).device
    start_ids = prime_ids(vocab, prime).to(device)  # (T,) unknown tokens -> <unk>
    separator = vocab.tokenizer.separator if vocab.tokenizer is not None else ""
    generator = None
    if seed is not None:
        generator = torch.Generator(device=device).manual_seed(seed)
    return _stream(model, vocab, start_ids, length, sampling, generator, beam_size,
                   separators=(separator if prime else "", separator))  # fmt: skip


def _stream(
    model: LanguageModel,
    vocab: Vocab,
    start_ids: Tensor,
    length: int,
    sampling: SamplingConfig,
    generator: torch.Generator | None,
    beam_size: int | None,
    *,
    separators: tuple[str, str],
) -> Iterator[str]:
    """The pieces of `generate_text`: the first with separators[0] before it, the rest [1]."""
    with torch.no_grad():
        if beam_size is not None:
            ids: Any = beam_search(
                model.step, start_ids, length, beam_size=beam_size, select_state=select_rows
            )
        else:
            ids = generate_tokens(model.step, start_ids, length, sampling, generator=generator)
    tokens = iter(ids)
    separator = separators[0]
    while True:
        with torch.no_grad():  # around each step, never across a yield: grad mode is per thread
            token_id = next(tokens, None)
        if token_id is None:
            return
        yield f"{separator}{vocab.id_to_token(token_id)}"
        separator = separators[1]

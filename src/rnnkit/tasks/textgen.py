"""Text from a language model and its vocabulary, sampled token by token.

The prime is read once, then each sampled token is fed back with the recurrent state carried
(`rnnkit.models.decoding`), so generation costs one step per token whatever the length.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

from rnnkit.errors import ConfigError
from rnnkit.models.decoding import SamplingConfig, beam_search, generate_tokens
from rnnkit.models.many_to_many import LanguageModel
from rnnkit.text.vocab import Vocab
from rnnkit.training.program import map_tensors


def select_rows(state: Any, index: Tensor) -> Any:
    """Rows `index` of a layer state (L·D, B, H) or a pair of them, along the batch dim."""
    return map_tensors(state, lambda tensor: tensor.index_select(1, index.to(tensor.device)))


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
    """Yield the text of `length` generated tokens, one token at a time, after `prime`.

    An empty prime starts from a newline. With `beam_size`, the whole continuation is found by
    beam search first and then yielded token by token.
    """
    if length < 0:
        raise ConfigError(f"length must be ≥ 0, got {length}")
    device = next(model.parameters()).device
    prime_ids = vocab.encode(prime or "\n").to(device)  # (T,) unknown characters -> <unk>
    separator = vocab.tokenizer.separator if vocab.tokenizer is not None else ""
    generator = None
    if seed is not None:
        generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        if beam_size is not None:
            ids: Any = beam_search(
                model.step, prime_ids, length, beam_size=beam_size, select_state=select_rows
            )
        else:
            ids = generate_tokens(model.step, prime_ids, length, sampling, generator=generator)
    tokens = iter(ids)
    while True:
        with torch.no_grad():  # around each step, never across a yield: grad mode is per thread
            token_id = next(tokens, None)
        if token_id is None:
            return
        yield f"{separator}{vocab.id_to_token(token_id)}"
